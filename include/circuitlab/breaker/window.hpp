#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "circuitlab/breaker/breaker_config.hpp"
#include "circuitlab/breaker/clock.hpp"

namespace circuitlab::breaker {

/// Counts of the calls a window holds.
struct WindowCounts {
    std::size_t calls = 0;
    std::size_t failures = 0;
    std::size_t slow_calls = 0;
    std::size_t slow_failures = 0;  ///< Calls both slow and failed (also in the two above).

    /// Failure rate in percent; nullopt when the window is empty.
    std::optional<double> failure_rate() const;

    /// Slow-call rate in percent; nullopt when the window is empty.
    std::optional<double> slow_call_rate() const;
};

/// Count-based sliding window: the results of the last `size` calls. Not thread-safe;
/// the breaker guards it.
class CountWindow {
  public:
    /// A window of `size` calls (>= 1).
    explicit CountWindow(std::size_t size);

    /// Adds one result, pushing out the oldest when full.
    void record(bool failure, bool slow);

    /// Forgets every result.
    void clear();

    const WindowCounts& counts() const { return counts_; }

    std::size_t size() const { return slots_.size(); }

  private:
    struct Slot {
        bool failure = false;
        bool slow = false;
    };

    std::vector<Slot> slots_;
    std::size_t next_ = 0;
    WindowCounts counts_;
};

/// Time-based sliding window: the results of the current second and the `seconds - 1`
/// before it, in one bucket per second, aged against the time passed in. Not thread-safe;
/// the breaker guards it. Time must not go backwards.
class TimeWindow {
  public:
    /// A window of `seconds` one-second buckets (>= 1).
    explicit TimeWindow(std::size_t seconds);

    /// Adds one result to the bucket of `now`, after dropping buckets that aged out.
    void record(Clock::time_point now, bool failure, bool slow);

    /// Drops the buckets older than the window as of `now`.
    void age(Clock::time_point now);

    /// Forgets every result.
    void clear();

    /// Counts as of the last record() or age(); call age() first for counts as of now.
    const WindowCounts& counts() const { return counts_; }

    /// Number of one-second buckets.
    std::size_t size() const { return buckets_.size(); }

  private:
    void drop(WindowCounts& bucket);

    std::vector<WindowCounts> buckets_;
    std::int64_t head_second_ = 0;  ///< Newest second seen; buckets past the window are empty.
    bool started_ = false;
    WindowCounts counts_;
};

/// The sliding window of a closed breaker: count- or time-based, chosen by the config.
/// A variant rather than an interface, so recording makes no virtual call.
class SlidingWindow {
  public:
    /// The window the config asks for.
    SlidingWindow(WindowType type, std::size_t size);

    /// Adds one result at `now` (a count window ignores the time).
    void record(Clock::time_point now, bool failure, bool slow);

    /// Counts as of `now`: a time window first drops what aged out.
    const WindowCounts& counts(Clock::time_point now);

    /// Counts as of the last record() or counts(now), without aging.
    const WindowCounts& counts() const;

    /// Forgets every result.
    void clear();

  private:
    std::variant<CountWindow, TimeWindow> window_;
};

}  // namespace circuitlab::breaker
