// Many threads on one breaker, random outcomes, a clock that moves under them: the
// invariants must hold at every moment. Built to run under ThreadSanitizer too (label
// `concurrency`).

#include "circuitlab/breaker/circuit_breaker.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <latch>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include "support/fake_clock.hpp"

namespace circuitlab::breaker {
namespace {

using namespace std::chrono_literals;

constexpr int thread_count = 4;
constexpr int calls_per_thread = 50'000;

/// What the threads saw, checked after they have all joined.
struct Journal {
    std::mutex mutex;
    std::vector<Transition> transitions;
    std::map<std::uint64_t, std::size_t> trials_held;  ///< Per generation, right now.
    std::size_t most_trials_held = 0;

    void on_transition(const Transition& transition) {
        std::lock_guard lock(mutex);
        transitions.push_back(transition);
    }

    void trial_taken(std::uint64_t generation) {
        std::lock_guard lock(mutex);
        most_trials_held = std::max(most_trials_held, ++trials_held[generation]);
    }

    void trial_returned(std::uint64_t generation) {
        std::lock_guard lock(mutex);
        --trials_held[generation];
    }
};

class CircuitBreakerStressTest : public ::testing::TestWithParam<WindowType> {
  protected:
    CircuitBreakerStressTest() {
        config_.window_type = GetParam();
        config_.window_size = 20;
        config_.minimum_calls = 5;
        config_.failure_rate_threshold = 50.0;
        config_.slow_call_rate_threshold = 80.0;
        config_.slow_call_duration = 5ms;
        config_.consecutive_failures = 8;
        config_.wait_in_open = 20ms;
        config_.half_open_calls = 3;
        config_.max_wait_in_half_open = 30ms;
        config_.open_backoff = 1.5;
        config_.max_wait_in_open = 100ms;
        config_.open_jitter = 0.2;
        config_.auto_half_open = true;
        config_.inflight_trip = true;
    }

    // One thread's share: calls with random outcomes, sometimes held across others' calls.
    void hammer(CircuitBreaker& breaker, unsigned seed) {
        std::mt19937 random(seed);
        std::vector<Permit> held;
        for (int i = 0; i < calls_per_thread; ++i) {
            auto admission = breaker.try_acquire();
            if (auto* rejection = std::get_if<Rejection>(&admission)) {
                ++rejected_;
                check_rejection(*rejection);
            } else {
                ++permitted_;
                held.push_back(std::move(std::get<Permit>(admission)));
                if (held.back().trial()) {
                    journal_.trial_taken(held.back().generation());
                }
            }
            if (held.size() > random() % 4) {
                finish(held.front(), random);
                held.erase(held.begin());
            }
            act_on_the_side(breaker, random);
        }
        for (Permit& permit : held) {
            finish(permit, random);
        }
    }

    void finish(Permit& permit, std::mt19937& random) {
        // Counted as returned before the slot frees and as taken after it is taken, so the
        // journal can only undercount the trials held, never see one too many.
        if (permit.trial()) {
            journal_.trial_returned(permit.generation());
        }
        const auto roll = random() % 10;
        permit.complete(roll < 4   ? Outcome::failure
                        : roll < 9 ? Outcome::success
                                   : Outcome::ignored);
    }

    void act_on_the_side(CircuitBreaker& breaker, std::mt19937& random) {
        const auto roll = random() % 100;
        if (roll < 10) {
            clock_.advance(std::chrono::milliseconds(random() % 4));
        } else if (roll < 12) {
            breaker.poll();
        } else if (roll < 14) {
            check_snapshot(breaker.snapshot());
        } else if (roll == 14 && random() % 20 == 0) {
            breaker.force(random() % 2 ? State::closed : State::metrics_only);
        }
    }

    void check_rejection(const Rejection& rejection) {
        EXPECT_TRUE(rejection.state == State::open || rejection.state == State::half_open ||
                    rejection.state == State::forced_open);
        EXPECT_GE(rejection.retry_after.count(), 0);
    }

    void check_snapshot(const Snapshot& view) {
        EXPECT_LE(view.trials_in_flight, config_.half_open_calls);
        EXPECT_LE(view.window.failures, view.window.calls);
        EXPECT_LE(view.window.slow_calls, view.window.calls);
        EXPECT_LE(view.slow_in_flight, view.in_flight);
        if (config_.window_type == WindowType::count) {
            EXPECT_LE(view.window.calls, config_.window_size);
        }
    }

    // Sorted by generation, transitions form one chain of legal moves with no gap.
    void check_transitions(const Snapshot& last) {
        auto transitions = journal_.transitions;
        std::sort(transitions.begin(), transitions.end(), [](const auto& a, const auto& b) {
            return a.generation < b.generation;
        });
        ASSERT_EQ(transitions.size(), last.generation);
        State state = State::closed;
        for (std::size_t i = 0; i < transitions.size(); ++i) {
            const Transition& t = transitions[i];
            EXPECT_EQ(t.generation, i + 1);
            EXPECT_EQ(t.from, state) << "generation " << t.generation;
            EXPECT_TRUE(is_legal_transition(t.from, t.to)) << describe(t);
            state = t.to;
        }
        EXPECT_EQ(state, last.state);
    }

    BreakerConfig config_;
    testing::FakeClock clock_;
    Journal journal_;
    std::atomic<std::uint64_t> permitted_{0};
    std::atomic<std::uint64_t> rejected_{0};
};

TEST_P(CircuitBreakerStressTest, InvariantsHoldUnderManyThreads) {
    std::mt19937 seeds(GetParam() == WindowType::count ? 11 : 12);
    auto breaker = CircuitBreaker::create(
        "stress",
        config_,
        clock_,
        [this](const Transition& t) { journal_.on_transition(t); },
        [draw = std::mt19937(7)]() mutable {
            return std::uniform_real_distribution<double>(0.0, 1.0)(draw);
        });

    std::latch start(thread_count);
    std::vector<std::thread> threads;
    for (int i = 0; i < thread_count; ++i) {
        threads.emplace_back([this, &breaker, &start, seed = seeds()] {
            start.arrive_and_wait();  // all at once, so they really contend
            hammer(*breaker, seed);
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }

    const Snapshot last = breaker->snapshot();
    EXPECT_EQ(permitted_ + rejected_, std::uint64_t{thread_count} * calls_per_thread);
    EXPECT_LE(journal_.most_trials_held, config_.half_open_calls);
    EXPECT_EQ(last.trials_in_flight, 0u);
    EXPECT_EQ(last.in_flight, 0u);
    check_snapshot(last);
    check_transitions(last);
    // The run must have exercised the machine, or it proves nothing.
    EXPECT_GT(rejected_.load(), 0u);
    EXPECT_GT(last.generation, 10u);
}

INSTANTIATE_TEST_SUITE_P(Windows,
                         CircuitBreakerStressTest,
                         ::testing::Values(WindowType::count, WindowType::time),
                         [](const auto& info) {
                             return std::string(info.param == WindowType::count ? "Count" : "Time");
                         });

}  // namespace
}  // namespace circuitlab::breaker
