#pragma once

#include <memory>
#include <string>

#include <spdlog/logger.h>

#include "circuitlab/breaker/circuit_breaker.hpp"

namespace circuitlab::ops {

/// Creates the named loggers `breaker`, `http`, `lab` and `ops`, all writing to stdout
/// through one sink. Text lines show time, level, role and logger; with format "json" each
/// line is one JSON object. Call once at start-up, before any thread starts.
void setup_logging(const std::string& role, const std::string& level, const std::string& format);

/// A logger made by setup_logging; a silent one when setup_logging was not called (tests).
std::shared_ptr<spdlog::logger> logger(const std::string& name);

/// Logs one breaker transition at info on the `breaker` logger: the text line of
/// breaker::describe, or in json format the fields breaker, from, to, reason and window.
void log_transition(const breaker::Transition& transition);

}  // namespace circuitlab::ops
