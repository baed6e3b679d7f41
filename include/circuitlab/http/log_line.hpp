#pragma once

// Log lines with fields. A text log shows only the line's text, as written; a JSON log
// (LOG_FORMAT=json) also shows the request id, the breaker, the event and its fields at the
// top level of the line's object, so `jq 'select(.breaker == "...")'` finds them.

#include <string>
#include <string_view>

#include <spdlog/logger.h>
#include <nlohmann/json.hpp>

namespace circuitlab::http {

/// What a JSON log line carries beside its text. Empty strings and a null `fields` are left
/// out of the line.
struct LogContext {
    std::string_view event{};       ///< What happened: `access`, `transition`, `rejected`, ...
    std::string_view request_id{};  ///< The request's `X-Request-ID`.
    std::string_view breaker{};     ///< The breaker concerned.
    nlohmann::json fields{};        ///< The event's own data, an object.
};

/// Marks a payload that carries a context: this byte, then one JSON object whose `msg` is
/// the text. Only the JSON formatter sees such payloads; it never starts a text line.
inline constexpr std::string_view context_mark = "\x1e";

/// Turns context payloads on (JSON log) or off (text log). Call once at start-up, before
/// any thread logs.
void set_log_context(bool on);

/// Logs `text` at `level` with its context: in a text log the text alone, in a JSON log the
/// context payload. Does nothing when the level is off.
void log_line(spdlog::logger& log,
              spdlog::level::level_enum level,
              const LogContext& context,
              std::string_view text);

}  // namespace circuitlab::http
