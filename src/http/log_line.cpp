#include "circuitlab/http/log_line.hpp"

namespace circuitlab::http {

namespace {

bool with_context = false;

void add_text(nlohmann::ordered_json& line, const char* key, std::string_view value) {
    if (!value.empty()) {
        line[key] = value;
    }
}

}  // namespace

void set_log_context(bool on) {
    with_context = on;
}

void log_line(spdlog::logger& log,
              spdlog::level::level_enum level,
              const LogContext& context,
              std::string_view text) {
    if (!log.should_log(level)) {
        return;
    }
    if (!with_context) {
        log.log(level, "{}", text);
        return;
    }
    nlohmann::ordered_json line;
    add_text(line, "event", context.event);
    add_text(line, "request_id", context.request_id);
    add_text(line, "breaker", context.breaker);
    line["msg"] = text;
    if (!context.fields.is_null()) {
        line["fields"] = context.fields;
    }
    log.log(level,
            "{}{}",
            context_mark,
            line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace circuitlab::http
