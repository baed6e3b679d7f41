#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "circuitlab/breaker/circuit_breaker.hpp"
#include "circuitlab/breaker/clock.hpp"

namespace circuitlab::lab {

/// Polls a process's breakers on one Asio timer, so their deadlines (automatic half-open,
/// the half-open timeout, the in-flight trip) apply, and their transitions are logged, even
/// when no call arrives. The timer sleeps until the earliest deadline the breakers report,
/// but never longer than `max_period`, because calls can bring a deadline forward.
/// start() and stop() may be called from any thread; the timer runs on a strand.
class BreakerPoller {
  public:
    /// Does nothing until start(). The breakers and the clock must outlive the poller's
    /// timer: stop it (or stop the io_context) before they go.
    BreakerPoller(const boost::asio::any_io_executor& executor,
                  std::vector<std::shared_ptr<breaker::CircuitBreaker>> breakers,
                  const breaker::Clock& clock,
                  std::chrono::milliseconds max_period = std::chrono::milliseconds(100));

    /// Polls once at once, then keeps polling until stop().
    void start();

    /// Cancels the timer; no poll runs after the strand has handled the stop.
    void stop();

    /// Polls every breaker now and returns how long to wait before the next poll
    /// (at least 1 ms, at most max_period). Runs on the caller's thread.
    std::chrono::milliseconds poll_all();

  private:
    void schedule();

    boost::asio::strand<boost::asio::any_io_executor> strand_;
    boost::asio::steady_timer timer_;
    std::vector<std::shared_ptr<breaker::CircuitBreaker>> breakers_;
    const breaker::Clock& clock_;
    std::chrono::milliseconds max_period_;
    bool running_ = false;  ///< Touched on the strand only.
};

}  // namespace circuitlab::lab
