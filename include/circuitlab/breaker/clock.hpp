#pragma once

#include <chrono>

namespace circuitlab::breaker {

/// Source of time for the breaker. Production uses SteadyClock; tests drive a fake clock,
/// so no breaker test ever sleeps.
class Clock {
  public:
    using duration = std::chrono::steady_clock::duration;
    using time_point = std::chrono::steady_clock::time_point;

    virtual ~Clock() = default;

    /// Current time. Must be monotonic and safe to call from any thread.
    virtual time_point now() const = 0;
};

/// The process's monotonic clock.
class SteadyClock final : public Clock {
  public:
    time_point now() const override { return std::chrono::steady_clock::now(); }
};

}  // namespace circuitlab::breaker
