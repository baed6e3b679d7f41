// What a user reading the logs sees: text lines as written, transitions marked, and with
// LOG_FORMAT=json one object per line with the request id and breaker at the top level.

#include "circuitlab/ops/logging.hpp"

#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "circuitlab/http/log_line.hpp"

namespace circuitlab::ops {
namespace {

breaker::Transition opened() {
    breaker::Transition transition;
    transition.breaker = "midline->backline[mustfail-request]";
    transition.from = breaker::State::closed;
    transition.to = breaker::State::open;
    transition.reason = "failure rate 100.0% >= 50.0% over 5 calls";
    transition.window.calls = 5;
    transition.window.failures = 5;
    transition.generation = 1;
    return transition;
}

void log_both() {
    log_transition(opened());
    const http::LogContext context{.event = "attempt",
                                   .request_id = "req-7",
                                   .breaker = "midline->backline[success-request]",
                                   .fields = {{"attempt", 1}, {"outcome", "200"}}};
    http::log_line(*logger("lab"), spdlog::level::debug, context, "attempt 1 -> 200 id=req-7");
}

/// The lines the loggers write to stdout while `body` runs, in the given format.
std::vector<std::string> lines_of(const std::string& format, void (*body)()) {
    setup_logging("midline", "debug", format);
    testing::internal::CaptureStdout();
    body();
    for (const char* name : {"breaker", "lab"}) {
        logger(name)->flush();
    }
    std::fflush(stdout);
    std::istringstream out(testing::internal::GetCapturedStdout());
    setup_logging("midline", "info", "text");
    std::vector<std::string> lines;
    for (std::string line; std::getline(out, line);) {
        lines.push_back(line);
    }
    return lines;
}

TEST(LoggingTest, TextLinesAreTheTextAndTransitionsStandOut) {
    const auto lines = lines_of("text", log_both);
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_NE(lines[0].find(" info  midline breaker: TRANSITION breaker "
                            "midline->backline[mustfail-request]: closed -> open (failure rate"),
              std::string::npos)
        << lines[0];
    EXPECT_NE(lines[1].find(" debug midline lab: attempt 1 -> 200 id=req-7"), std::string::npos)
        << lines[1];
    for (const auto& line : lines) {
        EXPECT_EQ(line.find('\x1e'), std::string::npos) << line;
        EXPECT_EQ(line.find('{'), std::string::npos) << line;
    }
}

TEST(LoggingTest, JsonLinesCarryRequestIdBreakerEventAndFields) {
    const auto lines = lines_of("json", log_both);
    ASSERT_EQ(lines.size(), 2u);

    const auto transition = nlohmann::json::parse(lines[0]);
    EXPECT_EQ(transition["level"], "info");
    EXPECT_EQ(transition["role"], "midline");
    EXPECT_EQ(transition["event"], "transition");
    EXPECT_EQ(transition["breaker"], "midline->backline[mustfail-request]");
    EXPECT_EQ(transition["fields"]["from"], "closed");
    EXPECT_EQ(transition["fields"]["to"], "open");
    EXPECT_EQ(transition["fields"]["reason"], "failure rate 100.0% >= 50.0% over 5 calls");
    EXPECT_EQ(transition["fields"]["window"]["failures"], 5);
    EXPECT_EQ(transition["fields"]["window"]["failure_rate"], 100.0);
    EXPECT_EQ(transition["msg"].get<std::string>().rfind("TRANSITION breaker ", 0), 0u);
    EXPECT_FALSE(transition.contains("request_id"));
    EXPECT_EQ(lines[0].rfind("{\"time\":\"", 0), 0u) << "the time leads each line";

    const auto attempt = nlohmann::json::parse(lines[1]);
    EXPECT_EQ(attempt["level"], "debug");
    EXPECT_EQ(attempt["logger"], "lab");
    EXPECT_EQ(attempt["event"], "attempt");
    EXPECT_EQ(attempt["request_id"], "req-7");
    EXPECT_EQ(attempt["breaker"], "midline->backline[success-request]");
    EXPECT_EQ(attempt["fields"]["outcome"], "200");
    EXPECT_EQ(attempt["msg"], "attempt 1 -> 200 id=req-7");
}

TEST(LoggingTest, JsonLinesKeepAPlainMessageAndEscapeBadBytes) {
    const auto lines = lines_of("json", [] { logger("lab")->info("plain \"quoted\" line \xff"); });
    ASSERT_EQ(lines.size(), 1u);
    const auto line = nlohmann::json::parse(lines[0]);
    EXPECT_EQ(line["msg"], "plain \"quoted\" line \xEF\xBF\xBD");
    EXPECT_FALSE(line.contains("event"));
}

}  // namespace
}  // namespace circuitlab::ops
