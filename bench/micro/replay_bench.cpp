// Micro-benchmarks of the replay: reading a day of traffic and running it through a breaker
// on the virtual clock, at 1, 10 and 100 calls per second.

#include <cstdint>
#include <random>
#include <string>

#include <benchmark/benchmark.h>

#include "circuitlab/replay/replay.hpp"

namespace {

using namespace circuitlab::replay;

constexpr std::int64_t day_ms = 86'400'000;

// The same day as make_day_trace.sh: 2% failures, 20-200 ms, a 30-minute outage at 10:00.
std::string day_trace(std::int64_t calls_per_second) {
    std::mt19937 random(42);
    std::uniform_int_distribution<int> latency(20, 199);
    std::uniform_int_distribution<int> percent(0, 99);
    const std::int64_t step = 1000 / calls_per_second;
    std::string text = "time_ms,outcome,latency_ms\n";
    for (std::int64_t ms = 0; ms < day_ms; ms += step) {
        if (ms >= 36'000'000 && ms < 37'800'000) {
            text += std::to_string(ms) + ",timeout,1000\n";
        } else {
            const char* outcome = percent(random) < 2 ? ",500," : ",200,";
            text += std::to_string(ms) + outcome + std::to_string(latency(random)) + "\n";
        }
    }
    return text;
}

ReplaySettings lab_settings() {
    ReplaySettings settings;
    settings.breaker.wait_in_open = std::chrono::seconds(10);
    return settings;
}

void BM_ReplayParseDay(benchmark::State& state) {
    const std::string text = day_trace(state.range(0));
    for (auto _ : state) {
        auto trace = parse_trace(text);
        benchmark::DoNotOptimize(trace);
    }
    state.SetItemsProcessed(state.iterations() * day_ms / 1000 * state.range(0));
}
BENCHMARK(BM_ReplayParseDay)->Arg(1)->Arg(10)->Arg(100)->Unit(benchmark::kMillisecond);

void BM_ReplayRunDay(benchmark::State& state) {
    const auto trace = parse_trace(day_trace(state.range(0)));
    const ReplaySettings settings = lab_settings();
    for (auto _ : state) {
        auto result = run(trace, settings);
        benchmark::DoNotOptimize(result);
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(trace.size()));
}
BENCHMARK(BM_ReplayRunDay)->Arg(1)->Arg(10)->Arg(100)->Unit(benchmark::kMillisecond);

}  // namespace
