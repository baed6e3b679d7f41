#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

namespace circuitlab::breaker {

/// Default settings: chosen so a lab shows every transition within seconds, by hand.
namespace defaults {
inline constexpr std::size_t window_size = 10;
inline constexpr std::size_t minimum_calls = 5;
inline constexpr double failure_rate_threshold = 50.0;
inline constexpr double slow_call_rate_threshold = 100.0;
inline constexpr std::chrono::milliseconds slow_call_duration{1000};
inline constexpr std::size_t consecutive_failures = 0;
inline constexpr std::chrono::milliseconds wait_in_open{10'000};
inline constexpr std::size_t half_open_calls = 3;
inline constexpr std::chrono::milliseconds max_wait_in_half_open{10'000};
}  // namespace defaults

/// Settings of one breaker. The config loader validates them once; the breaker trusts them.
struct BreakerConfig {
    /// Calls kept in the count-based sliding window (>= 1).
    std::size_t window_size = defaults::window_size;

    /// Calls the window must hold before rates are judged (1..window_size).
    std::size_t minimum_calls = defaults::minimum_calls;

    /// Failure rate in percent (0 < x <= 100) at or above which a closed breaker opens.
    double failure_rate_threshold = defaults::failure_rate_threshold;

    /// Slow-call rate in percent (0 < x <= 100) at or above which a closed breaker opens.
    double slow_call_rate_threshold = defaults::slow_call_rate_threshold;

    /// A call that took at least this long is slow, whatever its outcome.
    std::chrono::milliseconds slow_call_duration = defaults::slow_call_duration;

    /// Failures in a row that open a closed breaker at once; 0 turns the rule off.
    std::size_t consecutive_failures = defaults::consecutive_failures;

    /// Time an open breaker rejects calls before it lets trial calls through.
    std::chrono::milliseconds wait_in_open = defaults::wait_in_open;

    /// Trial calls let through in half-open (>= 1).
    std::size_t half_open_calls = defaults::half_open_calls;

    /// A half-open breaker whose trials have not all finished by then opens again (> 0).
    std::chrono::milliseconds max_wait_in_half_open = defaults::max_wait_in_half_open;
};

/// Checks the settings against their ranges. Returns a message naming the first bad
/// setting, or nullopt when all are good.
std::optional<std::string> validate(const BreakerConfig& config);

}  // namespace circuitlab::breaker
