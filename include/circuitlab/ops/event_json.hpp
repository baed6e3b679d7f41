#pragma once

// The JSON of things several outputs show the same way: a time, and a transition as the JSON
// log, /api/breakers and the event stream all write it.

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "circuitlab/breaker/circuit_breaker.hpp"

namespace circuitlab::ops {

/// `2026-12-04T10:22:41.123Z`: UTC, milliseconds.
std::string iso_time(std::chrono::system_clock::time_point time);

/// A transition's cause and window: `breaker`, `from`, `to`, `reason`, `generation` and
/// `window` (calls, failures, slow calls and both rates as they were when it was decided;
/// a rate is null when the window held no call).
nlohmann::json transition_fields(const breaker::Transition& transition);

}  // namespace circuitlab::ops
