#include "circuitlab/breaker/breaker_config.hpp"

namespace circuitlab::breaker {

namespace {

bool is_percent(double value) {
    return value > 0.0 && value <= 100.0;
}

std::optional<std::string> validate_open_wait(const BreakerConfig& config) {
    if (!(config.open_backoff >= 1.0 && config.open_backoff <= 100.0)) {
        return "open_backoff must be in [1, 100]";
    }
    if (config.open_backoff > 1.0 && config.max_wait_in_open < config.wait_in_open) {
        return "max_wait_in_open must be at least wait_in_open when open_backoff > 1";
    }
    if (!(config.open_jitter >= 0.0 && config.open_jitter < 1.0)) {
        return "open_jitter must be in [0, 1)";
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::string> validate(const BreakerConfig& config) {
    if (config.window_size < 1) {
        return "window_size must be at least 1";
    }
    if (config.minimum_calls < 1) {
        return "minimum_calls must be at least 1";
    }
    if (config.window_type == WindowType::count && config.minimum_calls > config.window_size) {
        return "minimum_calls must be at most window_size for a count window";
    }
    if (!is_percent(config.failure_rate_threshold)) {
        return "failure_rate_threshold must be in (0, 100]";
    }
    if (!is_percent(config.slow_call_rate_threshold)) {
        return "slow_call_rate_threshold must be in (0, 100]";
    }
    if (config.slow_call_duration.count() < 1) {
        return "slow_call_duration must be at least 1 ms";
    }
    if (config.wait_in_open.count() < 1) {
        return "wait_in_open must be at least 1 ms";
    }
    if (config.half_open_calls < 1) {
        return "half_open_calls must be at least 1";
    }
    if (config.max_wait_in_half_open.count() < 1) {
        return "max_wait_in_half_open must be at least 1 ms";
    }
    return validate_open_wait(config);
}

}  // namespace circuitlab::breaker
