#pragma once

#include <memory>
#include <string>

#include <spdlog/logger.h>

#include "circuitlab/breaker/circuit_breaker.hpp"

namespace circuitlab::ops {

/// Creates the named loggers `breaker`, `http`, `lab` and `ops`, all writing to stdout
/// through one sink. Text lines show time, level, role and logger; with format "json" each
/// line is one JSON object: `time`, `level`, `logger`, `role`, `msg`, and for lines logged
/// with http::log_line also `event`, `request_id`, `breaker` and `fields`. Call once at
/// start-up, before any thread starts.
void setup_logging(const std::string& role, const std::string& level, const std::string& format);

/// A logger made by setup_logging; a silent one when setup_logging was not called (tests).
std::shared_ptr<spdlog::logger> logger(const std::string& name);

/// Logs one breaker transition at info on the `breaker` logger. The text starts with
/// `TRANSITION ` and goes on with breaker::describe; a JSON line also has `event`
/// `transition`, `breaker`, and the cause and window in `fields` (see transition_fields).
void log_transition(const breaker::Transition& transition);

}  // namespace circuitlab::ops
