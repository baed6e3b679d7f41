#include "circuitlab/replay/trace.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace circuitlab::replay {
namespace {

using namespace std::chrono_literals;

// The message and line of the TraceError a parse throws; line 0 when it does not throw.
std::pair<std::size_t, std::string> error_of(const std::string& text) {
    try {
        parse_trace(text);
    } catch (const TraceError& error) {
        return {error.line(), error.what()};
    }
    return {0, ""};
}

TEST(TraceTest, ReadsCsvCallsWithAndWithoutLatency) {
    const auto trace = parse_trace("time_ms,outcome,latency_ms\n0,success,12\n5,timeout\n");

    ASSERT_EQ(trace.size(), 2u);
    EXPECT_EQ(trace[0].line, 2u);
    EXPECT_EQ(trace[0].end, CallEnd::success);
    EXPECT_EQ(trace[0].latency, 12ms);
    EXPECT_EQ(trace[1].at, 5ms);
    EXPECT_EQ(trace[1].end, CallEnd::timeout);
    EXPECT_EQ(trace[1].latency, 0ms);
}

TEST(TraceTest, ReadsSpreadsheetExports) {
    // A byte order mark, a quoted header and quoted fields, as spreadsheets write CSV.
    const auto trace =
        parse_trace("\xEF\xBB\xBF\"time_ms\",\"outcome\",\"latency_ms\"\n\"5\",\"500\",\"7\"\n");

    ASSERT_EQ(trace.size(), 1u);
    EXPECT_EQ(trace[0].at, 5ms);
    EXPECT_EQ(trace[0].status, 500);
    EXPECT_EQ(trace[0].latency, 7ms);
}

TEST(TraceTest, ReadsAnHttpStatusAsOutcome) {
    const auto trace = parse_trace("7, 503 , 40\n");

    ASSERT_EQ(trace.size(), 1u);
    EXPECT_EQ(trace[0].end, CallEnd::status);
    EXPECT_EQ(trace[0].status, 503);
}

TEST(TraceTest, ReadsOperatorLines) {
    const auto trace =
        parse_trace("1000,force,forced_open\n{\"time_ms\":2000,\"force\":\"closed\"}");

    ASSERT_EQ(trace.size(), 2u);
    EXPECT_EQ(trace[0].kind, TraceEntry::Kind::force);
    EXPECT_EQ(trace[0].forced, breaker::State::forced_open);
    EXPECT_EQ(trace[1].kind, TraceEntry::Kind::force);
    EXPECT_EQ(trace[1].forced, breaker::State::closed);
}

TEST(TraceTest, ReadsJsonLines) {
    const auto trace = parse_trace(
        "{\"time_ms\": 10, \"outcome\": \"shed\", \"latency_ms\": 3}\n"
        "{\"time_ms\": 11, \"status\": 404}\n");

    ASSERT_EQ(trace.size(), 2u);
    EXPECT_EQ(trace[0].end, CallEnd::shed);
    EXPECT_EQ(trace[0].latency, 3ms);
    EXPECT_EQ(trace[1].end, CallEnd::status);
    EXPECT_EQ(trace[1].status, 404);
}

TEST(TraceTest, ReadsRoutesInOrderOfAppearance) {
    const auto trace = read_trace(
        "0,success,1,checkout\n1,failure,,search\n2,force,closed\n"
        "{\"time_ms\": 3, \"status\": 200, \"route\": \"checkout\"}\n");

    EXPECT_EQ(trace.routes, (std::vector<std::string>{"", "checkout", "search"}));
    ASSERT_EQ(trace.entries.size(), 4u);
    EXPECT_EQ(trace.entries[0].route, 1u);
    EXPECT_EQ(trace.entries[1].route, 2u);
    EXPECT_EQ(trace.entries[1].latency, 0ms);
    EXPECT_EQ(trace.entries[2].route, 0u);
    EXPECT_EQ(trace.entries[3].route, 1u);
}

TEST(TraceTest, SkipsBlankLinesAndComments) {
    const auto trace = parse_trace("# a day of traffic\n\n   \n0,success,1\r\n");

    ASSERT_EQ(trace.size(), 1u);
    EXPECT_EQ(trace[0].line, 4u);
}

TEST(TraceTest, NamesTheLineOfAnUnknownOutcome) {
    const auto [line, message] = error_of("0,success,1\n# note\n5,sucess,1\n");

    EXPECT_EQ(line, 3u);
    EXPECT_NE(message.find("bad outcome \"sucess\""), std::string::npos) << message;
}

TEST(TraceTest, RejectsNegativeOrFractionalTimes) {
    EXPECT_EQ(error_of("-5,success,1").first, 1u);
    EXPECT_EQ(error_of("1.5,success,1").first, 1u);
    EXPECT_EQ(error_of("0,success,-1").first, 1u);
    EXPECT_NE(error_of("0,success,-1").second.find("latency_ms"), std::string::npos);
}

TEST(TraceTest, RejectsStatusesOutsideHttp) {
    EXPECT_EQ(error_of("0,99,1").first, 1u);
    EXPECT_EQ(error_of("0,600,1").first, 1u);
}

TEST(TraceTest, RejectsWrongFieldCounts) {
    EXPECT_EQ(error_of("0\n").first, 1u);
    EXPECT_EQ(error_of("0,success,1,checkout,2\n").first, 1u);
    EXPECT_EQ(error_of("0,force\n").first, 1u);
}

TEST(TraceTest, RejectsForcingHalfOpen) {
    // Half-open is reached only through the wait; an operator cannot force it.
    EXPECT_NE(error_of("0,force,half_open").second.find("bad state"), std::string::npos);
}

TEST(TraceTest, RejectsBadJson) {
    EXPECT_EQ(error_of("{\"time_ms\": 1, \"outcome\": \"success\"\n").second, "not a JSON object");
    EXPECT_EQ(error_of("{\"outcome\": \"success\"}").second, "missing time_ms");
    EXPECT_NE(error_of("{\"time_ms\": 1, \"outcome\": \"success\", \"latncy_ms\": 4}")
                  .second.find("unknown field \"latncy_ms\""),
              std::string::npos);
    EXPECT_EQ(error_of("{\"time_ms\": 1, \"status\": 500, \"force\": \"open\"}").second,
              "expected either outcome (or status) or force");
    EXPECT_EQ(error_of("{\"time_ms\": 1.5, \"status\": 500}").first, 1u);
}

}  // namespace
}  // namespace circuitlab::replay
