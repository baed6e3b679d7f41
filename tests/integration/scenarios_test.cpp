// The wire scenarios of the breaker on the loopback stack: real processes, real Nginx. "Hits"
// are requests that reached backline, counted from backline's own access lines (debug level);
// attempts that found backline stopped are counted from midline's attempt lines.

#include <signal.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <future>
#include <latch>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "lab_stack.hpp"

namespace circuitlab::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

std::size_t count_of(const std::string& text, const std::string& needle) {
    std::size_t count = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
        ++count;
    }
    return count;
}

class ScenarioTest : public StackTest {
  protected:
    // Scenario defaults: wait in open 2 s, 3 half-open calls, max wait in half-open 3 s.
    void start(std::map<std::string, std::string> env) {
        env.emplace("CB_WAIT_IN_OPEN_MS", "2000");
        env.emplace("CB_MAX_WAIT_IN_HALF_OPEN_MS", "3000");
        env.emplace("UPSTREAM_TIMEOUT_MS", "1000");
        start_stack(env);
    }

    std::string log(const std::string& role) const { return stack_->log(role); }

    void TearDown() override {
        if (stack_) {
            stack_->signal_quietly("backline", SIGCONT);
        }
        StackTest::TearDown();
    }

    Answer edge(const std::string& target) { return fetch(stack_->gateway_port(), target); }
    Answer midline(const std::string& target) { return fetch(stack_->port("midline"), target); }

    // Requests that reached backline on this route so far.
    std::size_t hits(const std::string& route) const {
        return count_of(log("backline"), "GET /api/" + route + " -> ");
    }

    // Attempts midline made towards backline so far.
    std::size_t midline_attempts() const {
        return count_of(log("midline"), "of midline->backline /api/");
    }

    // Runs `count` fetches at once (released together) and returns their answers.
    static std::vector<Answer> at_once(int count, const std::function<Answer()>& fetch_one) {
        std::latch ready(count);
        std::vector<std::future<Answer>> pending;
        for (int i = 0; i < count; ++i) {
            pending.push_back(std::async(std::launch::async, [&] {
                ready.arrive_and_wait();
                return fetch_one();
            }));
        }
        std::vector<Answer> answers;
        for (auto& answer : pending) {
            answers.push_back(answer.get());
        }
        return answers;
    }

    static bool eventually(const std::function<bool()>& done, std::chrono::milliseconds bound) {
        const auto until = std::chrono::steady_clock::now() + bound;
        while (std::chrono::steady_clock::now() < until) {
            if (done()) {
                return true;
            }
            std::this_thread::sleep_for(20ms);
        }
        return done();
    }
};

bool is_breaker_503(const Answer& answer) {
    return answer.status == 503 && answer.headers.count("X-Circuit-Open") > 0;
}

// C1: just after the wait in open, 50 requests at once: exactly the 3 trial calls reach
// backline; the other 47 get a fast 503 with Retry-After; three good trials close it.
TEST_F(ScenarioTest, HalfOpenStampedeLetsOnlyTheTrialCallsThrough) {
    start({{"FAIL_RATE", "1"}, {"SLOW_RATE", "0"}, {"UPSTREAM_TIMEOUT_MS", "2000"}});
    for (int i = 0; i < 5; ++i) {
        midline("/api/timeout-request");  // opens midline->backline only
    }
    const Answer open = midline("/api/timeout-request");
    ASSERT_TRUE(is_breaker_503(open)) << open.body;
    stack_->restart("backline", {{"FAIL_RATE", "0"}, {"SLOW_RATE", "1"}, {"SLEEP", "0.9"}});
    const std::size_t before = hits("timeout-request");
    std::this_thread::sleep_for(
        std::chrono::milliseconds(json::parse(open.body)["retry_after_ms"].get<int>()) + 100ms);

    const auto answers = at_once(50, [&] { return edge("/api/timeout-request"); });

    int ok = 0;
    int fast_rejections = 0;
    for (const Answer& answer : answers) {
        ok += answer.status == 200;
        if (is_breaker_503(answer) && !answer.headers["Retry-After"].empty() &&
            answer.took < 500ms) {
            ++fast_rejections;
        }
    }
    EXPECT_EQ(ok, 3);
    EXPECT_EQ(fast_rejections, 47);
    EXPECT_EQ(hits("timeout-request") - before, 3u);
    EXPECT_TRUE(eventually(
        [&] { return log("midline").find("half_open -> closed") != std::string::npos; }, 2s));
}

// C3: consecutive-failure limit 5, backline slow and failing: all 50 of the first wave hit
// (nothing had failed when they left: the overshoot), the second wave none.
TEST_F(ScenarioTest, OvershootIsTheFirstWaveOnlyAndTheSecondWaveIsShed) {
    start({{"FAIL_RATE", "1"},
           {"SLOW_RATE", "1"},
           {"SLEEP", "0.9"},
           {"UPSTREAM_TIMEOUT_MS", "2000"},
           {"CB_CONSECUTIVE_FAILURES", "5"}});

    const auto first = at_once(50, [&] { return edge("/api/timeout-request"); });
    const std::size_t after_first = hits("timeout-request");
    const auto second = at_once(50, [&] { return edge("/api/timeout-request"); });

    int failed = 0;
    for (const Answer& answer : first) {
        failed += answer.status == 502;
    }
    int rejected = 0;
    for (const Answer& answer : second) {
        rejected += is_breaker_503(answer);
    }
    EXPECT_EQ(failed, 50);
    EXPECT_EQ(after_first, 50u);
    EXPECT_EQ(rejected, 50);
    EXPECT_EQ(hits("timeout-request"), after_first);
    std::printf("C3 overshoot: %zu hits before the breaker opened at 5 consecutive failures\n",
                after_first);
}

// C4 with 500s: answers are not retried; 5 requests make 5 hits and open the breaker.
TEST_F(ScenarioTest, ServerErrorsAreNotRetriedAndOpenAfterFiveHits) {
    start({{"RETRY_ATTEMPTS", "2"},
           {"RETRY_BACKOFF_BASE_MS", "50"},
           {"CB_CONSECUTIVE_FAILURES", "5"}});

    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(midline("/api/mustfail-request").status, 502);
    }
    const Answer sixth = midline("/api/mustfail-request");

    EXPECT_EQ(hits("mustfail-request"), 5u);
    EXPECT_TRUE(is_breaker_503(sixth)) << sixth.body;
    EXPECT_EQ(midline_attempts(), 5u);
}

// C4 with refusals: retried; the breaker opens on the 5th attempt (in the 2nd request), whose
// last retry is not made; later requests are 503s with no attempt at all.
TEST_F(ScenarioTest, RefusalsAreRetriedButABreakerRejectionIsNot) {
    start({{"RETRY_ATTEMPTS", "2"},
           {"RETRY_BACKOFF_BASE_MS", "50"},
           {"CB_CONSECUTIVE_FAILURES", "5"}});
    stack_->stop_role("backline");

    const Answer first = midline("/api/success-request");
    const std::size_t after_first = midline_attempts();
    const Answer second = midline("/api/success-request");
    const std::size_t after_second = midline_attempts();
    const Answer third = midline("/api/success-request");

    EXPECT_EQ(first.status, 502);
    EXPECT_EQ(json::parse(first.body)["reason"], "connect");
    EXPECT_EQ(after_first, 3u);
    EXPECT_TRUE(is_breaker_503(second)) << second.body;
    EXPECT_EQ(after_second, 5u);
    EXPECT_TRUE(is_breaker_503(third)) << third.body;
    EXPECT_EQ(midline_attempts(), 5u);
}

// C5: two retries on both hops, breakers bypassed, backline refusing, 100 requests at once.
class RetryBudgetTest : public ScenarioTest {
  protected:
    std::size_t attempts_for_100_edge_requests(const std::string& budget) {
        start({{"RETRY_ATTEMPTS", "2"},
               {"RETRY_BACKOFF_BASE_MS", "50"},
               {"RETRY_BUDGET_PERCENT", budget},
               {"RETRY_BUDGET_MIN", "3"}});
        stack_->stop_role("backline");

        const auto answers =
            at_once(100, [&] { return edge("/api/success-request?non_circuit_breaker=1"); });

        for (const Answer& answer : answers) {
            EXPECT_EQ(answer.status, 502) << answer.body;
        }
        const std::size_t attempts = midline_attempts();
        std::printf(
            "C5 RETRY_BUDGET_PERCENT=%s: %zu attempts at backline for 100 edge "
            "requests (%.2f per request)\n",
            budget.c_str(),
            attempts,
            static_cast<double>(attempts) / 100.0);
        return attempts;
    }
};

TEST_F(RetryBudgetTest, WithoutABudgetEveryRequestMakesAllItsAttempts) {
    const std::size_t attempts = attempts_for_100_edge_requests("none");

    // Only the hop next to the failure retries: midline answers frontier a 502, which
    // frontier does not retry, so three attempts per request, not nine.
    EXPECT_EQ(attempts, 300u);
}

TEST_F(RetryBudgetTest, BudgetKeepsAttemptsNearTheRequestCount) {
    const std::size_t attempts = attempts_for_100_edge_requests("20");

    EXPECT_GE(attempts, 100u);
    EXPECT_LE(attempts, 144u + 2 * 3u);
}

// C6 B: a call that times out is one failure and one slow call.
TEST_F(ScenarioTest, TimeoutCountsOnceAsFailureAndOnceAsSlow) {
    start({{"FAIL_RATE", "0"},
           {"SLOW_RATE", "1"},
           {"SLEEP", "1.5"},
           {"CB_SLOW_CALL_DURATION_MS", "300"},
           {"CB_SLOW_CALL_RATE_THRESHOLD", "50"},
           {"LOG_FORMAT", "json"}});

    for (int i = 0; i < 5; ++i) {
        const Answer answer = midline("/api/timeout-request");
        ASSERT_EQ(answer.status, 502) << answer.body;
        EXPECT_EQ(json::parse(answer.body)["reason"], "timeout");
    }

    // The JSON log's transition line: the breaker at the top level, the window in its fields.
    std::istringstream lines(log("midline"));
    json transition;
    for (std::string line; std::getline(lines, line);) {
        auto parsed = json::parse(line, nullptr, false);
        if (parsed.is_object() && parsed.value("event", "") == "transition") {
            transition = parsed;
        }
    }
    ASSERT_TRUE(transition.is_object()) << log("midline");
    EXPECT_EQ(transition["breaker"], "midline->backline[timeout-request]");
    const json& window = transition["fields"]["window"];
    EXPECT_EQ(window["calls"], 5);
    EXPECT_EQ(window["failures"], 5);
    EXPECT_EQ(window["slow_calls"], 5);
}

// C7, second part: with midline->backline open, the edge gets 503s naming it, and frontier's
// own breaker stays closed: the calls were shed below, frontier did not fail.
TEST_F(ScenarioTest, ShedCallsNameTheOpenBreakerAndLeaveFrontierClosed) {
    start({});
    for (int i = 0; i < 5; ++i) {
        midline("/api/mustfail-request");
    }

    int named = 0;
    for (int i = 0; i < 20; ++i) {
        const Answer answer = edge("/api/mustfail-request");
        named += is_breaker_503(answer) &&
                 answer.headers["X-Circuit-Open"] == "midline->backline[mustfail-request]" &&
                 json::parse(answer.body)["breaker"] == "midline->backline[mustfail-request]";
    }

    EXPECT_EQ(named, 20);
    EXPECT_EQ(log("frontier").find("-> open"), std::string::npos);
}

// Deadline propagation: with a 1 s edge budget and a hung backline, the chain answers within
// the budget plus a margin although every hop's own timeout is 5 s, and no hop works past it.
TEST_F(ScenarioTest, EdgeBudgetBoundsTheWholeChain) {
    start({{"UPSTREAM_TIMEOUT_MS", "5000"}});
    stack_->signal("backline", SIGSTOP);

    const Answer answer = fetch(
        stack_->gateway_port(), "/api/success-request", 10s, {{"X-Request-Deadline-Ms", "1000"}});

    EXPECT_EQ(answer.status, 502) << answer.body;
    EXPECT_LT(answer.took, 1300ms);
    const std::string id(answer.headers["X-Request-ID"]);
    const std::string midline_log = log("midline");
    const auto line_start = midline_log.find("of midline->backline /api/success-request");
    ASSERT_NE(line_start, std::string::npos);
    const std::string attempt =
        midline_log.substr(line_start, midline_log.find('\n', line_start) - line_start);
    EXPECT_NE(attempt.find("-> timeout"), std::string::npos) << attempt;
    EXPECT_NE(attempt.find(id), std::string::npos) << attempt;
    int took_ms = 0;
    ASSERT_EQ(std::sscanf(attempt.c_str() + attempt.find(" in ") + 4, "%dms", &took_ms), 1);
    EXPECT_LT(took_ms, 1000) << "midline kept waiting past the edge budget: " << attempt;
}

// A budget already spent is answered at once with a 504, without calling the next hop.
TEST_F(ScenarioTest, SpentBudgetIsA504AtOnce) {
    start({});

    const Answer answer = fetch(
        stack_->port("midline"), "/api/success-request", 10s, {{"X-Request-Deadline-Ms", "5"}});

    EXPECT_EQ(answer.status, 504);
    EXPECT_EQ(json::parse(answer.body)["reason"], "deadline");
    EXPECT_EQ(hits("success-request"), 0u);
}

// The bulkhead: past UPSTREAM_MAX_CONCURRENT the call is refused at once with 503 bulkhead,
// and the refusals are not breaker failures.
TEST_F(ScenarioTest, BulkheadRefusesPastItsLimitWithoutOpeningTheBreaker) {
    start({{"FAIL_RATE", "0"},
           {"SLOW_RATE", "1"},
           {"SLEEP", "0.8"},
           {"UPSTREAM_MAX_CONCURRENT", "4"}});

    const auto answers = at_once(12, [&] { return midline("/api/timeout-request"); });

    int ok = 0;
    int refused = 0;
    for (const Answer& answer : answers) {
        ok += answer.status == 200;
        if (answer.status == 503 && answer.took < 500ms) {
            refused += json::parse(answer.body)["reason"] == "bulkhead";
        }
    }
    EXPECT_EQ(ok, 4);
    EXPECT_EQ(refused, 8);
    EXPECT_EQ(hits("timeout-request"), 4u);
    EXPECT_EQ(log("midline").find("-> open"), std::string::npos);
}

// In-flight trip: a hung backline opens the breaker once the calls in flight are older than
// the slow-call duration, long before the upstream timeout would report them.
TEST_F(ScenarioTest, HungBacklineOpensAtTheSlowThresholdNotAtTheTimeout) {
    start({{"UPSTREAM_TIMEOUT_MS", "5000"},
           {"CB_SLOW_CALL_DURATION_MS", "300"},
           {"CB_INFLIGHT_TRIP", "true"}});
    stack_->signal("backline", SIGSTOP);
    const auto started = std::chrono::steady_clock::now();

    auto hung = std::async(std::launch::async, [&] {
        return at_once(5, [&] { return midline("/api/success-request"); });
    });
    const bool opened =
        eventually([&] { return log("midline").find("closed -> open") != std::string::npos; }, 4s);
    const auto took = std::chrono::steady_clock::now() - started;
    const Answer next = midline("/api/success-request");
    stack_->signal("backline", SIGCONT);
    hung.get();

    ASSERT_TRUE(opened);
    std::printf("in-flight trip: open %lld ms after backline froze (slow 300 ms, timeout 5 s)\n",
                static_cast<long long>(
                    std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
    EXPECT_LT(took, 2s) << "the trip waited for the timeouts";
    EXPECT_TRUE(is_breaker_503(next)) << next.body;
    EXPECT_LT(next.took, 500ms);
    EXPECT_NE(log("midline").find("in-flight slow-call rate"), std::string::npos);
}

}  // namespace
}  // namespace circuitlab::testing
