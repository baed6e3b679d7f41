#include "circuitlab/breaker/window.hpp"

#include <chrono>

#include <gtest/gtest.h>

namespace circuitlab::breaker {
namespace {

TEST(CountWindowTest, EmptyWindowHasNoRates) {
    CountWindow window(3);

    EXPECT_FALSE(window.counts().failure_rate().has_value());
    EXPECT_FALSE(window.counts().slow_call_rate().has_value());
}

TEST(CountWindowTest, CountsFailuresAndSlowCalls) {
    CountWindow window(4);

    window.record(true, false);
    window.record(false, true);
    window.record(true, true);

    EXPECT_EQ(window.counts().calls, 3u);
    EXPECT_EQ(window.counts().failures, 2u);
    EXPECT_EQ(window.counts().slow_calls, 2u);
    EXPECT_EQ(window.counts().slow_failures, 1u);
}

TEST(CountWindowTest, OverwritesTheOldestWhenFull) {
    CountWindow window(2);

    window.record(true, true);
    window.record(false, true);
    EXPECT_EQ(window.counts().slow_failures, 1u);
    window.record(false, false);
    window.record(false, false);

    EXPECT_EQ(window.counts().calls, 2u);
    EXPECT_EQ(window.counts().failures, 0u);
    EXPECT_EQ(window.counts().slow_calls, 0u);
    EXPECT_EQ(window.counts().slow_failures, 0u);
}

TEST(CountWindowTest, ClearForgetsEverything) {
    CountWindow window(2);
    window.record(true, true);

    window.clear();
    window.record(false, false);

    EXPECT_EQ(window.counts().calls, 1u);
    EXPECT_EQ(window.counts().failures, 0u);
}

// --- TimeWindow -----------------------------------------------------------------------

using namespace std::chrono_literals;

// A whole second, so bucket boundaries fall where the tests expect them.
const Clock::time_point t0{std::chrono::hours(1)};

TEST(TimeWindowTest, CountsCallsOfTheCurrentAndRecentSeconds) {
    TimeWindow window(3);

    window.record(t0, true, false);
    window.record(t0 + 1s, false, true);
    window.record(t0 + 2900ms, true, true);

    EXPECT_EQ(window.counts().calls, 3u);
    EXPECT_EQ(window.counts().failures, 2u);
    EXPECT_EQ(window.counts().slow_calls, 2u);
    EXPECT_EQ(window.counts().slow_failures, 1u);
}

TEST(TimeWindowTest, DropsASecondOnceItIsWindowSecondsOld) {
    TimeWindow window(3);
    window.record(t0 + 500ms, true, false);
    window.record(t0 + 1s, false, false);

    window.age(t0 + 3s);

    EXPECT_EQ(window.counts().calls, 1u);
    EXPECT_EQ(window.counts().failures, 0u);
}

TEST(TimeWindowTest, KeepsASecondUntilItsLastMoment) {
    TimeWindow window(3);
    window.record(t0, true, false);

    window.age(t0 + 2999ms);

    EXPECT_EQ(window.counts().calls, 1u);
}

TEST(TimeWindowTest, LongSilenceEmptiesEveryBucket) {
    TimeWindow window(4);
    for (int s = 0; s < 4; ++s) {
        window.record(t0 + std::chrono::seconds(s), true, true);
    }

    EXPECT_EQ(window.counts().slow_failures, 4u);
    window.age(t0 + 1h);

    EXPECT_EQ(window.counts().calls, 0u);
    EXPECT_EQ(window.counts().failures, 0u);
    EXPECT_EQ(window.counts().slow_calls, 0u);
    EXPECT_EQ(window.counts().slow_failures, 0u);
}

TEST(TimeWindowTest, ReusedBucketStartsEmpty) {
    TimeWindow window(2);
    window.record(t0, true, false);

    window.record(t0 + 2s, false, false);  // same bucket as t0, two turns later

    EXPECT_EQ(window.counts().calls, 1u);
    EXPECT_EQ(window.counts().failures, 0u);
}

TEST(TimeWindowTest, ClearForgetsEverything) {
    TimeWindow window(2);
    window.record(t0, true, true);

    window.clear();
    window.record(t0 + 1s, false, false);

    EXPECT_EQ(window.counts().calls, 1u);
    EXPECT_EQ(window.counts().failures, 0u);
}

TEST(SlidingWindowTest, CountTypeIgnoresTime) {
    SlidingWindow window(WindowType::count, 2);
    window.record(t0, true, false);

    EXPECT_EQ(window.counts(t0 + 1h).calls, 1u);
}

TEST(SlidingWindowTest, TimeTypeAgesWhenAskedForCounts) {
    SlidingWindow window(WindowType::time, 2);
    window.record(t0, true, false);

    EXPECT_EQ(window.counts(t0 + 2s).calls, 0u);
}

}  // namespace
}  // namespace circuitlab::breaker
