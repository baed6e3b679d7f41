#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace circuitlab::breaker {

/// Counts of the calls a window holds.
struct WindowCounts {
    std::size_t calls = 0;
    std::size_t failures = 0;
    std::size_t slow_calls = 0;

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

}  // namespace circuitlab::breaker
