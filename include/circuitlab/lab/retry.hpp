#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>

namespace circuitlab::lab {

/// When and how often a failed call to the next hop is tried again.
struct RetryPolicy {
    /// Extra attempts after the first (RETRY_ATTEMPTS); 0 turns retries off.
    unsigned attempts = 0;

    /// Backoff before retry n (0-based) is uniform in [0, min(cap, base * 2^n)]: full jitter.
    std::chrono::milliseconds backoff_base{50};
    std::chrono::milliseconds backoff_cap{1000};

    /// Retries in flight may be at most this share, in percent, of the requests in flight at
    /// the hop (RETRY_BUDGET_PERCENT); nullopt: no budget, every retry may go.
    std::optional<double> budget_percent = 20.0;

    /// Retries in flight the budget always allows, however few requests there are.
    std::size_t budget_min = 3;
};

/// The wait before retry `retry` (0 for the first retry), given a uniform draw in [0, 1):
/// full jitter over min(cap, base * 2^retry).
std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, unsigned retry, double draw);

/// A uniform draw in [0, 1) from a per-thread generator.
double random_draw();

/// Counts the requests in flight at a hop and the retries among them, and enforces both the
/// bulkhead (at most `max_requests` in flight) and the retry budget. Thread-safe.
class HopLoad {
  public:
    /// A held place; releases it when destroyed. Move-only.
    class Slot {
      public:
        Slot() = default;
        Slot(Slot&& other) noexcept;
        Slot& operator=(Slot&& other) noexcept;
        Slot(const Slot&) = delete;
        Slot& operator=(const Slot&) = delete;
        ~Slot();

        /// Whether a place is held.
        explicit operator bool() const { return load_ != nullptr; }

      private:
        friend class HopLoad;
        Slot(HopLoad* load, bool retry) : load_(load), retry_(retry) {}
        void release();

        HopLoad* load_ = nullptr;
        bool retry_ = false;
    };

    /// `max_requests` of 0 means no bulkhead.
    HopLoad(std::size_t max_requests, RetryPolicy policy);

    /// A place for a new request, or an empty slot when the bulkhead is full.
    Slot enter();

    /// A place for one retry (its backoff and its attempt), or an empty slot when the
    /// budget is spent. Only a request holding an entered slot should ask.
    Slot retry();

    /// Requests in flight now.
    std::size_t requests() const;

    /// Retries in flight now (waiting out their backoff or being tried).
    std::size_t retries() const;

    /// The most retries that were ever in flight at once.
    std::size_t peak_retries() const;

  private:
    std::size_t retry_allowance() const;
    void leave(bool retry);

    const std::size_t max_requests_;
    const RetryPolicy policy_;
    mutable std::mutex mutex_;
    std::size_t requests_ = 0;
    std::size_t retries_ = 0;
    std::size_t peak_retries_ = 0;
};

}  // namespace circuitlab::lab
