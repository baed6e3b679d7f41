#pragma once

#include <atomic>
#include <chrono>

#include "circuitlab/breaker/clock.hpp"

namespace circuitlab::testing {

/// A clock that moves only when told to. Safe to read from several threads.
class FakeClock final : public breaker::Clock {
  public:
    time_point now() const override { return time_point(duration(ticks_.load())); }

    /// Moves time forward.
    void advance(duration step) { ticks_ += step.count(); }

  private:
    std::atomic<duration::rep> ticks_{duration(std::chrono::hours(1)).count()};
};

}  // namespace circuitlab::testing
