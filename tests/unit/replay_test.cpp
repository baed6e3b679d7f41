#include "circuitlab/replay/replay.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace circuitlab::replay {
namespace {

using namespace std::chrono_literals;
using breaker::State;

std::size_t at(State state) {
    return static_cast<std::size_t>(state);
}

class ReplayTest : public ::testing::Test {
  protected:
    ReplayTest() {
        settings_.breaker.window_size = 10;
        settings_.breaker.minimum_calls = 5;
        settings_.breaker.wait_in_open = 2s;
        settings_.breaker.half_open_calls = 3;
        settings_.breaker.max_wait_in_half_open = 3s;
    }

    ReplayResult replay(const std::string& trace) { return run(parse_trace(trace), settings_); }

    // `count` lines `time,outcome,latency`, all alike.
    static std::string lines(int count, const std::string& line) {
        std::string text;
        for (int i = 0; i < count; ++i) {
            text += line + "\n";
        }
        return text;
    }

    ReplaySettings settings_;
};

TEST_F(ReplayTest, OverlappingCallsAreInFlightTogether) {
    // Five failures start at once and finish at 1 s: a call at 0.5 s still finds the
    // breaker closed, because nothing has finished yet.
    const auto result = replay(lines(5, "0,failure,1000") + "500,success,1\n");

    EXPECT_EQ(result.summary.permitted[at(State::closed)], 6u);
    ASSERT_EQ(result.transitions.size(), 1u);
    EXPECT_EQ(result.transitions[0].at, 1000ms);
    EXPECT_EQ(result.transitions[0].transition.to, State::open);
}

TEST_F(ReplayTest, ACallFinishingAtTheSameTimeAsAStartCountsFirst) {
    // The fifth failure finishes at 100 ms and trips; the call starting then is rejected.
    const auto result = replay(lines(5, "0,failure,100") + "100,success,1\n");

    EXPECT_EQ(result.summary.rejected[at(State::open)], 1u);
}

TEST_F(ReplayTest, ResultsFromAnEarlierGenerationAreLate) {
    settings_.breaker.consecutive_failures = 5;

    // Ten failures in flight together: the fifth to finish trips, the other five come back
    // to an open breaker and are dropped.
    const auto result = replay(lines(10, "0,failure,100"));

    EXPECT_EQ(result.summary.failures, 10u);
    EXPECT_EQ(result.summary.late, 5u);
    ASSERT_EQ(result.transitions.size(), 1u);
    EXPECT_EQ(result.transitions[0].transition.reason, "5 consecutive failures");
}

TEST_F(ReplayTest, LinesOutOfOrderAreReplayedInTimeOrder) {
    const auto result = replay("900,success,1\n" + lines(5, "0,failure,1"));

    EXPECT_EQ(result.summary.rejected[at(State::open)], 1u);
    EXPECT_EQ(result.summary.begin, 0ms);
}

TEST_F(ReplayTest, OpenTimeSplitsIntoWaitAndProbeDue) {
    // Trip at 0 s, wait 2 s, then no call for 8 s: the breaker stays open, probe due.
    const auto result = replay(lines(5, "0,failure,0") + "10000,success,0\n");

    const auto& summary = result.summary;
    EXPECT_EQ(summary.time_in_state[at(State::open)], 10s);
    EXPECT_EQ(summary.open_probe_due, 8s);
    ASSERT_EQ(result.transitions.size(), 2u);
    EXPECT_EQ(result.transitions[1].at, 10s);
    EXPECT_EQ(result.transitions[1].transition.to, State::half_open);
}

TEST_F(ReplayTest, TimeInStatesAddsUpToTheSpan) {
    const auto result = replay(lines(5, "100,failure,50") + "2500,success,400\n" +
                               lines(2, "2600,success,10") + "7000,success,1\n");

    std::chrono::milliseconds sum{0};
    for (auto time : result.summary.time_in_state) {
        sum += time;
    }
    EXPECT_EQ(sum, result.summary.end - result.summary.begin);
    EXPECT_EQ(result.summary.begin, 100ms);
    EXPECT_EQ(result.summary.end, 7001ms);
}

TEST_F(ReplayTest, HalfOpenLetsOnlyTheTrialCallsThrough) {
    const auto result = replay(lines(5, "0,failure,0") + lines(50, "2001,success,900"));

    EXPECT_EQ(result.summary.permitted[at(State::half_open)], 3u);
    EXPECT_EQ(result.summary.rejected[at(State::half_open)], 47u);
    EXPECT_EQ(result.transitions.back().transition.to, State::closed);
    EXPECT_EQ(result.transitions.back().at, 2901ms);
}

TEST_F(ReplayTest, AutoHalfOpenMovesAtTheDeadlineWithoutCalls) {
    settings_.breaker.auto_half_open = true;

    const auto result = replay(lines(5, "0,failure,0") + "2500,success,1\n");

    ASSERT_GE(result.transitions.size(), 2u);
    EXPECT_EQ(result.transitions[1].at, 2s);
    EXPECT_EQ(result.transitions[1].transition.to, State::half_open);
    EXPECT_EQ(result.summary.open_probe_due, 0ms);
}

TEST_F(ReplayTest, JitteredWaitsAreTheSameOnEveryRun) {
    settings_.breaker.open_jitter = 0.5;
    const std::string trace = lines(5, "0,failure,0") + lines(40, "100,success,1") +
                              "1500,success,1\n2500,success,1\n3000,success,1\n";

    const auto first = format_report(replay(trace));

    EXPECT_EQ(format_report(replay(trace)), first);
}

TEST_F(ReplayTest, OperatorLinesForceStates) {
    const auto result = replay("0,force,forced_open\n1,success,0\n2,force,closed\n3,success,0\n");

    EXPECT_EQ(result.summary.rejected[at(State::forced_open)], 1u);
    EXPECT_EQ(result.summary.permitted[at(State::closed)], 1u);
    ASSERT_EQ(result.transitions.size(), 2u);
    EXPECT_EQ(result.transitions[0].transition.reason, "forced by trace line 1");
}

TEST_F(ReplayTest, AnIllegalOperatorLineIsReportedNotApplied) {
    const auto result = replay(lines(5, "0,failure,0") + "10,force,open\n");

    ASSERT_EQ(result.refused.size(), 1u);
    EXPECT_EQ(result.refused[0].line, 6u);
    EXPECT_EQ(result.refused[0].from, State::open);
    EXPECT_NE(format_report(result).find("refused: trace line 6 forces open"), std::string::npos);
}

TEST_F(ReplayTest, ForcedStateSettingAppliesFromTheStart) {
    settings_.forced_state = State::metrics_only;

    const auto result = replay(lines(20, "0,failure,1"));

    EXPECT_EQ(result.summary.permitted[at(State::metrics_only)], 20u);
    ASSERT_EQ(result.transitions.size(), 1u);
    EXPECT_EQ(result.transitions[0].transition.to, State::metrics_only);
}

TEST_F(ReplayTest, SlowCallsAreCountedFromLatency) {
    settings_.breaker.slow_call_duration = 300ms;
    settings_.breaker.slow_call_rate_threshold = 50;

    const auto result = replay(lines(5, "0,success,300"));

    EXPECT_EQ(result.summary.slow, 5u);
    ASSERT_EQ(result.transitions.size(), 1u);
    EXPECT_EQ(result.transitions[0].transition.reason,
              "slow-call rate 100.0% >= 50.0% over 5 calls");
}

TEST_F(ReplayTest, ShedCallsAreIgnoredUnlessSettingsSayOtherwise) {
    TraceEntry shed;
    shed.end = CallEnd::shed;

    EXPECT_EQ(classify(shed, settings_), breaker::Outcome::ignored);
    settings_.shed_is_failure = true;
    EXPECT_EQ(classify(shed, settings_), breaker::Outcome::failure);
}

TEST_F(ReplayTest, StatusesFailFromFiveHundred) {
    TraceEntry call;
    call.end = CallEnd::status;
    call.status = 499;
    EXPECT_EQ(classify(call, settings_), breaker::Outcome::success);
    call.status = 500;
    EXPECT_EQ(classify(call, settings_), breaker::Outcome::failure);
}

TEST_F(ReplayTest, StatusSetsJudgeStatusesAndIgnoredWins) {
    settings_.failure_statuses = *lab::StatusSet::parse("429,500-599");
    settings_.ignore_statuses = *lab::StatusSet::parse("503");
    TraceEntry call;
    call.end = CallEnd::status;

    call.status = 429;
    EXPECT_EQ(classify(call, settings_), breaker::Outcome::failure);
    call.status = 503;
    EXPECT_EQ(classify(call, settings_), breaker::Outcome::ignored);
    call.status = 404;
    EXPECT_EQ(classify(call, settings_), breaker::Outcome::success);
}

TEST_F(ReplayTest, AnEmptyTraceReportsNothing) {
    const auto result = replay("# nothing happened\n");

    EXPECT_TRUE(result.transitions.empty());
    EXPECT_EQ(result.summary.calls, 0u);
}

TEST_F(ReplayTest, ReportListsTransitionsWithTimesThenTheSummary) {
    const std::string report = format_report(replay(lines(5, "1500,500,5")));

    EXPECT_EQ(report.rfind("transitions: 1\n"
                           "  1.505 s  closed -> open (failure rate 100.0% >= 50.0% over 5 calls) "
                           "[5 calls, 5 failed, 0 slow]\n"
                           "summary:\n",
                           0),
              0u)
        << report;
    EXPECT_NE(report.find("  rejected        0: none\n"), std::string::npos) << report;
}

TEST_F(ReplayTest, EachRouteHasItsOwnBreaker) {
    const auto trace = read_trace(lines(5, "0,failure,1,mustfail") + "10,success,1,success\n" +
                                  "20,success,1,mustfail\n");

    const auto replays = run_by_route(trace, settings_);

    ASSERT_EQ(replays.size(), 2u);
    EXPECT_EQ(replays[0].route, "mustfail");
    EXPECT_EQ(replays[0].result.summary.rejected[at(State::open)], 1u);
    EXPECT_EQ(replays[1].route, "success");
    EXPECT_TRUE(replays[1].result.transitions.empty());
    EXPECT_EQ(format_report(replays).rfind("breaker mustfail\ntransitions: 1\n", 0), 0u);
}

TEST_F(ReplayTest, OneBreakerForAllRoutesWhenScopedByUpstream) {
    settings_.breaker_per_route = false;
    const auto trace = read_trace(lines(5, "0,failure,1,mustfail") + "10,success,1,success\n");

    const auto replays = run_by_route(trace, settings_);

    ASSERT_EQ(replays.size(), 1u);
    EXPECT_EQ(replays[0].result.summary.rejected[at(State::open)], 1u);
}

TEST_F(ReplayTest, OperatorLinesWithoutRouteActOnEveryBreaker) {
    const auto trace =
        read_trace("0,force,forced_open\n1,success,1,a\n2,success,1,b\n3,force,closed,a\n");

    const auto replays = run_by_route(trace, settings_);

    ASSERT_EQ(replays.size(), 2u);
    EXPECT_EQ(replays[0].result.summary.rejected[at(State::forced_open)], 1u);
    EXPECT_EQ(replays[1].result.summary.rejected[at(State::forced_open)], 1u);
    EXPECT_EQ(replays[0].result.transitions.size(), 2u);
    EXPECT_EQ(replays[1].result.transitions.size(), 1u);
}

// --- settings files -------------------------------------------------------------------

std::string settings_error(const std::string& text, std::vector<std::string> flags = {}) {
    try {
        load_settings(text, flags);
    } catch (const ops::ConfigError& error) {
        return error.what();
    }
    return "";
}

TEST(ReplaySettingsTest, ReadsNameValueLines) {
    const auto config = load_settings("# lab\nCB_WINDOW_SIZE = 20\n\nCB_WAIT_IN_OPEN_MS=500\n", {});

    EXPECT_EQ(config.breaker.window_size, 20u);
    EXPECT_EQ(config.breaker.wait_in_open, 500ms);
}

TEST(ReplaySettingsTest, FlagsWinOverTheFile) {
    const auto config = load_settings("CB_WINDOW_SIZE=20\n", {"--cb-window-size=30"});

    EXPECT_EQ(config.breaker.window_size, 30u);
}

TEST(ReplaySettingsTest, ABadValueIsTheLoadersOwnError) {
    EXPECT_EQ(settings_error("CB_WINDOW_SIZE=0\n"),
              "bad CB_WINDOW_SIZE (--cb-window-size): expected a number from 1 to 10000, got "
              "\"0\"");
}

TEST(ReplaySettingsTest, AnUnknownNameNamesItsLine) {
    EXPECT_EQ(settings_error("CB_WINDOW_SIZE=10\nCB_WINDOW_SIZ=5\n"),
              "settings line 2: unknown setting \"CB_WINDOW_SIZ\" (see circuitlab --help)");
}

TEST(ReplaySettingsTest, ALineWithoutEqualsNamesItsLine) {
    EXPECT_EQ(settings_error("CB_WINDOW_SIZE 10\n"),
              "settings line 1: expected NAME=value, got \"CB_WINDOW_SIZE 10\"");
}

TEST(ReplaySettingsTest, SlowCallDurationFollowsTheUpstreamTimeout) {
    const auto config = load_settings("UPSTREAM_TIMEOUT_MS=700\n", {});

    EXPECT_EQ(settings_from(config).breaker.slow_call_duration, 700ms);
}

TEST(ReplaySettingsTest, StatusSetsComeFromTheSettings) {
    const auto settings =
        settings_from(load_settings("CB_IGNORE_STATUSES=404\nCB_FAILURE_STATUSES=500-504\n", {}));

    EXPECT_TRUE(settings.ignore_statuses.contains(404));
    EXPECT_FALSE(settings.failure_statuses.contains(505));
}

TEST(ReplaySettingsTest, ScopeDecidesBreakersPerRoute) {
    EXPECT_TRUE(settings_from(load_settings("", {})).breaker_per_route);
    EXPECT_FALSE(settings_from(load_settings("CB_SCOPE=upstream\n", {})).breaker_per_route);
}

}  // namespace
}  // namespace circuitlab::replay
