#include "circuitlab/breaker/in_flight.hpp"

#include <chrono>

#include <gtest/gtest.h>

namespace circuitlab::breaker {
namespace {

using namespace std::chrono_literals;

const Clock::time_point t0{std::chrono::hours(1)};

TEST(InFlightTest, CountsCallsUntilTheyAreRemoved) {
    InFlight calls(300ms);
    const auto first = calls.add(t0);
    calls.add(t0);

    EXPECT_TRUE(calls.remove(first));

    EXPECT_EQ(calls.size(), 1u);
}

TEST(InFlightTest, CallsTurnSlowAtTheirAge) {
    InFlight calls(300ms);
    calls.add(t0);
    calls.add(t0 + 100ms);

    calls.age(t0 + 399ms);
    EXPECT_EQ(calls.slow(), 1u);

    calls.age(t0 + 400ms);
    EXPECT_EQ(calls.slow(), 2u);
}

TEST(InFlightTest, RemovingASlowCallLowersTheSlowCount) {
    InFlight calls(300ms);
    const auto first = calls.add(t0);
    calls.add(t0);
    calls.age(t0 + 1s);

    calls.remove(first);

    EXPECT_EQ(calls.slow(), 1u);
}

TEST(InFlightTest, RemovedCallsNeverTurnSlow) {
    InFlight calls(300ms);
    const auto first = calls.add(t0);
    calls.add(t0 + 100ms);
    const auto third = calls.add(t0 + 200ms);

    calls.remove(third);
    calls.remove(first);
    calls.age(t0 + 1s);

    EXPECT_EQ(calls.size(), 1u);
    EXPECT_EQ(calls.slow(), 1u);
}

TEST(InFlightTest, RemovingTwiceDoesNothing) {
    InFlight calls(300ms);
    const auto ticket = calls.add(t0);
    calls.add(t0);

    EXPECT_TRUE(calls.remove(ticket));
    EXPECT_FALSE(calls.remove(ticket));
    EXPECT_EQ(calls.size(), 1u);
}

TEST(InFlightTest, ClearForgetsTickets) {
    InFlight calls(300ms);
    const auto old_ticket = calls.add(t0);

    calls.clear();
    const auto new_ticket = calls.add(t0);

    EXPECT_FALSE(calls.remove(old_ticket));
    EXPECT_NE(old_ticket, new_ticket);
    EXPECT_EQ(calls.size(), 1u);
}

TEST(InFlightTest, NextSlowAtSkipsFinishedCalls) {
    InFlight calls(300ms);
    calls.add(t0);
    const auto second = calls.add(t0 + 100ms);
    calls.add(t0 + 200ms);
    calls.age(t0 + 300ms);

    calls.remove(second);

    EXPECT_EQ(calls.next_slow_at(), t0 + 500ms);
}

TEST(InFlightTest, NothingTurnsSlowWhenEmpty) {
    InFlight calls(300ms);
    calls.remove(calls.add(t0));

    EXPECT_EQ(calls.next_slow_at(), std::nullopt);
}

}  // namespace
}  // namespace circuitlab::breaker
