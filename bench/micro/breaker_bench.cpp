// Micro-benchmarks of the breaker core: the cost a guarded call pays to ask for a permit and
// record its outcome, alone and under contention, and the cost of a rejection.

#include <chrono>
#include <ctime>
#include <memory>
#include <mutex>
#include <variant>

#include <benchmark/benchmark.h>

#include "circuitlab/breaker/circuit_breaker.hpp"

namespace {

using namespace circuitlab::breaker;
using namespace std::chrono_literals;

// A closed breaker that never trips, whatever the outcomes: the benchmark measures the
// bookkeeping, not transitions. Argument 0 picks the window: 0 count, 1 time; argument 1
// turns the in-flight trip (and its tracking) on.
BreakerConfig never_trips(const benchmark::State& state) {
    BreakerConfig config;
    config.window_type = state.range(0) == 0 ? WindowType::count : WindowType::time;
    config.window_size = 100;
    config.minimum_calls = 100;
    config.failure_rate_threshold = 100.0;
    config.slow_call_rate_threshold = 100.0;
    config.slow_call_duration = 1h;
    config.inflight_trip = state.range(1) != 0;
    return config;
}

// Every tenth call fails: the window keeps sliding over a mix of results.
Outcome outcome_of(std::size_t call) {
    return call % 10 == 9 ? Outcome::failure : Outcome::success;
}

void permit_and_record(CircuitBreaker& breaker, std::size_t call) {
    auto admission = breaker.try_acquire();
    if (auto* permit = std::get_if<Permit>(&admission)) {
        permit->complete(outcome_of(call));
    }
    benchmark::DoNotOptimize(admission);
}

SteadyClock steady_clock;

// One breaker shared by every thread of a run; thread 0 makes it before the others start.
std::shared_ptr<CircuitBreaker> shared_breaker;

void BM_PermitRecordClosed(benchmark::State& state) {
    if (state.thread_index() == 0) {
        shared_breaker = CircuitBreaker::create("bench", never_trips(state), steady_clock);
    }
    std::size_t call = 0;
    for (auto _ : state) {
        permit_and_record(*shared_breaker, call++);
    }
    state.SetItemsProcessed(state.iterations());
    if (state.thread_index() == 0 && shared_breaker->state() != State::closed) {
        state.SkipWithError("the breaker left closed");
    }
}
BENCHMARK(BM_PermitRecordClosed)
    ->ArgNames({"time_window", "inflight_trip"})
    ->Args({0, 0})
    ->Args({1, 0})
    ->Args({0, 1})
    ->ThreadRange(1, 8)
    ->UseRealTime();

void BM_RejectedWhenOpen(benchmark::State& state) {
    if (state.thread_index() == 0) {
        BreakerConfig config;
        config.wait_in_open = 1h;
        shared_breaker = CircuitBreaker::create("bench", config, steady_clock);
        shared_breaker->force(State::forced_open);
    }
    for (auto _ : state) {
        auto admission = shared_breaker->try_acquire();
        benchmark::DoNotOptimize(admission);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RejectedWhenOpen)->ThreadRange(1, 8)->UseRealTime();

void BM_RejectedWhenTripped(benchmark::State& state) {
    BreakerConfig config;
    config.wait_in_open = 1h;
    auto breaker = CircuitBreaker::create("bench", config, steady_clock);
    while (breaker->state() == State::closed) {
        auto admission = breaker->try_acquire();
        std::get<Permit>(admission).complete(Outcome::failure);
    }
    for (auto _ : state) {
        auto admission = breaker->try_acquire();
        benchmark::DoNotOptimize(admission);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RejectedWhenTripped);

void BM_PermitRecordWindowSize(benchmark::State& state) {
    BreakerConfig config = never_trips(state);
    config.window_size = static_cast<std::size_t>(state.range(2));
    config.minimum_calls = config.window_size;
    auto breaker = CircuitBreaker::create("bench", config, steady_clock);
    std::size_t call = 0;
    for (auto _ : state) {
        permit_and_record(*breaker, call++);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PermitRecordWindowSize)
    ->ArgNames({"time_window", "inflight_trip", "size"})
    ->ArgsProduct({{0, 1}, {0}, {10, 1000, 10'000}});

// --- The floor: what the pieces of a permit + record cost on their own ------------------

// A clock that does not move: permit + record without the cost of reading real time.
class StillClock final : public Clock {
  public:
    time_point now() const override { return time_point(std::chrono::hours(1)); }
};

void BM_PermitRecordStillClock(benchmark::State& state) {
    StillClock still;
    auto breaker = CircuitBreaker::create("bench", never_trips(state), still);
    std::size_t call = 0;
    for (auto _ : state) {
        permit_and_record(*breaker, call++);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PermitRecordStillClock)->ArgNames({"time_window", "inflight_trip"})->Args({0, 0});

// CLOCK_MONOTONIC_COARSE: the same monotonic time at the kernel tick's resolution (4 ms
// here), read without touching the TSC. What a cheaper production clock would cost.
class CoarseClock final : public Clock {
  public:
    time_point now() const override {
        timespec now{};
        clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
        return time_point(std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec));
    }
};

void BM_PermitRecordCoarseClock(benchmark::State& state) {
    CoarseClock coarse;
    auto breaker = CircuitBreaker::create("bench", never_trips(state), coarse);
    std::size_t call = 0;
    for (auto _ : state) {
        permit_and_record(*breaker, call++);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PermitRecordCoarseClock)->ArgNames({"time_window", "inflight_trip"})->Args({0, 0});

void BM_SteadyClockNow(benchmark::State& state) {
    for (auto _ : state) {
        benchmark::DoNotOptimize(steady_clock.now());
    }
}
BENCHMARK(BM_SteadyClockNow);

void BM_CoarseClockNow(benchmark::State& state) {
    timespec now{};
    for (auto _ : state) {
        clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
        benchmark::DoNotOptimize(now);
    }
}
BENCHMARK(BM_CoarseClockNow);

void BM_MutexLockUnlock(benchmark::State& state) {
    std::mutex mutex;
    for (auto _ : state) {
        std::lock_guard lock(mutex);
        benchmark::ClobberMemory();
    }
}
BENCHMARK(BM_MutexLockUnlock);

void BM_SharedPtrCopy(benchmark::State& state) {
    auto shared = std::make_shared<int>(1);
    for (auto _ : state) {
        auto copy = shared;
        benchmark::DoNotOptimize(copy);
    }
}
BENCHMARK(BM_SharedPtrCopy);

}  // namespace

BENCHMARK_MAIN();
