#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace circuitlab::ops {

/// Label names and values of one sample, in the order they are written.
using Labels = std::vector<std::pair<std::string, std::string>>;

/// Upper bounds, in seconds, of the latency histogram buckets (the `+Inf` one is implied).
inline constexpr std::array<double, 12> latency_buckets{
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0};

/// Builds a Prometheus text exposition (format 0.0.4). Not thread-safe: one per scrape.
class PromText {
  public:
    /// Starts a metric family: `# HELP` and `# TYPE` lines. Call once per name, before its
    /// samples; `type` is counter, gauge, histogram or summary.
    void family(std::string_view name, std::string_view type, std::string_view help);

    /// One sample line `name{labels} value`.
    void sample(std::string_view name, const Labels& labels, double value);

    /// The text so far.
    const std::string& text() const { return text_; }

  private:
    std::string text_;
};

/// A latency histogram over latency_buckets, with count and sum. Thread-safe.
class Histogram {
  public:
    /// Adds one observation.
    void observe(std::chrono::nanoseconds elapsed);

    /// Writes `<name>_bucket`, `<name>_sum` and `<name>_count` samples with the labels.
    void write(PromText& out, std::string_view name, const Labels& labels) const;

    /// Observations so far.
    std::uint64_t count() const;

  private:
    mutable std::mutex mutex_;
    std::array<std::uint64_t, latency_buckets.size()> buckets_{};
    std::uint64_t count_ = 0;
    double sum_ = 0.0;
};

/// Histograms keyed by a label set, created on first use. Thread-safe.
class HistogramFamily {
  public:
    /// Adds one observation to the histogram of these labels.
    void observe(const Labels& labels, std::chrono::nanoseconds elapsed);

    /// Writes every histogram of the family (the caller wrote the family header).
    void write(PromText& out, std::string_view name) const;

  private:
    mutable std::mutex mutex_;
    std::map<Labels, Histogram> histograms_;
};

/// Counters keyed by a label set, created on first use. Thread-safe.
class CounterFamily {
  public:
    /// Adds `amount` to the counter of these labels.
    void add(const Labels& labels, std::uint64_t amount = 1);

    /// Writes every counter of the family (the caller wrote the family header).
    void write(PromText& out, std::string_view name) const;

    /// The counter of these labels; 0 when never added to.
    std::uint64_t value(const Labels& labels) const;

  private:
    mutable std::mutex mutex_;
    std::map<Labels, std::uint64_t> counters_;
};

}  // namespace circuitlab::ops
