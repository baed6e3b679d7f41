#include "circuitlab/lab/breaker_poller.hpp"

#include <algorithm>
#include <utility>

#include <boost/asio/post.hpp>

namespace circuitlab::lab {

namespace net = boost::asio;
using std::chrono::milliseconds;

BreakerPoller::BreakerPoller(const net::any_io_executor& executor,
                             std::vector<std::shared_ptr<breaker::CircuitBreaker>> breakers,
                             const breaker::Clock& clock,
                             milliseconds max_period)
    : strand_(net::make_strand(executor)),
      timer_(strand_),
      breakers_(std::move(breakers)),
      clock_(clock),
      max_period_(std::max(max_period, milliseconds(1))) {}

void BreakerPoller::start() {
    net::post(strand_, [this] {
        if (!running_) {
            running_ = true;
            schedule();
        }
    });
}

void BreakerPoller::stop() {
    net::post(strand_, [this] {
        running_ = false;
        timer_.cancel();
    });
}

milliseconds BreakerPoller::poll_all() {
    milliseconds wait = max_period_;
    for (const auto& breaker : breakers_) {
        const auto next = breaker->poll();
        if (next) {
            const auto left = std::chrono::ceil<milliseconds>(*next - clock_.now());
            wait = std::min(wait, left);
        }
    }
    // A deadline just passed still needs time to move forward: never spin.
    return std::max(wait, milliseconds(1));
}

void BreakerPoller::schedule() {
    timer_.expires_after(poll_all());
    timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec && running_) {
            schedule();
        }
    });
}

}  // namespace circuitlab::lab
