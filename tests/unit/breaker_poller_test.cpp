#include "circuitlab/lab/breaker_poller.hpp"

#include <chrono>
#include <memory>
#include <variant>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

#include "support/fake_clock.hpp"

namespace circuitlab::lab {
namespace {

using namespace std::chrono_literals;
using breaker::BreakerConfig;
using breaker::CircuitBreaker;
using breaker::Outcome;
using breaker::State;

BreakerConfig auto_config(std::chrono::milliseconds wait) {
    BreakerConfig config;
    config.minimum_calls = 1;
    config.wait_in_open = wait;
    config.auto_half_open = true;
    return config;
}

void trip(CircuitBreaker& breaker) {
    auto admission = breaker.try_acquire();
    std::get<breaker::Permit>(admission).complete(Outcome::failure);
    ASSERT_EQ(breaker.state(), State::open);
}

TEST(BreakerPollerTest, WaitsUntilTheEarliestDeadline) {
    testing::FakeClock clock;
    boost::asio::io_context io;
    auto slow = CircuitBreaker::create("slow", auto_config(5s), clock);
    auto quick = CircuitBreaker::create("quick", auto_config(40ms), clock);
    trip(*slow);
    trip(*quick);

    BreakerPoller poller(io.get_executor(), {slow, quick}, clock, 100ms);

    EXPECT_EQ(poller.poll_all(), 40ms);
}

TEST(BreakerPollerTest, WaitsAtMostTheMaxPeriod) {
    testing::FakeClock clock;
    boost::asio::io_context io;
    auto idle = CircuitBreaker::create("idle", auto_config(5s), clock);

    BreakerPoller poller(io.get_executor(), {idle}, clock, 100ms);

    EXPECT_EQ(poller.poll_all(), 100ms);
}

TEST(BreakerPollerTest, PollAllAppliesDueDeadlines) {
    testing::FakeClock clock;
    boost::asio::io_context io;
    auto breaker = CircuitBreaker::create("b", auto_config(2s), clock);
    trip(*breaker);
    BreakerPoller poller(io.get_executor(), {breaker}, clock);

    clock.advance(2s);
    poller.poll_all();

    EXPECT_EQ(breaker->snapshot().generation, 2u);  // closed -> open -> half_open
}

// The real timer on the real clock: the state moves with no call. Generous margin.
TEST(BreakerPollerTest, TimerMovesAnOpenBreakerToHalfOpenWithNoTraffic) {
    breaker::SteadyClock clock;
    boost::asio::io_context io;
    std::vector<State> seen;
    auto breaker =
        CircuitBreaker::create("b", auto_config(30ms), clock, [&](const breaker::Transition& t) {
            seen.push_back(t.to);
            if (t.to == State::half_open) {
                io.stop();
            }
        });
    trip(*breaker);
    BreakerPoller poller(io.get_executor(), {breaker}, clock);

    poller.start();
    io.run_for(10s);

    EXPECT_EQ(seen, (std::vector<State>{State::open, State::half_open}));
}

TEST(BreakerPollerTest, StopEndsThePolling) {
    breaker::SteadyClock clock;
    boost::asio::io_context io;
    auto breaker = CircuitBreaker::create("b", auto_config(30ms), clock);
    BreakerPoller poller(io.get_executor(), {breaker}, clock);

    poller.start();
    poller.stop();
    io.run_for(10s);  // returns as soon as no work is left

    EXPECT_TRUE(io.stopped());
}

}  // namespace
}  // namespace circuitlab::lab
