#include "circuitlab/lab/deadline.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace circuitlab::lab {
namespace {

using namespace std::chrono_literals;

http::Request with_budget(const char* value) {
    http::Request request{boost::beast::http::verb::get, "/api/success-request", 11};
    if (value != nullptr) {
        request.set(deadline_header, value);
    }
    return request;
}

TEST(DeadlineTest, ReadsWholeMilliseconds) {
    EXPECT_EQ(parse_deadline(with_budget("1000")), 1000ms);
    EXPECT_EQ(parse_deadline(with_budget("0")), 0ms);
    EXPECT_EQ(parse_deadline(with_budget("86400000")), 86'400'000ms);
}

TEST(DeadlineTest, IgnoresAbsentAndMalformedValues) {
    EXPECT_EQ(parse_deadline(with_budget(nullptr)), std::nullopt);
    for (const char* bad : {"", "-5", "1.5", "10s", "1 00", "abc", "86400001", "9999999999"}) {
        EXPECT_EQ(parse_deadline(with_budget(bad)), std::nullopt) << bad;
    }
}

TEST(DeadlineTest, DeadlineIsArrivalPlusBudgetMinusMargin) {
    const auto received = std::chrono::steady_clock::time_point{} + 10s;

    const auto deadline = request_deadline(with_budget("1000"), received, 20ms);

    ASSERT_TRUE(deadline);
    EXPECT_EQ(*deadline - received, 980ms);
    EXPECT_EQ(request_deadline(with_budget("x"), received, 20ms), std::nullopt);
}

TEST(DeadlineTest, SpentBudgetAnswers504NamingTheHop) {
    const auto answer = deadline_answer("midline->backline", 11);

    EXPECT_EQ(answer.result_int(), 504);
    const auto body = nlohmann::json::parse(answer.body());
    EXPECT_EQ(body["reason"], "deadline");
    EXPECT_EQ(body["where"], "midline->backline");
}

}  // namespace
}  // namespace circuitlab::lab
