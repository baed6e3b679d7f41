#include "circuitlab/breaker/window.hpp"

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
}

TEST(CountWindowTest, OverwritesTheOldestWhenFull) {
    CountWindow window(2);

    window.record(true, true);
    window.record(false, false);
    window.record(false, false);

    EXPECT_EQ(window.counts().calls, 2u);
    EXPECT_EQ(window.counts().failures, 0u);
    EXPECT_EQ(window.counts().slow_calls, 0u);
}

TEST(CountWindowTest, ClearForgetsEverything) {
    CountWindow window(2);
    window.record(true, true);

    window.clear();
    window.record(false, false);

    EXPECT_EQ(window.counts().calls, 1u);
    EXPECT_EQ(window.counts().failures, 0u);
}

}  // namespace
}  // namespace circuitlab::breaker
