#include "circuitlab/breaker/circuit_breaker.hpp"

#include <chrono>
#include <memory>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include "support/fake_clock.hpp"

namespace circuitlab::breaker {
namespace {

using namespace std::chrono_literals;
using testing::FakeClock;

class CircuitBreakerTest : public ::testing::Test {
protected:
    CircuitBreakerTest() {
        config_.window_size = 10;
        config_.minimum_calls = 5;
        config_.failure_rate_threshold = 50.0;
        config_.slow_call_rate_threshold = 100.0;
        config_.slow_call_duration = 1s;
        config_.wait_in_open = 2s;
        config_.half_open_calls = 3;
        config_.max_wait_in_half_open = 3s;
    }

    std::shared_ptr<CircuitBreaker> make() {
        return CircuitBreaker::create("midline->backline", config_, clock_,
                                      [this](const Transition& t) { events_.push_back(t); });
    }

    // Makes one call through the breaker with the given outcome; false when rejected.
    bool call(CircuitBreaker& breaker, Outcome outcome) {
        auto admission = breaker.try_acquire();
        auto* permit = std::get_if<Permit>(&admission);
        if (permit == nullptr) {
            return false;
        }
        permit->complete(outcome);
        return true;
    }

    void calls(CircuitBreaker& breaker, Outcome outcome, int count) {
        for (int i = 0; i < count; ++i) {
            ASSERT_TRUE(call(breaker, outcome));
        }
    }

    Permit acquire(CircuitBreaker& breaker) {
        auto admission = breaker.try_acquire();
        EXPECT_TRUE(std::holds_alternative<Permit>(admission));
        return std::move(std::get<Permit>(admission));
    }

    void trip(CircuitBreaker& breaker) {
        calls(breaker, Outcome::failure, static_cast<int>(config_.minimum_calls));
        ASSERT_EQ(breaker.state(), State::open);
    }

    BreakerConfig config_;
    FakeClock clock_;
    std::vector<Transition> events_;
};

TEST_F(CircuitBreakerTest, StartsClosedAndPermitsCalls) {
    auto breaker = make();

    EXPECT_EQ(breaker->state(), State::closed);
    EXPECT_TRUE(call(*breaker, Outcome::success));
    EXPECT_TRUE(events_.empty());
}

TEST_F(CircuitBreakerTest, StaysClosedBeforeMinimumCallsEvenIfAllFail) {
    auto breaker = make();

    calls(*breaker, Outcome::failure, 4);

    EXPECT_EQ(breaker->state(), State::closed);
    EXPECT_EQ(breaker->snapshot().window.failures, 4u);
}

TEST_F(CircuitBreakerTest, OpensAtMinimumCallsWhenFailureRateReached) {
    auto breaker = make();

    calls(*breaker, Outcome::failure, 5);

    ASSERT_EQ(events_.size(), 1u);
    EXPECT_EQ(events_[0].from, State::closed);
    EXPECT_EQ(events_[0].to, State::open);
    EXPECT_EQ(events_[0].reason, "failure rate 100.0% >= 50.0% over 5 calls");
    EXPECT_EQ(events_[0].window.calls, 5u);
    EXPECT_EQ(events_[0].window.failures, 5u);
}

TEST_F(CircuitBreakerTest, ExactThresholdEqualityTrips) {
    auto breaker = make();

    calls(*breaker, Outcome::success, 5);
    calls(*breaker, Outcome::failure, 4);
    EXPECT_EQ(breaker->state(), State::closed);  // 4 of 9 = 44.4%

    calls(*breaker, Outcome::failure, 1);  // 5 of 10 = exactly 50%

    EXPECT_EQ(breaker->state(), State::open);
    EXPECT_EQ(events_.back().reason, "failure rate 50.0% >= 50.0% over 10 calls");
}

TEST_F(CircuitBreakerTest, JustUnderThresholdStaysClosed) {
    config_.failure_rate_threshold = 60.0;
    auto breaker = make();

    calls(*breaker, Outcome::success, 5);
    calls(*breaker, Outcome::failure, 5);  // 50% < 60%

    EXPECT_EQ(breaker->state(), State::closed);
}

TEST_F(CircuitBreakerTest, WindowForgetsOldestCalls) {
    auto breaker = make();

    calls(*breaker, Outcome::failure, 4);
    calls(*breaker, Outcome::success, 1);  // 4 of 5 failed: opens
    ASSERT_EQ(breaker->state(), State::open);

    config_.minimum_calls = 10;
    auto fresh = make();
    calls(*fresh, Outcome::failure, 4);
    calls(*fresh, Outcome::success, 16);  // the 4 failures slid out
    EXPECT_EQ(fresh->snapshot().window.failures, 0u);
    EXPECT_EQ(fresh->snapshot().window.calls, 10u);
}

TEST_F(CircuitBreakerTest, OpensAfterConsecutiveFailuresBeforeMinimumCalls) {
    config_.consecutive_failures = 3;
    config_.minimum_calls = 10;
    auto breaker = make();

    calls(*breaker, Outcome::failure, 2);
    calls(*breaker, Outcome::success, 1);  // breaks the run
    calls(*breaker, Outcome::failure, 3);

    EXPECT_EQ(breaker->state(), State::open);
    EXPECT_EQ(events_.back().reason, "3 consecutive failures");
}

TEST_F(CircuitBreakerTest, OpensOnSlowCallRate) {
    config_.slow_call_duration = 300ms;
    config_.slow_call_rate_threshold = 50.0;
    auto breaker = make();

    for (int i = 0; i < 5; ++i) {
        Permit permit = acquire(*breaker);
        clock_.advance(500ms);
        permit.complete(Outcome::success);
    }

    EXPECT_EQ(breaker->state(), State::open);
    EXPECT_EQ(events_.back().reason, "slow-call rate 100.0% >= 50.0% over 5 calls");
}

TEST_F(CircuitBreakerTest, RejectsWhileOpenWithTimeLeft) {
    auto breaker = make();
    trip(*breaker);

    clock_.advance(500ms);
    auto admission = breaker->try_acquire();

    ASSERT_TRUE(std::holds_alternative<Rejection>(admission));
    EXPECT_EQ(std::get<Rejection>(admission).state, State::open);
    EXPECT_EQ(std::get<Rejection>(admission).retry_after, 1500ms);
}

TEST_F(CircuitBreakerTest, SnapshotShowsProbeDueWithoutPretendingHalfOpen) {
    auto breaker = make();
    trip(*breaker);

    clock_.advance(700ms);
    EXPECT_EQ(breaker->snapshot().next_probe_in, 1300ms);

    clock_.advance(5s);
    EXPECT_EQ(breaker->snapshot().state, State::open);
    EXPECT_EQ(breaker->snapshot().next_probe_in, 0ms);
}

TEST_F(CircuitBreakerTest, FirstCallAfterWaitMovesToHalfOpen) {
    auto breaker = make();
    trip(*breaker);

    clock_.advance(2s);
    Permit trial = acquire(*breaker);

    EXPECT_EQ(breaker->state(), State::half_open);
    EXPECT_EQ(events_.back().reason, "wait of 2.0 s over");
}

TEST_F(CircuitBreakerTest, HalfOpenAdmitsExactlyTheTrialCallsAndRejectsTheNext) {
    auto breaker = make();
    trip(*breaker);
    clock_.advance(2s);

    std::vector<Permit> trials;
    for (int i = 0; i < 3; ++i) {
        trials.push_back(acquire(*breaker));
    }
    auto fourth = breaker->try_acquire();

    ASSERT_TRUE(std::holds_alternative<Rejection>(fourth));
    EXPECT_EQ(std::get<Rejection>(fourth).state, State::half_open);
    EXPECT_EQ(breaker->snapshot().trials_in_flight, 3u);
}

TEST_F(CircuitBreakerTest, SuccessfulTrialsCloseWithAFreshWindow) {
    auto breaker = make();
    trip(*breaker);
    clock_.advance(2s);

    calls(*breaker, Outcome::success, 3);

    EXPECT_EQ(breaker->state(), State::closed);
    EXPECT_EQ(events_.back().reason, "trial failure rate 0.0% < 50.0% over 3 calls");
    EXPECT_EQ(breaker->snapshot().window.calls, 0u);
}

TEST_F(CircuitBreakerTest, FailedTrialsReopenForAnotherWait) {
    auto breaker = make();
    trip(*breaker);
    clock_.advance(2s);

    calls(*breaker, Outcome::failure, 2);
    calls(*breaker, Outcome::success, 1);

    EXPECT_EQ(breaker->state(), State::open);
    EXPECT_EQ(events_.back().reason, "trial failure rate 66.7% >= 50.0% over 3 calls");
    EXPECT_EQ(breaker->snapshot().next_probe_in, 2s);
}

TEST_F(CircuitBreakerTest, HalfOpenTimesOutToOpenWhenTrialsDoNotFinish) {
    auto breaker = make();
    trip(*breaker);
    clock_.advance(2s);
    Permit hung = acquire(*breaker);

    clock_.advance(3s);

    EXPECT_EQ(breaker->state(), State::open);
    EXPECT_EQ(events_.back().from, State::half_open);
    EXPECT_EQ(events_.back().reason, "3 of 3 trial calls unfinished after 3.0 s");
}

TEST_F(CircuitBreakerTest, LateResultFromPreviousGenerationChangesNothing) {
    auto breaker = make();
    Permit slow_call = acquire(*breaker);  // permitted while closed
    trip(*breaker);
    clock_.advance(2s);
    calls(*breaker, Outcome::success, 3);  // half-open, then closed again
    ASSERT_EQ(breaker->state(), State::closed);
    const auto before = breaker->snapshot();

    slow_call.complete(Outcome::failure);

    const auto after = breaker->snapshot();
    EXPECT_EQ(after.window.calls, before.window.calls);
    EXPECT_EQ(after.window.failures, 0u);
    EXPECT_EQ(after.generation, before.generation);
}

TEST_F(CircuitBreakerTest, LateTrialResultAfterHalfOpenTimeoutIsDropped) {
    auto breaker = make();
    trip(*breaker);
    clock_.advance(2s);
    Permit hung = acquire(*breaker);
    clock_.advance(3s);
    ASSERT_EQ(breaker->state(), State::open);
    const std::size_t transitions = events_.size();

    hung.complete(Outcome::success);

    EXPECT_EQ(breaker->state(), State::open);
    EXPECT_EQ(events_.size(), transitions);
}

TEST_F(CircuitBreakerTest, IgnoredTrialFreesItsSlot) {
    auto breaker = make();
    trip(*breaker);
    clock_.advance(2s);

    calls(*breaker, Outcome::ignored, 5);  // never fills the trial window
    EXPECT_EQ(breaker->state(), State::half_open);
    calls(*breaker, Outcome::success, 3);

    EXPECT_EQ(breaker->state(), State::closed);
}

TEST_F(CircuitBreakerTest, PermitDroppedWithoutOutcomeCountsAsIgnored) {
    auto breaker = make();
    trip(*breaker);
    clock_.advance(2s);
    {
        Permit abandoned = acquire(*breaker);
    }

    EXPECT_EQ(breaker->snapshot().trials_in_flight, 0u);
    calls(*breaker, Outcome::success, 3);
    EXPECT_EQ(breaker->state(), State::closed);
}

TEST_F(CircuitBreakerTest, IgnoredOutcomesTouchNoCount) {
    auto breaker = make();

    calls(*breaker, Outcome::ignored, 20);

    EXPECT_EQ(breaker->snapshot().window.calls, 0u);
}

TEST_F(CircuitBreakerTest, CompletingTwiceCountsOnce) {
    auto breaker = make();
    Permit permit = acquire(*breaker);

    permit.complete(Outcome::failure);
    permit.complete(Outcome::failure);

    EXPECT_EQ(breaker->snapshot().window.calls, 1u);
}

TEST_F(CircuitBreakerTest, ForcedOpenRejectsEverything) {
    auto breaker = make();

    ASSERT_TRUE(breaker->force(State::forced_open));
    clock_.advance(1h);

    EXPECT_FALSE(call(*breaker, Outcome::success));
    EXPECT_EQ(breaker->state(), State::forced_open);
}

TEST_F(CircuitBreakerTest, DisabledPermitsAndRecordsNothing) {
    auto breaker = make();
    ASSERT_TRUE(breaker->force(State::disabled));

    calls(*breaker, Outcome::failure, 50);

    EXPECT_EQ(breaker->state(), State::disabled);
    EXPECT_EQ(breaker->snapshot().window.calls, 0u);
}

TEST_F(CircuitBreakerTest, MetricsOnlyRecordsButNeverTrips) {
    auto breaker = make();
    ASSERT_TRUE(breaker->force(State::metrics_only));

    calls(*breaker, Outcome::failure, 50);

    EXPECT_EQ(breaker->state(), State::metrics_only);
    EXPECT_EQ(breaker->snapshot().window.failures, 10u);
}

TEST_F(CircuitBreakerTest, ClosingAForcedStateStartsAFreshWindow) {
    auto breaker = make();
    ASSERT_TRUE(breaker->force(State::metrics_only));
    calls(*breaker, Outcome::failure, 10);

    ASSERT_TRUE(breaker->force(State::closed, "reset by operator"));

    EXPECT_EQ(breaker->state(), State::closed);
    EXPECT_EQ(breaker->snapshot().window.calls, 0u);
    EXPECT_EQ(events_.back().reason, "reset by operator");
}

TEST_F(CircuitBreakerTest, HalfOpenCannotBeForced) {
    auto breaker = make();

    EXPECT_FALSE(breaker->force(State::half_open));
    EXPECT_EQ(breaker->state(), State::closed);
    EXPECT_TRUE(events_.empty());
}

TEST_F(CircuitBreakerTest, EveryTransitionBumpsTheGenerationOnce) {
    auto breaker = make();
    trip(*breaker);
    clock_.advance(2s);
    calls(*breaker, Outcome::success, 3);

    ASSERT_EQ(events_.size(), 3u);
    EXPECT_EQ(events_[0].generation, 1u);
    EXPECT_EQ(events_[1].generation, 2u);
    EXPECT_EQ(events_[2].generation, 3u);
    EXPECT_EQ(breaker->snapshot().generation, 3u);
}

TEST_F(CircuitBreakerTest, DescribeRendersTheTransitionLine) {
    Transition transition{"midline->backline", State::closed, State::open,
                          "failure rate 60.0% >= 50.0% over 10 calls", {}, 1};

    EXPECT_EQ(describe(transition),
              "breaker midline->backline: closed -> open "
              "(failure rate 60.0% >= 50.0% over 10 calls)");
}

// The whole diagram once, as a user would watch it in the lab.
TEST_F(CircuitBreakerTest, WalksTheWholeDiagram) {
    auto breaker = make();

    // closed -> open: five failures reach the minimum at 100%.
    trip(*breaker);
    // open: rejected until the wait is over.
    clock_.advance(1999ms);
    EXPECT_FALSE(call(*breaker, Outcome::success));
    // open -> half_open on the first call after 2 s; that trial fails with two others.
    clock_.advance(1ms);
    calls(*breaker, Outcome::failure, 3);
    // half_open -> open: the trials failed.
    EXPECT_EQ(breaker->state(), State::open);
    // open -> half_open -> closed: another wait, three good trials.
    clock_.advance(2s);
    calls(*breaker, Outcome::success, 3);
    EXPECT_EQ(breaker->state(), State::closed);

    std::vector<std::pair<State, State>> moves;
    for (const auto& t : events_) {
        moves.emplace_back(t.from, t.to);
    }
    const std::vector<std::pair<State, State>> expected{
        {State::closed, State::open},    {State::open, State::half_open},
        {State::half_open, State::open}, {State::open, State::half_open},
        {State::half_open, State::closed},
    };
    EXPECT_EQ(moves, expected);
}

TEST(BreakerConfigTest, DefaultsAreValid) { EXPECT_FALSE(validate(BreakerConfig{}).has_value()); }

TEST(BreakerConfigTest, MinimumCallsAboveWindowIsRejected) {
    BreakerConfig config;
    config.minimum_calls = config.window_size + 1;

    EXPECT_EQ(validate(config), "minimum_calls must be between 1 and window_size");
}

TEST(BreakerConfigTest, ThresholdOutsidePercentIsRejected) {
    BreakerConfig config;
    config.failure_rate_threshold = 0.0;

    EXPECT_EQ(validate(config), "failure_rate_threshold must be in (0, 100]");
}

}  // namespace
}  // namespace circuitlab::breaker
