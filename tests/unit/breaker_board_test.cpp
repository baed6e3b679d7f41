#include "circuitlab/ops/breaker_board.hpp"

#include <cmath>
#include <limits>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/fake_clock.hpp"
#include "support/metrics_text.hpp"

namespace circuitlab::ops {
namespace {

using namespace std::chrono_literals;
using breaker::Outcome;
using breaker::State;
using nlohmann::json;
using testing::sample;

constexpr const char* name = "midline->backline[timeout-request]";

std::string series(const std::string& metric, const std::string& labels) {
    return metric + "{name=\"" + name + "\"" + (labels.empty() ? "" : "," + labels) + "}";
}

class BreakerBoardTest : public ::testing::Test {
  protected:
    BreakerBoardTest() {
        config_.minimum_calls = 5;
        config_.window_size = 10;
        config_.wait_in_open = 2s;
        breaker_ = breaker::CircuitBreaker::create(
            name, config_, clock_, board_.track(name, [this](const auto&) { ++notified_; }));
        board_.attach(breaker_);
    }

    // Makes one call through the breaker and tells the board, as the guarded call does.
    void call(Outcome outcome, std::chrono::milliseconds took = 10ms) {
        auto permit = breaker_->try_acquire();
        if (!std::holds_alternative<breaker::Permit>(permit)) {
            board_.record({name, lab::CallRecord::Kind::rejected, Outcome::ignored, "rejected"});
            return;
        }
        clock_.advance(took);
        std::get<breaker::Permit>(permit).complete(outcome);
        const char* reason = outcome == Outcome::success ? "ok" : "upstream_status";
        board_.record({name, lab::CallRecord::Kind::permitted, outcome, reason, took});
    }

    void calls(int count, Outcome outcome) {
        for (int i = 0; i < count; ++i) {
            call(outcome);
        }
    }

    json status() const {
        const json list = board_.status();
        EXPECT_EQ(list.size(), 1u);
        return list.at(0);
    }

    std::string metrics() const {
        PromText out;
        board_.write_metrics(out);
        return out.text();
    }

    testing::FakeClock clock_;
    breaker::BreakerConfig config_;
    BreakerBoard board_{clock_};
    std::shared_ptr<breaker::CircuitBreaker> breaker_;
    int notified_ = 0;
};

TEST_F(BreakerBoardTest, StatusShowsNameStateWindowConfigAndCalls) {
    calls(4, Outcome::success);
    calls(1, Outcome::failure);
    const json entry = status();

    EXPECT_EQ(entry["name"], name);
    EXPECT_EQ(entry["state"], "closed");
    EXPECT_EQ(entry["generation"], 0);
    EXPECT_EQ(entry["window"]["calls"], 5);
    EXPECT_EQ(entry["window"]["failures"], 1);
    EXPECT_EQ(entry["window"]["evaluated"], true);
    EXPECT_DOUBLE_EQ(entry["window"]["failure_rate"].get<double>(), 20.0);
    EXPECT_DOUBLE_EQ(entry["window"]["slow_call_rate"].get<double>(), 0.0);
    EXPECT_EQ(entry["config"]["minimum_calls"], 5);
    EXPECT_EQ(entry["config"]["wait_in_open_ms"], 2000);
    EXPECT_EQ(entry["calls"]["successful"], 4);
    EXPECT_EQ(entry["calls"]["failed"], 1);
    EXPECT_TRUE(entry["next_probe_in_ms"].is_null());
    EXPECT_EQ(entry["transitions"], json::array());
}

TEST_F(BreakerBoardTest, RatesBeforeMinimumCallsAreNullAndFlaggedNotEvaluated) {
    calls(4, Outcome::failure);  // 100% failures, but one call short of the minimum
    const json window = status()["window"];

    EXPECT_EQ(window["calls"], 4);
    EXPECT_EQ(window["evaluated"], false);
    EXPECT_TRUE(window["failure_rate"].is_null());
    EXPECT_TRUE(window["slow_call_rate"].is_null());
}

TEST_F(BreakerBoardTest, FailureRateMetricIsAbsentBeforeMinimumCallsAndPresentAfter) {
    calls(3, Outcome::success);
    calls(1, Outcome::failure);
    const std::string before = metrics();
    call(Outcome::success);
    const std::string after = metrics();

    EXPECT_EQ(before.find(series("resilience4j_circuitbreaker_failure_rate", "")),
              std::string::npos);
    EXPECT_EQ(before.find(series("resilience4j_circuitbreaker_slow_call_rate", "")),
              std::string::npos);
    EXPECT_EQ(
        sample(before, series("resilience4j_circuitbreaker_buffered_calls", "kind=\"failed\"")), 1);
    EXPECT_DOUBLE_EQ(sample(after, series("resilience4j_circuitbreaker_failure_rate", "")), 20.0);
}

TEST_F(BreakerBoardTest, OpenBreakerShowsNextProbeThenProbeDue) {
    calls(5, Outcome::failure);
    const json open = status();
    clock_.advance(2s);
    const json due = status();

    EXPECT_EQ(open["state"], "open");
    EXPECT_EQ(open["generation"], 1);
    EXPECT_EQ(open["next_probe_in_ms"], 2000);
    EXPECT_EQ(open["probe_due"], false);
    EXPECT_EQ(due["state"], "open");  // no automatic half-open: the next call probes
    EXPECT_EQ(due["next_probe_in_ms"], 0);
    EXPECT_EQ(due["probe_due"], true);
}

TEST_F(BreakerBoardTest, TransitionKeepsItsReasonAndTheWindowBeforeClearing) {
    calls(1, Outcome::success);
    calls(4, Outcome::failure);
    const json transitions = status()["transitions"];

    ASSERT_EQ(transitions.size(), 1u);
    const json& opened = transitions[0];
    EXPECT_EQ(opened["breaker"], name);
    EXPECT_EQ(opened["from"], "closed");
    EXPECT_EQ(opened["to"], "open");
    EXPECT_EQ(opened["generation"], 1);
    EXPECT_NE(opened["reason"].get<std::string>().find("failure rate 80.0% >= 50.0%"),
              std::string::npos)
        << opened["reason"];
    EXPECT_EQ(opened["window"]["calls"], 5);
    EXPECT_EQ(opened["window"]["failures"], 4);
    EXPECT_DOUBLE_EQ(opened["window"]["failure_rate"].get<double>(), 80.0);
    EXPECT_TRUE(opened["at"].get<std::string>().ends_with("Z"));
    EXPECT_EQ(notified_, 1);  // the next observer is still called
}

TEST_F(BreakerBoardTest, KeepsTheLastTwentyTransitionsNewestFirst) {
    for (int i = 0; i < 13; ++i) {
        ASSERT_TRUE(breaker_->force(State::forced_open, "round " + std::to_string(i)));
        ASSERT_TRUE(breaker_->force(State::closed, "round " + std::to_string(i)));
    }
    const json transitions = status()["transitions"];

    ASSERT_EQ(transitions.size(), BreakerBoard::history_size);
    EXPECT_EQ(transitions[0]["to"], "closed");
    EXPECT_EQ(transitions[0]["reason"], "round 12");
    EXPECT_EQ(transitions[0]["generation"], 26);
    EXPECT_EQ(transitions[19]["generation"], 7);  // 26 made, the oldest 6 dropped
}

TEST_F(BreakerBoardTest, AutomaticTransitionCountersStartAtZeroSoTheFirstTripIsAnIncrease) {
    const std::string text = metrics();
    auto moved = [&](const char* from, const char* to) {
        return sample(text,
                      series("circuitlab_breaker_transitions_total",
                             "from=\"" + std::string(from) + "\",to=\"" + to + "\""));
    };

    EXPECT_EQ(moved("closed", "open"), 0);
    EXPECT_EQ(moved("open", "half_open"), 0);
    EXPECT_EQ(moved("half_open", "open"), 0);
    EXPECT_EQ(moved("half_open", "closed"), 0);
    EXPECT_TRUE(std::isnan(moved("closed", "forced_open")));  // operator moves: once made
}

TEST_F(BreakerBoardTest, ForcedStateShowsInStatusAndInTheStateGauge) {
    ASSERT_TRUE(breaker_->force(State::disabled, "disabled by operator"));
    const std::string text = metrics();

    EXPECT_EQ(status()["state"], "disabled");
    EXPECT_EQ(sample(text, series("resilience4j_circuitbreaker_state", "state=\"disabled\"")), 1);
    for (const char* other : {"closed", "open", "half_open", "forced_open", "metrics_only"}) {
        EXPECT_EQ(sample(text,
                         series("resilience4j_circuitbreaker_state",
                                "state=\"" + std::string(other) + "\"")),
                  0)
            << other;
    }
}

TEST_F(BreakerBoardTest, ShortOpenPeriodShowsInTransitionAndTimeInStateCounters) {
    calls(5, Outcome::failure);  // trips at t=50 ms (five calls of 10 ms)
    clock_.advance(2s);          // open for 2 s
    calls(3, Outcome::success);  // half-open for 30 ms, then closed
    clock_.advance(1s);
    const std::string text = metrics();
    auto moved = [&](const char* from, const char* to) {
        return sample(text,
                      series("circuitlab_breaker_transitions_total",
                             "from=\"" + std::string(from) + "\",to=\"" + to + "\""));
    };
    auto spent = [&](const char* state) {
        return sample(text,
                      series("circuitlab_breaker_state_seconds_total",
                             "state=\"" + std::string(state) + "\""));
    };

    EXPECT_EQ(moved("closed", "open"), 1);
    EXPECT_EQ(moved("open", "half_open"), 1);
    EXPECT_EQ(moved("half_open", "closed"), 1);
    EXPECT_DOUBLE_EQ(spent("open"), 2.0);
    EXPECT_NEAR(spent("half_open"), 0.03, 1e-9);
    EXPECT_NEAR(spent("closed"), 0.05 + 1.0, 1e-9);
    EXPECT_EQ(spent("forced_open"), 0);
    EXPECT_EQ(sample(text, series("resilience4j_circuitbreaker_state", "state=\"closed\"")), 1);
    // A fresh window after closing: the rate is not evaluated again yet.
    EXPECT_EQ(text.find(series("resilience4j_circuitbreaker_failure_rate", "")), std::string::npos);
}

TEST_F(BreakerBoardTest, CountsRejectedBypassedAndReasonsInMetricsAndTotals) {
    calls(5, Outcome::failure);
    calls(2, Outcome::success);  // rejected: the breaker is open
    board_.record({name, lab::CallRecord::Kind::bypassed, Outcome::success, "ok", 1ms});
    board_.record({name, lab::CallRecord::Kind::permitted, Outcome::ignored, "shed", 1ms});
    const std::string text = metrics();
    const OutcomeTotals totals = board_.totals();

    EXPECT_EQ(sample(text,
                     series("resilience4j_circuitbreaker_not_permitted_calls_total",
                            "kind=\"not_permitted\"")),
              2);
    EXPECT_EQ(sample(text, series("circuitlab_breaker_bypassed_calls_total", "")), 1);
    EXPECT_EQ(sample(text, series("circuitlab_upstream_calls_total", "reason=\"upstream_status\"")),
              5);
    EXPECT_EQ(sample(text, series("circuitlab_upstream_calls_total", "reason=\"shed\"")), 1);
    EXPECT_EQ(
        sample(text, series("resilience4j_circuitbreaker_calls_seconds_count", "kind=\"failed\"")),
        5);
    EXPECT_EQ(
        sample(text, series("resilience4j_circuitbreaker_calls_seconds_count", "kind=\"ignored\"")),
        1);
    EXPECT_EQ(totals.failure, 5u);
    EXPECT_EQ(totals.rejected, 3u);  // two rejected here, one shed below
    EXPECT_EQ(totals.bypassed, 1u);
    EXPECT_EQ(totals.success, 0u);
}

TEST_F(BreakerBoardTest, CallOfAnUnknownBreakerCountsInTotalsOnly) {
    board_.record({"nobody", lab::CallRecord::Kind::permitted, Outcome::success, "ok", 1ms});

    EXPECT_EQ(board_.totals().success, 1u);
    EXPECT_EQ(status()["calls"]["successful"], 0);
    EXPECT_EQ(board_.find("nobody"), nullptr);
    EXPECT_EQ(board_.find(name), breaker_);
}

TEST(BreakerBoardTrackTest, TrackedButNotAttachedBreakerIsLeftOut) {
    testing::FakeClock clock;
    BreakerBoard board(clock);
    board.track("pending", {});
    PromText out;
    board.write_metrics(out);

    EXPECT_EQ(board.status(), json::array());
    EXPECT_EQ(out.text().find("pending"), std::string::npos);
}

}  // namespace
}  // namespace circuitlab::ops
