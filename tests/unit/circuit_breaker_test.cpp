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
        return CircuitBreaker::create(
            "midline->backline", config_, clock_, [this](const Transition& t) {
                events_.push_back(t);
            });
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
    { Permit abandoned = acquire(*breaker); }

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
    Transition transition{"midline->backline",
                          State::closed,
                          State::open,
                          "failure rate 60.0% >= 50.0% over 10 calls",
                          {},
                          1};

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
        {State::closed, State::open},
        {State::open, State::half_open},
        {State::half_open, State::open},
        {State::open, State::half_open},
        {State::half_open, State::closed},
    };
    EXPECT_EQ(moves, expected);
}

TEST(BreakerConfigTest, DefaultsAreValid) {
    EXPECT_FALSE(validate(BreakerConfig{}).has_value());
}

TEST(BreakerConfigTest, MinimumCallsAboveWindowIsRejected) {
    BreakerConfig config;
    config.minimum_calls = config.window_size + 1;

    EXPECT_EQ(validate(config), "minimum_calls must be at most window_size for a count window");
}

TEST(BreakerConfigTest, ThresholdOutsidePercentIsRejected) {
    BreakerConfig config;
    config.failure_rate_threshold = 0.0;

    EXPECT_EQ(validate(config), "failure_rate_threshold must be in (0, 100]");
}

// --- Scenarios from the field (shared/cases/breaker-scenarios.md) -----------------------

// C1: just after the wait, a burst of 50 finds exactly the trial calls let through.
TEST_F(CircuitBreakerTest, HalfOpenStampedeLetsOnlyTheTrialsThrough) {
    auto breaker = make();
    trip(*breaker);
    clock_.advance(2s);

    std::vector<Permit> trials;
    int rejected = 0;
    for (int i = 0; i < 50; ++i) {
        auto admission = breaker->try_acquire();
        if (auto* permit = std::get_if<Permit>(&admission)) {
            trials.push_back(std::move(*permit));
        } else {
            ++rejected;
        }
    }
    for (Permit& trial : trials) {
        trial.complete(Outcome::success);
    }

    EXPECT_EQ(trials.size(), 3u);
    EXPECT_EQ(rejected, 47);
    EXPECT_EQ(breaker->state(), State::closed);
}

// C2: ignored answers free their slots but cannot keep the breaker half-open.
TEST_F(CircuitBreakerTest, IgnoredTrialsCannotKeepHalfOpenPastTheMaxWait) {
    auto breaker = make();
    trip(*breaker);
    clock_.advance(2s);

    for (int i = 0; i < 30; ++i) {
        ASSERT_TRUE(call(*breaker, Outcome::ignored));
        clock_.advance(100ms);
    }

    EXPECT_EQ(breaker->state(), State::open);
    EXPECT_EQ(events_.back().reason, "3 of 3 trial calls unfinished after 3.0 s");
}

// C3: a wave sent before anything failed all goes out; the trip stops the next wave.
TEST_F(CircuitBreakerTest, AWaveInFlightAllGoesOutBeforeTheTrip) {
    config_.consecutive_failures = 5;
    auto breaker = make();
    std::vector<Permit> wave;
    for (int i = 0; i < 50; ++i) {
        wave.push_back(acquire(*breaker));
    }

    clock_.advance(900ms);
    for (Permit& permit : wave) {
        permit.complete(Outcome::failure);
    }
    int rejected = 0;
    for (int i = 0; i < 50; ++i) {
        rejected += std::holds_alternative<Rejection>(breaker->try_acquire()) ? 1 : 0;
    }

    EXPECT_EQ(events_.size(), 1u);
    EXPECT_EQ(events_[0].reason, "5 consecutive failures");
    EXPECT_EQ(rejected, 50);
}

// --- Slow calls ---------------------------------------------------------------------

TEST_F(CircuitBreakerTest, TimeoutCountsAsFailureAndSlow) {
    auto breaker = make();

    Permit permit = acquire(*breaker);
    clock_.advance(1s);
    permit.complete(Outcome::failure);

    EXPECT_EQ(breaker->snapshot().window.failures, 1u);
    EXPECT_EQ(breaker->snapshot().window.slow_calls, 1u);
}

TEST_F(CircuitBreakerTest, CallJustUnderSlowDurationIsNotSlow) {
    auto breaker = make();

    Permit permit = acquire(*breaker);
    clock_.advance(999ms);
    permit.complete(Outcome::success);

    EXPECT_EQ(breaker->snapshot().window.slow_calls, 0u);
}

TEST_F(CircuitBreakerTest, SlowRateBelowThresholdStaysClosed) {
    config_.slow_call_duration = 300ms;
    config_.slow_call_rate_threshold = 50.0;
    auto breaker = make();

    for (int i = 0; i < 5; ++i) {
        Permit permit = acquire(*breaker);
        clock_.advance(i < 2 ? 300ms : 299ms);
        permit.complete(Outcome::success);
    }

    EXPECT_EQ(breaker->state(), State::closed);  // 2 of 5 = 40% < 50%
    EXPECT_EQ(breaker->snapshot().window.slow_calls, 2u);
}

// --- Time-based window -----------------------------------------------------------------

TEST_F(CircuitBreakerTest, TimeWindowOpensOnTheFailuresOfItsSeconds) {
    config_.window_type = WindowType::time;
    config_.window_size = 10;
    auto breaker = make();

    calls(*breaker, Outcome::success, 3);
    clock_.advance(4s);
    calls(*breaker, Outcome::failure, 3);

    EXPECT_EQ(breaker->state(), State::open);
    EXPECT_EQ(events_.back().reason, "failure rate 50.0% >= 50.0% over 6 calls");
}

TEST_F(CircuitBreakerTest, TimeWindowForgetsCallsOlderThanItsSeconds) {
    config_.window_type = WindowType::time;
    config_.window_size = 10;
    auto breaker = make();

    calls(*breaker, Outcome::failure, 4);
    clock_.advance(10s);
    calls(*breaker, Outcome::failure, 1);

    EXPECT_EQ(breaker->state(), State::closed);
    EXPECT_EQ(breaker->snapshot().window.calls, 1u);
}

TEST_F(CircuitBreakerTest, TimeWindowSnapshotAgesWithNoTraffic) {
    config_.window_type = WindowType::time;
    config_.window_size = 5;
    auto breaker = make();

    calls(*breaker, Outcome::success, 3);
    clock_.advance(5s);

    EXPECT_EQ(breaker->snapshot().window.calls, 0u);
}

TEST_F(CircuitBreakerTest, TimeWindowWaitsForMinimumCalls) {
    config_.window_type = WindowType::time;
    config_.window_size = 2;
    config_.minimum_calls = 8;
    auto breaker = make();

    calls(*breaker, Outcome::failure, 7);
    EXPECT_EQ(breaker->state(), State::closed);

    calls(*breaker, Outcome::failure, 1);
    EXPECT_EQ(breaker->state(), State::open);
}

// --- Open-state backoff ----------------------------------------------------------------

TEST_F(CircuitBreakerTest, FailedProbesGrowTheOpenWait) {
    config_.open_backoff = 2.0;
    config_.half_open_calls = 1;
    auto breaker = make();
    trip(*breaker);
    EXPECT_EQ(breaker->snapshot().next_probe_in, 2s);

    clock_.advance(2s);
    ASSERT_TRUE(call(*breaker, Outcome::failure));
    EXPECT_EQ(breaker->snapshot().next_probe_in, 4s);

    clock_.advance(4s);
    ASSERT_TRUE(call(*breaker, Outcome::failure));
    EXPECT_EQ(breaker->snapshot().next_probe_in, 8s);
    EXPECT_EQ(breaker->snapshot().failed_probes, 2u);
}

TEST_F(CircuitBreakerTest, RetryAfterReflectsTheGrownWait) {
    config_.open_backoff = 3.0;
    config_.half_open_calls = 1;
    auto breaker = make();
    trip(*breaker);
    clock_.advance(2s);
    ASSERT_TRUE(call(*breaker, Outcome::failure));

    clock_.advance(1s);
    auto admission = breaker->try_acquire();

    ASSERT_TRUE(std::holds_alternative<Rejection>(admission));
    EXPECT_EQ(std::get<Rejection>(admission).retry_after, 5s);
}

TEST_F(CircuitBreakerTest, GrownWaitStopsAtTheCap) {
    config_.open_backoff = 2.0;
    config_.max_wait_in_open = 5s;
    config_.half_open_calls = 1;
    auto breaker = make();
    trip(*breaker);

    std::vector<std::chrono::milliseconds> waits;
    for (int probe = 0; probe < 3; ++probe) {
        clock_.advance(*breaker->snapshot().next_probe_in);
        ASSERT_TRUE(call(*breaker, Outcome::failure));
        waits.push_back(*breaker->snapshot().open_wait);
    }

    EXPECT_EQ(waits, (std::vector<std::chrono::milliseconds>{4s, 5s, 5s}));
}

TEST_F(CircuitBreakerTest, WaitReturnsToBaseOnceClosed) {
    config_.open_backoff = 2.0;
    config_.half_open_calls = 1;
    auto breaker = make();
    trip(*breaker);
    clock_.advance(2s);
    ASSERT_TRUE(call(*breaker, Outcome::failure));
    clock_.advance(4s);
    ASSERT_TRUE(call(*breaker, Outcome::success));
    ASSERT_EQ(breaker->state(), State::closed);

    trip(*breaker);

    EXPECT_EQ(breaker->snapshot().next_probe_in, 2s);
    EXPECT_EQ(breaker->snapshot().failed_probes, 0u);
}

TEST_F(CircuitBreakerTest, HalfOpenTimeoutCountsAsAFailedProbe) {
    config_.open_backoff = 2.0;
    auto breaker = make();
    trip(*breaker);
    clock_.advance(2s);
    Permit hung = acquire(*breaker);

    clock_.advance(3s);

    EXPECT_EQ(breaker->state(), State::open);
    EXPECT_EQ(breaker->snapshot().next_probe_in, 4s);
}

TEST_F(CircuitBreakerTest, BackoffOfOneKeepsTheWaitFixed) {
    config_.half_open_calls = 1;
    auto breaker = make();
    trip(*breaker);

    for (int probe = 0; probe < 3; ++probe) {
        clock_.advance(2s);
        ASSERT_TRUE(call(*breaker, Outcome::failure));
    }

    EXPECT_EQ(breaker->snapshot().next_probe_in, 2s);
}

TEST_F(CircuitBreakerTest, JitterSpreadsTheWaitByTheInjectedDraw) {
    config_.open_jitter = 0.1;
    std::vector<double> draws{0.0, 0.75};
    std::size_t next = 0;
    auto breaker = CircuitBreaker::create(
        "b", config_, clock_, {}, [&] { return draws[next++ % draws.size()]; });

    trip(*breaker);
    EXPECT_EQ(breaker->snapshot().open_wait, 1800ms);  // 2 s - 10%

    clock_.advance(1800ms);
    calls(*breaker, Outcome::failure, 3);
    EXPECT_EQ(breaker->snapshot().open_wait, 2100ms);  // 2 s + 5%
}

TEST_F(CircuitBreakerTest, JitterAppliesToTheGrownWait) {
    config_.open_jitter = 0.5;
    config_.open_backoff = 2.0;
    config_.half_open_calls = 1;
    auto breaker = CircuitBreaker::create("b", config_, clock_, {}, [] { return 1.0 - 1e-9; });
    trip(*breaker);

    clock_.advance(*breaker->snapshot().next_probe_in);
    ASSERT_TRUE(call(*breaker, Outcome::failure));

    EXPECT_EQ(breaker->snapshot().open_wait, 6s);  // 4 s + 50%
}

TEST_F(CircuitBreakerTest, HalfOpenReasonNamesTheRealWait) {
    config_.open_backoff = 2.0;
    config_.half_open_calls = 1;
    auto breaker = make();
    trip(*breaker);
    clock_.advance(2s);
    ASSERT_TRUE(call(*breaker, Outcome::failure));

    clock_.advance(4s);
    Permit trial = acquire(*breaker);

    EXPECT_EQ(events_.back().reason, "wait of 4.0 s over");
}

// --- Automatic half-open and poll() ----------------------------------------------------

TEST_F(CircuitBreakerTest, PollOnAQuietClosedBreakerHasNothingDue) {
    auto breaker = make();

    EXPECT_EQ(breaker->poll(), std::nullopt);
}

TEST_F(CircuitBreakerTest, WithoutAutoHalfOpenPollLeavesAnOpenBreakerOpen) {
    auto breaker = make();
    trip(*breaker);

    clock_.advance(10s);

    EXPECT_EQ(breaker->poll(), std::nullopt);
    EXPECT_EQ(breaker->snapshot().state, State::open);
    EXPECT_EQ(breaker->snapshot().next_probe_in, 0ms);
}

TEST_F(CircuitBreakerTest, AutoHalfOpenPollSaysWhenTheWaitEnds) {
    config_.auto_half_open = true;
    auto breaker = make();
    const auto tripped_at = clock_.now();
    trip(*breaker);

    EXPECT_EQ(breaker->poll(), tripped_at + 2s);
}

TEST_F(CircuitBreakerTest, AutoHalfOpenMovesOnPollWithNoTraffic) {
    config_.auto_half_open = true;
    auto breaker = make();
    trip(*breaker);

    clock_.advance(2s);
    const auto next = breaker->poll();

    EXPECT_EQ(events_.back().to, State::half_open);
    EXPECT_EQ(events_.back().reason, "wait of 2.0 s over");
    EXPECT_EQ(next, std::nullopt);  // nothing runs out before a first trial call
}

TEST_F(CircuitBreakerTest, IdleAutoHalfOpenWaitsForItsFirstTrial) {
    config_.auto_half_open = true;
    auto breaker = make();
    trip(*breaker);
    clock_.advance(2s);
    breaker->poll();

    clock_.advance(1min);
    breaker->poll();

    EXPECT_EQ(breaker->state(), State::half_open);
    EXPECT_TRUE(call(*breaker, Outcome::success));  // the first call is a trial at once
}

TEST_F(CircuitBreakerTest, HalfOpenWaitRunsFromTheFirstTrial) {
    config_.auto_half_open = true;
    auto breaker = make();
    trip(*breaker);
    clock_.advance(2s);
    breaker->poll();
    clock_.advance(10s);

    Permit trial = acquire(*breaker);
    EXPECT_EQ(breaker->poll(), clock_.now() + 3s);
    clock_.advance(3s);

    EXPECT_EQ(breaker->state(), State::open);
    EXPECT_EQ(events_.back().reason, "3 of 3 trial calls unfinished after 3.0 s");
}

TEST_F(CircuitBreakerTest, HalfOpenLeftWithNoTrialIsNotAFailedProbe) {
    config_.auto_half_open = true;
    config_.open_backoff = 2.0;
    auto breaker = make();
    trip(*breaker);
    clock_.advance(2s);
    breaker->poll();

    ASSERT_TRUE(breaker->force(State::closed));
    trip(*breaker);

    EXPECT_EQ(breaker->snapshot().open_wait, 2s);
}

TEST_F(CircuitBreakerTest, AutoHalfOpenMovesOnAStateReadToo) {
    config_.auto_half_open = true;
    auto breaker = make();
    trip(*breaker);

    clock_.advance(2s);

    EXPECT_EQ(breaker->snapshot().state, State::half_open);
}

TEST_F(CircuitBreakerTest, PollAppliesTheHalfOpenTimeout) {
    config_.auto_half_open = true;
    auto breaker = make();
    trip(*breaker);
    clock_.advance(2s);
    breaker->poll();
    Permit hung = acquire(*breaker);

    clock_.advance(3s);
    breaker->poll();

    EXPECT_EQ(events_.back().from, State::half_open);
    EXPECT_EQ(events_.back().to, State::open);
}

// Scenario C8: an earlier open period's deadline must not move a later one.
TEST_F(CircuitBreakerTest, AutoHalfOpenFollowsOnlyTheLatestTrip) {
    config_.auto_half_open = true;
    config_.wait_in_open = 5s;
    auto breaker = make();
    trip(*breaker);  // 0 s
    clock_.advance(1s);
    ASSERT_TRUE(breaker->force(State::closed));  // 1 s
    clock_.advance(2s);
    trip(*breaker);  // 3 s

    clock_.advance(2s);  // 5 s: the first trip's deadline
    EXPECT_EQ(breaker->poll(), clock_.now() + 3s);
    EXPECT_EQ(breaker->state(), State::open);

    clock_.advance(3s);  // 8 s
    breaker->poll();
    EXPECT_EQ(breaker->state(), State::half_open);
}

// --- In-flight trip --------------------------------------------------------------------

class InFlightTripTest : public CircuitBreakerTest {
  protected:
    InFlightTripTest() {
        config_.inflight_trip = true;
        config_.slow_call_duration = 300ms;
        config_.slow_call_rate_threshold = 50.0;
    }

    std::vector<Permit> hold(CircuitBreaker& breaker, int count) {
        std::vector<Permit> permits;
        for (int i = 0; i < count; ++i) {
            permits.push_back(acquire(breaker));
        }
        return permits;
    }
};

TEST_F(InFlightTripTest, OpensOnPollWhenEnoughHungCallsTurnSlow) {
    auto breaker = make();
    auto hung = hold(*breaker, 5);

    clock_.advance(300ms);
    breaker->poll();

    EXPECT_EQ(breaker->state(), State::open);
    EXPECT_EQ(events_.back().reason,
              "in-flight slow-call rate 100.0% >= 50.0% over 5 calls in flight");
}

TEST_F(InFlightTripTest, TheAdmissionThatSeesTheTripIsRejected) {
    auto breaker = make();
    auto hung = hold(*breaker, 5);

    clock_.advance(300ms);
    auto admission = breaker->try_acquire();

    ASSERT_TRUE(std::holds_alternative<Rejection>(admission));
    EXPECT_EQ(std::get<Rejection>(admission).state, State::open);
}

TEST_F(InFlightTripTest, NeedsMinimumCallsInFlight) {
    auto breaker = make();
    auto hung = hold(*breaker, 4);

    clock_.advance(10s);
    breaker->poll();

    EXPECT_EQ(breaker->state(), State::closed);
    EXPECT_EQ(breaker->snapshot().slow_in_flight, 4u);
}

TEST_F(CircuitBreakerTest, CallsInFlightAreCountedWithoutTheInFlightTrip) {
    auto breaker = make();
    Permit first = acquire(*breaker);
    Permit second = acquire(*breaker);
    first.complete(Outcome::success);

    clock_.advance(5s);

    EXPECT_EQ(breaker->snapshot().in_flight, 1u);
    EXPECT_EQ(breaker->snapshot().slow_in_flight, 0u);  // ages are kept for the trip only
}

TEST_F(InFlightTripTest, IsOffUnlessAskedFor) {
    config_.inflight_trip = false;
    auto breaker = make();
    auto hung = hold(*breaker, 5);

    clock_.advance(10s);
    breaker->poll();

    EXPECT_EQ(breaker->state(), State::closed);
}

TEST_F(InFlightTripTest, YoungCallsInFlightDiluteTheSlowShare) {
    config_.slow_call_rate_threshold = 60.0;
    auto breaker = make();
    auto old_calls = hold(*breaker, 3);
    clock_.advance(200ms);
    auto young_calls = hold(*breaker, 3);

    clock_.advance(100ms);  // 3 of 6 slow: 50% < 60%
    EXPECT_EQ(breaker->state(), State::closed);

    clock_.advance(200ms);  // all 6 slow
    EXPECT_EQ(breaker->state(), State::open);
}

TEST_F(InFlightTripTest, FinishedCallsLeaveTheInFlightCount) {
    auto breaker = make();
    auto calls_out = hold(*breaker, 5);

    calls_out[0].complete(Outcome::success);
    calls_out[1].complete(Outcome::ignored);
    clock_.advance(300ms);

    EXPECT_EQ(breaker->snapshot().in_flight, 3u);
    EXPECT_EQ(breaker->snapshot().slow_in_flight, 3u);
    EXPECT_EQ(breaker->state(), State::closed);
}

// Found by the property test: the returning call used to count as in flight, and slow, when
// the trip was judged on its own completion.
TEST_F(InFlightTripTest, ACallComingBackIsNoLongerInFlightWhenTheTripIsJudged) {
    config_.minimum_calls = 3;
    auto breaker = make();
    auto calls_out = hold(*breaker, 2);
    clock_.advance(200ms);
    auto young = hold(*breaker, 1);

    clock_.advance(100ms);  // 2 of 3 slow (66.7%) once judged, but one of them is coming back
    calls_out[0].complete(Outcome::success);

    EXPECT_EQ(breaker->state(), State::closed);
    EXPECT_EQ(breaker->snapshot().window.calls, 1u);
}

TEST_F(InFlightTripTest, PollSaysWhenTheNextCallInFlightTurnsSlow) {
    auto breaker = make();
    auto first = hold(*breaker, 4);
    clock_.advance(100ms);
    auto fifth = hold(*breaker, 1);

    EXPECT_EQ(breaker->poll(), clock_.now() + 200ms);
}

TEST_F(InFlightTripTest, HungCallsFinishingAfterTheTripAreDropped) {
    auto breaker = make();
    auto hung = hold(*breaker, 5);
    clock_.advance(300ms);
    breaker->poll();
    ASSERT_EQ(breaker->state(), State::open);

    clock_.advance(700ms);
    for (Permit& permit : hung) {
        permit.complete(Outcome::failure);
    }

    EXPECT_EQ(breaker->snapshot().window.calls, 0u);
    EXPECT_EQ(breaker->state(), State::open);
}

TEST_F(InFlightTripTest, DoesNotTripMetricsOnly) {
    auto breaker = make();
    ASSERT_TRUE(breaker->force(State::metrics_only));
    auto hung = hold(*breaker, 5);

    clock_.advance(1s);

    EXPECT_EQ(breaker->state(), State::metrics_only);
    EXPECT_EQ(breaker->snapshot().slow_in_flight, 5u);
}

TEST(BreakerConfigTest, TimeWindowAllowsMinimumCallsAboveItsSeconds) {
    BreakerConfig config;
    config.window_type = WindowType::time;
    config.window_size = 2;
    config.minimum_calls = 50;

    EXPECT_EQ(validate(config), std::nullopt);
}

TEST(BreakerConfigTest, RefusesBackoffCapBelowTheWait) {
    BreakerConfig config;
    config.open_backoff = 1.5;
    config.max_wait_in_open = config.wait_in_open - std::chrono::milliseconds(1);

    EXPECT_EQ(validate(config),
              "max_wait_in_open must be at least wait_in_open when open_backoff > 1");
}

TEST(BreakerConfigTest, RefusesJitterOfOne) {
    BreakerConfig config;
    config.open_jitter = 1.0;

    EXPECT_EQ(validate(config), "open_jitter must be in [0, 1)");
}

}  // namespace
}  // namespace circuitlab::breaker
