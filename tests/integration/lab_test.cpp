// The whole lab on loopback: real processes, real Nginx, real sockets. Each test starts a
// fresh stack with short breaker waits so that transitions happen within seconds.

#include <signal.h>

#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <future>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "lab_stack.hpp"

namespace circuitlab::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

class LabTest : public StackTest {
  protected:
    void start(std::map<std::string, std::string> env) {
        env.emplace("CB_WAIT_IN_OPEN_MS", "1500");
        env.emplace("CB_MAX_WAIT_IN_HALF_OPEN_MS", "3000");
        env.emplace("UPSTREAM_TIMEOUT_MS", "500");
        start_stack(env);
    }

    Answer edge(const std::string& target) { return fetch(stack_->gateway_port(), target); }

    // Sends requests until one is rejected by an open breaker; returns that answer.
    Answer until_rejected(const std::string& target, int limit = 20) {
        for (int i = 0; i < limit; ++i) {
            Answer answer = edge(target);
            if (answer.status == 503 && answer.headers.count("X-Circuit-Open") > 0) {
                return answer;
            }
            EXPECT_EQ(answer.status, 502) << answer.body;
        }
        ADD_FAILURE() << "no breaker opened after " << limit << " requests";
        return {};
    }

    // Polls until the predicate holds or the bound passes (real time: real processes).
    static bool eventually(const std::function<bool()>& done, std::chrono::seconds bound = 10s) {
        const auto until = std::chrono::steady_clock::now() + bound;
        while (std::chrono::steady_clock::now() < until) {
            if (done()) {
                return true;
            }
            std::this_thread::sleep_for(100ms);
        }
        return false;
    }
};

TEST_F(LabTest, SuccessThroughTheGatewayReturnsFiveForecastItems) {
    start({});

    const Answer answer = edge("/api/success-request");

    ASSERT_EQ(answer.status, 200) << answer.body;
    const auto days = json::parse(answer.body);
    ASSERT_EQ(days.size(), 5u);
    EXPECT_TRUE(days[0].contains("date"));
    EXPECT_TRUE(days[0].contains("temperatureC"));
    EXPECT_TRUE(days[0].contains("summary"));
    EXPECT_FALSE(answer.headers["X-Request-ID"].empty());
}

TEST_F(LabTest, RequestIdIsForwardedAndLoggedOnEveryHop) {
    start({});

    const Answer answer = edge("/api/success-request");
    const std::string id(answer.headers["X-Request-ID"]);

    ASSERT_FALSE(id.empty());
    EXPECT_TRUE(eventually([&] {
        return stack_->log("frontier").find(id) != std::string::npos &&
               stack_->log("midline").find(id) != std::string::npos &&
               stack_->log("backline").find(id) != std::string::npos;
    }));
}

TEST_F(LabTest, MustfailStormGives502sThenFast503sWithRetryAfter) {
    start({});

    const Answer first = edge("/api/mustfail-request");
    EXPECT_EQ(first.status, 502);
    EXPECT_EQ(json::parse(first.body)["reason"], "upstream_status");

    const Answer rejected = until_rejected("/api/mustfail-request");
    ASSERT_EQ(rejected.status, 503);
    EXPECT_FALSE(rejected.headers["Retry-After"].empty());
    const auto body = json::parse(rejected.body);
    EXPECT_EQ(body["state"], "open");
    EXPECT_GT(body["retry_after_ms"].get<int>(), 0);
    EXPECT_NE(stack_->log("midline").find("closed -> open (failure rate"), std::string::npos);
}

TEST_F(LabTest, OneRoutesStormLeavesOtherRoutesAlone) {
    start({});

    until_rejected("/api/mustfail-request");

    EXPECT_EQ(edge("/api/success-request").status, 200);
}

TEST_F(LabTest, BreakerRecoversThroughHalfOpenOnceBacklineIsHealthy) {
    start({{"FAIL_RATE", "1"}, {"SLOW_RATE", "0"}});
    until_rejected("/api/timeout-request");

    stack_->restart("backline", {{"FAIL_RATE", "0"}, {"SLOW_RATE", "0"}});

    EXPECT_TRUE(eventually([&] { return edge("/api/timeout-request").status == 200; }));
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(edge("/api/timeout-request").status, 200);
    }
    EXPECT_NE(stack_->log("midline").find("open -> half_open"), std::string::npos);
    EXPECT_NE(stack_->log("midline").find("half_open -> closed"), std::string::npos);
}

TEST_F(LabTest, AutoHalfOpenMovesAnIdleBreakerAndBacksOffAfterAFailedProbe) {
    start({{"CB_AUTO_HALF_OPEN", "true"},
           {"CB_WAIT_IN_OPEN_MS", "400"},
           {"CB_MAX_WAIT_IN_HALF_OPEN_MS", "400"},
           {"CB_OPEN_BACKOFF", "2"},
           {"CB_HALF_OPEN_CALLS", "1"}});
    // Only this run's lines count: a run directory's logs may hold an earlier run's.
    const std::size_t from = stack_->log("midline").rfind("listening on");
    until_rejected("/api/mustfail-request");
    const std::string breaker = "breaker midline->backline[mustfail-request]: ";
    const auto logged = [&](const std::string& line) {
        return stack_->log("midline").find(breaker + line, from) != std::string::npos;
    };

    // No request: only the process's timer can move the breaker, and half-open then waits
    // for a first trial instead of timing out with nothing tried.
    EXPECT_TRUE(eventually([&] { return logged("open -> half_open (wait of 0.4 s over)"); }));
    std::this_thread::sleep_for(800ms);
    EXPECT_FALSE(logged("half_open -> open"));

    // One failed trial: open again for twice the wait, then half-open again by itself.
    EXPECT_EQ(edge("/api/mustfail-request").status, 502);
    EXPECT_TRUE(logged("half_open -> open (trial failure rate 100.0% >= 50.0% over 1 calls)"));
    EXPECT_TRUE(eventually([&] { return logged("open -> half_open (wait of 0.8 s over)"); }));
}

TEST_F(LabTest, KilledBacklineOpensTheBreakerWithoutBlockingHealth) {
    start({});

    stack_->signal("backline", SIGKILL);

    const Answer failed = edge("/api/success-request");
    EXPECT_EQ(failed.status, 502);
    until_rejected("/api/success-request");
    EXPECT_EQ(fetch(stack_->port("midline"), "/healthz").status, 200);
    EXPECT_EQ(edge("/healthz").status, 200);
}

TEST_F(LabTest, StoppedBacklineTimesOutThenFailsFast) {
    start({});
    stack_->signal("backline", SIGSTOP);

    const Answer slow = edge("/api/success-request");
    EXPECT_EQ(slow.status, 502);
    const Answer rejected = until_rejected("/api/success-request");
    const Answer fast = edge("/api/success-request");
    const Answer health = fetch(stack_->port("midline"), "/healthz", 2s);

    stack_->signal("backline", SIGCONT);
    EXPECT_EQ(rejected.status, 503);
    EXPECT_EQ(fast.status, 503);
    EXPECT_LT(fast.took, 400ms) << "an open breaker must not wait for the upstream timeout";
    EXPECT_EQ(health.status, 200);
}

TEST_F(LabTest, BypassReachesBacklineWhileTheBreakerIsOpen) {
    start({});
    until_rejected("/api/mustfail-request");

    const Answer bypassed = edge("/api/mustfail-request?non_circuit_breaker=1");

    EXPECT_EQ(bypassed.status, 502);
    const auto body = json::parse(bypassed.body);
    EXPECT_EQ(body["upstream_error"]["upstream_error"]["error"], "downstream failed");
    EXPECT_EQ(edge("/api/mustfail-request").status, 503);
}

TEST_F(LabTest, BadBypassValueIsA400) {
    start({});

    const Answer answer = edge("/api/success-request?non_circuit_breaker=maybe");

    EXPECT_EQ(answer.status, 400);
    EXPECT_NE(json::parse(answer.body)["error"].get<std::string>().find("non_circuit_breaker"),
              std::string::npos);
}

TEST_F(LabTest, SchemaAndSwaggerUiAreServedThroughTheGateway) {
    start({});

    const Answer schema = edge("/api/schema/");
    const Answer page = edge("/api/schema/swagger-ui/");
    const Answer bundle = edge("/api/schema/swagger-ui/swagger-ui-bundle.js");

    ASSERT_EQ(schema.status, 200);
    EXPECT_EQ(json::parse(schema.body)["openapi"], "3.1.0");
    EXPECT_TRUE(json::parse(schema.body)["paths"].contains("/api/timeout-request"));
    EXPECT_EQ(page.status, 200);
    EXPECT_NE(page.body.find("swagger-ui-bundle.js"), std::string::npos);
    EXPECT_EQ(bundle.status, 200);
    EXPECT_GT(bundle.body.size(), 100'000u);
}

TEST_F(LabTest, SigtermLetsTheRequestInFlightFinish) {
    start({{"SLOW_RATE", "1"}, {"FAIL_RATE", "0"}, {"SLEEP", "1"}});

    auto pending = std::async(std::launch::async, [&] {
        return fetch(stack_->port("backline"), "/api/timeout-request");
    });
    std::this_thread::sleep_for(300ms);  // the request is now waiting on backline's 1 s timer
    stack_->signal("backline", SIGTERM);

    const Answer answer = pending.get();
    EXPECT_EQ(answer.status, 200) << answer.body;
    EXPECT_TRUE(eventually(
        [&] { return stack_->log("backline").find("ops: stopped") != std::string::npos; }));
    EXPECT_EQ(fetch(stack_->port("backline"), "/healthz", 1s).status, 0);
}

TEST(StartupTest, BadSettingStopsWithOneLineNamingItAndExitCode2) {
    const std::string command =
        std::string("ROLE=midline CB_WINDOW_SIZE=ten ") + CIRCUITLAB_BIN + " 2>&1";
    FILE* pipe = ::popen(command.c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    std::string output;
    char buffer[256];
    while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) {
        output += buffer;
    }
    const int status = ::pclose(pipe);

    EXPECT_EQ(WEXITSTATUS(status), 2);
    EXPECT_EQ(output,
              "circuitlab: bad CB_WINDOW_SIZE (--cb-window-size): expected a number from 1 to "
              "10000, got \"ten\"\n");
}

}  // namespace
}  // namespace circuitlab::testing
