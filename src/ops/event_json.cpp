#include "circuitlab/ops/event_json.hpp"

#include <cstdio>
#include <ctime>
#include <optional>

namespace circuitlab::ops {

namespace {

nlohmann::json optional_number(const std::optional<double>& value) {
    return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

}  // namespace

std::string iso_time(std::chrono::system_clock::time_point time) {
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()) % 1000;
    const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
    char full[40];
    std::snprintf(full, sizeof full, "%s.%03dZ", text, static_cast<int>(ms.count()));
    return full;
}

nlohmann::json transition_fields(const breaker::Transition& transition) {
    const breaker::WindowCounts& window = transition.window;
    return {{"breaker", transition.breaker},
            {"from", breaker::to_string(transition.from)},
            {"to", breaker::to_string(transition.to)},
            {"reason", transition.reason},
            {"generation", transition.generation},
            {"window",
             {{"calls", window.calls},
              {"failures", window.failures},
              {"slow_calls", window.slow_calls},
              {"failure_rate", optional_number(window.failure_rate())},
              {"slow_call_rate", optional_number(window.slow_call_rate())}}}};
}

}  // namespace circuitlab::ops
