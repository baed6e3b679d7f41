#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

namespace circuitlab::breaker {

/// What the sliding window of a closed breaker holds.
enum class WindowType {
    count,  ///< The last `window_size` calls.
    time,   ///< The calls of the last `window_size` seconds, in one-second buckets.
};

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
inline constexpr WindowType window_type = WindowType::count;
inline constexpr double open_backoff = 1.0;
inline constexpr std::chrono::milliseconds max_wait_in_open{60'000};
inline constexpr double open_jitter = 0.0;
inline constexpr bool auto_half_open = false;
inline constexpr bool inflight_trip = false;
}  // namespace defaults

/// Settings of one breaker. The config loader validates them once; the breaker trusts them.
struct BreakerConfig {
    /// Count-based (last calls) or time-based (last seconds) sliding window.
    WindowType window_type = defaults::window_type;

    /// Size of the sliding window (>= 1): calls for a count window, seconds for a time window.
    std::size_t window_size = defaults::window_size;

    /// Calls the window must hold before rates are judged (>= 1; at most window_size for a
    /// count window).
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

    /// Factor (>= 1) the open wait grows by after each failed probe (half-open -> open);
    /// 1 keeps the wait fixed. The wait returns to `wait_in_open` once the breaker closes.
    double open_backoff = defaults::open_backoff;

    /// Cap of the grown open wait (>= wait_in_open when open_backoff > 1).
    std::chrono::milliseconds max_wait_in_open = defaults::max_wait_in_open;

    /// Spread of each open wait as a fraction in [0, 1): 0.1 draws it uniformly within
    /// +-10% of the (grown, capped) wait. 0 is off.
    double open_jitter = defaults::open_jitter;

    /// Whether an open breaker moves to half-open when its wait is over by itself (through
    /// poll() or any state read), rather than on the next call.
    bool auto_half_open = defaults::auto_half_open;

    /// Whether a closed breaker also opens on calls still in flight: when at least
    /// minimum_calls are in flight and the share of them older than slow_call_duration
    /// reaches slow_call_rate_threshold.
    bool inflight_trip = defaults::inflight_trip;
};

/// Checks the settings against their ranges. Returns a message naming the first bad
/// setting, or nullopt when all are good.
std::optional<std::string> validate(const BreakerConfig& config);

}  // namespace circuitlab::breaker
