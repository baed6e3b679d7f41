#include "circuitlab/lab/retry.hpp"

#include <vector>

#include <gtest/gtest.h>

namespace circuitlab::lab {
namespace {

using namespace std::chrono_literals;

RetryPolicy policy_with(std::optional<double> percent, std::size_t minimum) {
    RetryPolicy policy;
    policy.attempts = 2;
    policy.budget_percent = percent;
    policy.budget_min = minimum;
    return policy;
}

TEST(BackoffTest, CeilingDoublesFromTheBaseUpToTheCap) {
    RetryPolicy policy;
    policy.backoff_base = 50ms;
    policy.backoff_cap = 300ms;
    const double almost_one = 0.999999;

    EXPECT_EQ(backoff_delay(policy, 0, almost_one), 49ms);
    EXPECT_EQ(backoff_delay(policy, 1, almost_one), 99ms);
    EXPECT_EQ(backoff_delay(policy, 2, almost_one), 199ms);
    EXPECT_EQ(backoff_delay(policy, 3, almost_one), 299ms);
    EXPECT_EQ(backoff_delay(policy, 1000, almost_one), 299ms);
}

TEST(BackoffTest, FullJitterSpansZeroToTheCeiling) {
    RetryPolicy policy;
    policy.backoff_base = 100ms;

    EXPECT_EQ(backoff_delay(policy, 0, 0.0), 0ms);
    EXPECT_EQ(backoff_delay(policy, 0, 0.5), 50ms);
    EXPECT_EQ(backoff_delay(policy, 1, 0.5), 100ms);
}

TEST(BackoffTest, RandomDrawsStayInTheUnitInterval) {
    for (int i = 0; i < 1000; ++i) {
        const double draw = random_draw();
        ASSERT_GE(draw, 0.0);
        ASSERT_LT(draw, 1.0);
    }
}

TEST(HopLoadTest, BulkheadRefusesPastTheLimitAndFreesOnRelease) {
    HopLoad load(2, RetryPolicy{});

    auto first = load.enter();
    auto second = load.enter();
    auto third = load.enter();

    EXPECT_TRUE(first);
    EXPECT_TRUE(second);
    EXPECT_FALSE(third);
    EXPECT_EQ(load.requests(), 2u);
    first = {};
    EXPECT_TRUE(load.enter());
}

TEST(HopLoadTest, NoLimitMeansNoBulkhead) {
    HopLoad load(0, RetryPolicy{});
    std::vector<HopLoad::Slot> slots;

    for (int i = 0; i < 1000; ++i) {
        slots.push_back(load.enter());
        ASSERT_TRUE(slots.back());
    }
}

TEST(HopLoadTest, BudgetAllowsItsShareOfRequestsInFlight) {
    HopLoad load(0, policy_with(20.0, 3));
    std::vector<HopLoad::Slot> requests;
    for (int i = 0; i < 100; ++i) {
        requests.push_back(load.enter());
    }
    std::vector<HopLoad::Slot> retries;

    for (int i = 0; i < 30; ++i) {
        if (auto slot = load.retry()) {
            retries.push_back(std::move(slot));
        }
    }

    EXPECT_EQ(retries.size(), 20u);
    EXPECT_EQ(load.peak_retries(), 20u);
}

TEST(HopLoadTest, BudgetAlwaysAllowsItsMinimum) {
    HopLoad load(0, policy_with(20.0, 3));
    auto request = load.enter();

    auto a = load.retry();
    auto b = load.retry();
    auto c = load.retry();
    auto d = load.retry();

    EXPECT_TRUE(a && b && c);
    EXPECT_FALSE(d);
}

TEST(HopLoadTest, FinishedRetriesGiveTheirPlaceBack) {
    HopLoad load(0, policy_with(0.0, 1));
    auto request = load.enter();
    auto retry = load.retry();
    ASSERT_TRUE(retry);
    EXPECT_FALSE(load.retry());

    retry = {};

    EXPECT_EQ(load.retries(), 0u);
    EXPECT_TRUE(load.retry());
}

TEST(HopLoadTest, NoBudgetLetsEveryRetryGo) {
    HopLoad load(0, policy_with(std::nullopt, 0));
    auto request = load.enter();
    std::vector<HopLoad::Slot> retries;

    for (int i = 0; i < 500; ++i) {
        retries.push_back(load.retry());
        ASSERT_TRUE(retries.back());
    }
}

TEST(HopLoadTest, ShrinkingLoadShrinksTheBudget) {
    HopLoad load(0, policy_with(50.0, 0));
    std::vector<HopLoad::Slot> requests;
    for (int i = 0; i < 4; ++i) {
        requests.push_back(load.enter());
    }
    auto first = load.retry();
    auto second = load.retry();
    ASSERT_TRUE(first && second);

    requests.resize(2);  // two requests finished: 50% of 2 is one retry
    first = {};

    EXPECT_FALSE(load.retry());
    second = {};
    EXPECT_TRUE(load.retry());
}

}  // namespace
}  // namespace circuitlab::lab
