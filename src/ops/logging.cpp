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

namespace circuitlab::ops {

namespace {

constexpr const char* logger_names[] = {"breaker", "http", "lab", "ops"};

// Transition lines in json format carry their fields; this prefix marks such a payload.
constexpr std::string_view event_prefix = "\x1e";

bool json_format = false;

/// Renders each record as one JSON object on one line.
class JsonFormatter final : public spdlog::formatter {
  public:
    explicit JsonFormatter(std::string role) : role_(std::move(role)) {}

    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
        nlohmann::json line;
        line["time"] = iso_time(msg.time);
        line["level"] = spdlog::level::to_string_view(msg.level).data();
        line["logger"] = std::string(msg.logger_name.data(), msg.logger_name.size());
        line["role"] = role_;
        std::string_view payload(msg.payload.data(), msg.payload.size());
        if (payload.starts_with(event_prefix)) {
            line["event"] =
                nlohmann::json::parse(payload.substr(event_prefix.size()), nullptr, false);
        } else {
            line["msg"] = std::string(payload);
        }
        const std::string text =
            line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        dest.append(text.data(), text.data() + text.size());
        dest.push_back('\n');
    }

    std::unique_ptr<spdlog::formatter> clone() const override {
        return std::make_unique<JsonFormatter>(role_);
    }

  private:
    static std::string iso_time(spdlog::log_clock::time_point time) {
        const auto ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()) % 1000;
        const std::time_t seconds = spdlog::log_clock::to_time_t(time);
        std::tm utc{};
        gmtime_r(&seconds, &utc);
        char text[32];
        std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
        char full[40];
        std::snprintf(full, sizeof full, "%s.%03dZ", text, static_cast<int>(ms.count()));
        return full;
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
    json_format = format == "json";

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
    auto log = logger("breaker");
    if (!json_format) {
        log->info("{}", breaker::describe(transition));
        return;
    }
    nlohmann::json event{
        {"type", "transition"},
        {"text", breaker::describe(transition)},
        {"breaker", transition.breaker},
        {"from", breaker::to_string(transition.from)},
        {"to", breaker::to_string(transition.to)},
        {"reason", transition.reason},
        {"generation", transition.generation},
        {"window",
         {{"calls", transition.window.calls},
          {"failures", transition.window.failures},
          {"slow_calls", transition.window.slow_calls}}},
    };
    log->info("{}{}", event_prefix, event.dump());
}

}  // namespace circuitlab::ops
