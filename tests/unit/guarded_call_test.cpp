#include "circuitlab/lab/guarded_call.hpp"

#include <set>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "circuitlab/http/query.hpp"
#include "circuitlab/lab/backline_scenarios.hpp"

namespace circuitlab::lab {
namespace {

std::optional<bool> bypass_of(const std::string& query) {
    http::Request request;
    http::RequestContext context{
        request, "/api/success-request", *http::parse_query(query), {}, "id"};
    return parse_bypass(context);
}

TEST(BypassFlagTest, AcceptsTheDesignsValues) {
    for (const char* yes : {"1", "true", "yes", "on"}) {
        EXPECT_EQ(bypass_of(std::string("non_circuit_breaker=") + yes), true) << yes;
    }
    for (const char* no : {"0", "false", "no", "off"}) {
        EXPECT_EQ(bypass_of(std::string("non_circuit_breaker=") + no), false) << no;
    }
    EXPECT_EQ(bypass_of(""), false);
    EXPECT_EQ(bypass_of("other=1"), false);
}

TEST(BypassFlagTest, AnythingElseIsAnError) {
    EXPECT_EQ(bypass_of("non_circuit_breaker=maybe"), std::nullopt);
    EXPECT_EQ(bypass_of("non_circuit_breaker="), std::nullopt);
    EXPECT_EQ(bypass_of("non_circuit_breaker=TRUE"), std::nullopt);
}

TEST(ForecastTest, IsFiveDaysWithDateTemperatureAndSummary) {
    const auto days = nlohmann::json::parse(forecast_json());

    ASSERT_EQ(days.size(), 5u);
    for (const auto& day : days) {
        const std::string date = day["date"];
        EXPECT_EQ(date.size(), 10u);
        EXPECT_EQ(date[2], '/');
        EXPECT_EQ(date[5], '/');
        EXPECT_TRUE(day["temperatureC"].is_number_integer());
        EXPECT_TRUE(day["summary"].is_string());
    }
}

TEST(ForecastTest, DaysFollowTodayWithTemperaturesInRangeAndNoOtherFields) {
    const auto days = nlohmann::json::parse(forecast_json());

    std::set<std::string> dates;
    for (const auto& day : days) {
        EXPECT_EQ(day.size(), 3u);
        const int celsius = day["temperatureC"];
        EXPECT_GE(celsius, -20);
        EXPECT_LE(celsius, 55);
        EXPECT_FALSE(day["summary"].get<std::string>().empty());
        dates.insert(day["date"].get<std::string>());
    }
    EXPECT_EQ(dates.size(), 5u);  // five different days
}

}  // namespace
}  // namespace circuitlab::lab
