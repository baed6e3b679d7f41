// A plain loop of permit + record on a closed breaker with the real clock, for profilers:
// `valgrind --tool=callgrind circuitlab_breaker_profile_loop 200000` gives exact instruction
// counts per call (divide by the count), which timings on a shared machine cannot.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <variant>

#include "circuitlab/breaker/circuit_breaker.hpp"

int main(int argc, char** argv) {
    using namespace circuitlab::breaker;
    const long calls = argc > 1 ? std::atol(argv[1]) : 200'000;

    // Never trips, as in BM_PermitRecordClosed: 1 call in 10 fails.
    BreakerConfig config;
    config.window_size = 100;
    config.minimum_calls = 100;
    config.failure_rate_threshold = 100.0;
    config.slow_call_duration = std::chrono::hours(1);
    SteadyClock clock;
    auto breaker = CircuitBreaker::create("profile", config, clock);

    for (long call = 0; call < calls; ++call) {
        auto admission = breaker->try_acquire();
        if (auto* permit = std::get_if<Permit>(&admission)) {
            permit->complete(call % 10 == 9 ? Outcome::failure : Outcome::success);
        }
    }
    std::printf("%ld calls, state %s\n", calls, std::string(to_string(breaker->state())).c_str());
    return 0;
}
