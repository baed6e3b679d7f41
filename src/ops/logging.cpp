#include "circuitlab/ops/logging.hpp"

#include <chrono>
#include <memory>

#include <spdlog/details/log_msg.h>
#include <spdlog/formatter.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "circuitlab/http/log_line.hpp"
#include "circuitlab/ops/event_json.hpp"

namespace circuitlab::ops {

namespace {

constexpr const char* logger_names[] = {"breaker", "http", "lab", "ops"};

// Starts every transition line, so that it stands out among the others and one grep finds
// them all: `docker compose logs | grep TRANSITION`.
constexpr const char* transition_mark = "TRANSITION ";

/// Renders each record as one JSON object on one line.
class JsonFormatter final : public spdlog::formatter {
  public:
    explicit JsonFormatter(std::string role) : role_(std::move(role)) {}

    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
        nlohmann::ordered_json line;
        line["time"] = iso_time(msg.time);
        line["level"] = spdlog::level::to_string_view(msg.level).data();
        line["role"] = role_;
        line["logger"] = std::string(msg.logger_name.data(), msg.logger_name.size());
        std::string_view payload(msg.payload.data(), msg.payload.size());
        if (payload.starts_with(http::context_mark)) {
            add_context(line, payload.substr(http::context_mark.size()));
        } else {
            line["msg"] = std::string(payload);
        }
        const std::string text =
            line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
        dest.append(text.data(), text.data() + text.size());
        dest.push_back('\n');
    }

    std::unique_ptr<spdlog::formatter> clone() const override {
        return std::make_unique<JsonFormatter>(role_);
    }

  private:
    /// Copies the context's keys to the top level, after time, level, logger and role.
    static void add_context(nlohmann::ordered_json& line, std::string_view payload) {
        auto context = nlohmann::ordered_json::parse(payload, nullptr, false);
        if (!context.is_object()) {
            line["msg"] = std::string(payload);
            return;
        }
        for (auto& [key, value] : context.items()) {
            line.emplace(key, std::move(value));
        }
    }

    std::string role_;
};

std::unique_ptr<spdlog::formatter> make_formatter(const std::string& role,
                                                  const std::string& format) {
    if (format == "json") {
        return std::make_unique<JsonFormatter>(role);
    }
    return std::make_unique<spdlog::pattern_formatter>("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ " + role +
                                                       " %n: %v");
}

}  // namespace

void setup_logging(const std::string& role, const std::string& level, const std::string& format) {
    auto sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
    sink->set_formatter(make_formatter(role, format));
    http::set_log_context(format == "json");

    for (const char* name : logger_names) {
        spdlog::drop(name);
        auto log = std::make_shared<spdlog::logger>(name, sink);
        log->set_level(spdlog::level::from_str(level));
        // Transitions and lifecycle lines are rare: flush them at once for `docker logs`.
        log->flush_on(spdlog::level::info);
        spdlog::register_logger(log);
    }
}

std::shared_ptr<spdlog::logger> logger(const std::string& name) {
    if (auto log = spdlog::get(name)) {
        return log;
    }
    static auto silent =
        std::make_shared<spdlog::logger>("silent", std::make_shared<spdlog::sinks::null_sink_mt>());
    return silent;
}

void log_transition(const breaker::Transition& transition) {
    nlohmann::json fields = transition_fields(transition);
    fields.erase("breaker");
    const http::LogContext context{
        .event = "transition", .breaker = transition.breaker, .fields = std::move(fields)};
    http::log_line(*logger("breaker"),
                   spdlog::level::info,
                   context,
                   transition_mark + breaker::describe(transition));
}

}  // namespace circuitlab::ops
