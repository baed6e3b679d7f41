#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "circuitlab/http/router.hpp"

namespace circuitlab::lab {

/// The header a caller uses to say how long it will wait for this answer: whole
/// milliseconds, counted from when the request was sent. Each hop sends it on every call.
inline constexpr std::string_view deadline_header = "X-Request-Deadline-Ms";

/// The largest value read from the header; longer budgets are ignored as malformed.
inline constexpr std::chrono::milliseconds max_deadline_budget{86'400'000};

/// The caller's budget from the header: nullopt when absent or malformed (anything but
/// 1 to 9 digits up to max_deadline_budget), so a bad value is ignored, never trusted.
std::optional<std::chrono::milliseconds> parse_deadline(const http::Request& request);

/// When this hop must have answered: `received` plus the caller's budget minus `margin`
/// (the time the answer needs to travel back). nullopt when the caller sent no budget.
std::optional<std::chrono::steady_clock::time_point> request_deadline(
    const http::Request& request,
    std::chrono::steady_clock::time_point received,
    std::chrono::milliseconds margin);

/// The 504 a hop gives when the caller's budget is spent before the work is done: JSON
/// `error`, `reason: deadline` and `where` (the hop, e.g. `midline->backline`).
http::Response deadline_answer(std::string_view where, unsigned version);

}  // namespace circuitlab::lab
