#include "circuitlab/replay/trace.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <unordered_map>
#include <utility>

#include <nlohmann/json.hpp>

namespace circuitlab::replay {

namespace {

using std::chrono::milliseconds;

// Epoch milliseconds up to the year 2096 fit; latencies longer than a day are typos.
constexpr std::int64_t max_time_ms = 4'000'000'000'000;
constexpr std::int64_t max_latency_ms = 86'400'000;

constexpr std::array<std::pair<std::string_view, CallEnd>, 9> end_words{{
    {"success", CallEnd::success},
    {"failure", CallEnd::failure},
    {"timeout", CallEnd::timeout},
    {"connect", CallEnd::connect},
    {"reset", CallEnd::reset},
    {"protocol", CallEnd::protocol},
    {"ignored", CallEnd::ignored},
    {"cancelled", CallEnd::cancelled},
    {"shed", CallEnd::shed},
}};

const char* const outcome_help =
    "expected an outcome (success, failure, timeout, connect, reset, protocol, ignored, "
    "cancelled, shed) or an HTTP status from 100 to 599";

std::string_view trim(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) {
        return {};
    }
    const auto last = text.find_last_not_of(" \t\r");
    return text.substr(first, last - first + 1);
}

bool parse_int(std::string_view text, std::int64_t low, std::int64_t high, std::int64_t& out) {
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, out);
    return !text.empty() && ec == std::errc{} && ptr == end && out >= low && out <= high;
}

std::string in_quotes(std::string_view text) {
    return "\"" + std::string(text) + "\"";
}

milliseconds parse_time(std::size_t line, std::string_view text) {
    std::int64_t value = 0;
    if (!parse_int(text, 0, max_time_ms, value)) {
        throw TraceError(
            line, "bad time_ms " + in_quotes(text) + ": expected whole milliseconds, 0 or more");
    }
    return milliseconds{value};
}

milliseconds parse_latency(std::size_t line, std::string_view text) {
    std::int64_t value = 0;
    if (!parse_int(text, 0, max_latency_ms, value)) {
        throw TraceError(line,
                         "bad latency_ms " + in_quotes(text) +
                             ": expected whole milliseconds from 0 to 86400000");
    }
    return milliseconds{value};
}

breaker::State parse_forced(std::size_t line, std::string_view text) {
    auto state = breaker::state_from_string(text);
    if (!state || *state == breaker::State::half_open) {
        throw TraceError(line,
                         "bad state " + in_quotes(text) +
                             ": expected closed, open, disabled, forced_open or "
                             "metrics_only");
    }
    return *state;
}

void set_outcome(std::size_t line, std::string_view text, TraceEntry& entry) {
    if (!parse_outcome(text, entry)) {
        throw TraceError(line, "bad outcome " + in_quotes(text) + ": " + outcome_help);
    }
}

// A field as spreadsheets export it may be quoted: `"200"` reads as `200`.
std::string_view unquote(std::string_view field) {
    if (field.size() >= 2 && field.front() == '"' && field.back() == '"') {
        return trim(field.substr(1, field.size() - 2));
    }
    return field;
}

std::vector<std::string_view> split_csv(std::string_view text) {
    std::vector<std::string_view> fields;
    std::size_t start = 0;
    while (true) {
        const auto comma = text.find(',', start);
        fields.push_back(unquote(trim(text.substr(start, comma - start))));
        if (comma == std::string_view::npos) {
            return fields;
        }
        start = comma + 1;
    }
}

/// Route names seen so far, and their indices in Trace::routes.
class Routes {
  public:
    explicit Routes(std::vector<std::string>& names) : names_(names) {}

    std::uint32_t index_of(std::string_view name) {
        if (name.empty()) {
            return 0;
        }
        auto [it, added] = indices_.try_emplace(std::string(name), names_.size());
        if (added) {
            names_.emplace_back(name);
        }
        return it->second;
    }

  private:
    std::vector<std::string>& names_;
    std::unordered_map<std::string, std::uint32_t> indices_;
};

TraceEntry parse_csv(std::size_t line, std::string_view text, Routes& routes) {
    const auto fields = split_csv(text);
    if (fields.size() < 2 || fields.size() > 4) {
        throw TraceError(line,
                         "expected time_ms,outcome[,latency_ms[,route]] or "
                         "time_ms,force,STATE[,route]; got " +
                             std::to_string(fields.size()) + " fields");
    }
    TraceEntry entry;
    entry.line = line;
    entry.at = parse_time(line, fields[0]);
    if (fields.size() == 4) {
        entry.route = routes.index_of(fields[3]);
    }
    if (fields[1] == "force") {
        if (fields.size() < 3) {
            throw TraceError(line, "force needs a state: time_ms,force,STATE");
        }
        entry.kind = TraceEntry::Kind::force;
        entry.forced = parse_forced(line, fields[2]);
        return entry;
    }
    set_outcome(line, fields[1], entry);
    // An empty latency (`0,success,,checkout`) is 0, as a missing one is.
    if (fields.size() >= 3 && !fields[2].empty()) {
        entry.latency = parse_latency(line, fields[2]);
    }
    return entry;
}

std::string json_text(const nlohmann::json& value) {
    return value.dump();
}

std::int64_t json_int(std::size_t line, const nlohmann::json& value, const char* key) {
    if (!value.is_number_integer()) {
        throw TraceError(
            line,
            std::string("bad ") + key + " " + json_text(value) + ": expected whole milliseconds");
    }
    return value.get<std::int64_t>();
}

void json_outcome(std::size_t line, const nlohmann::json& value, TraceEntry& entry) {
    if (value.is_string()) {
        set_outcome(line, value.get_ref<const std::string&>(), entry);
    } else if (value.is_number_integer()) {
        set_outcome(line, json_text(value), entry);
    } else {
        throw TraceError(line, "bad outcome " + json_text(value) + ": " + outcome_help);
    }
}

void json_field(std::size_t line,
                const std::string& key,
                const nlohmann::json& value,
                TraceEntry& entry,
                Routes& routes) {
    if (key == "time_ms") {
        entry.at = parse_time(line, std::to_string(json_int(line, value, "time_ms")));
    } else if (key == "latency_ms") {
        entry.latency = parse_latency(line, std::to_string(json_int(line, value, "latency_ms")));
    } else if (key == "outcome" || key == "status") {
        json_outcome(line, value, entry);
    } else if (key == "force" && value.is_string()) {
        entry.kind = TraceEntry::Kind::force;
        entry.forced = parse_forced(line, value.get_ref<const std::string&>());
    } else if (key == "force") {
        throw TraceError(line, "bad force " + json_text(value) + ": expected a state name");
    } else if (key == "route" && value.is_string()) {
        entry.route = routes.index_of(value.get_ref<const std::string&>());
    } else if (key == "route") {
        throw TraceError(line, "bad route " + json_text(value) + ": expected a string");
    } else {
        throw TraceError(line,
                         "unknown field " + in_quotes(key) +
                             ": expected time_ms, outcome (or status), latency_ms, force, route");
    }
}

TraceEntry parse_json(std::size_t line, std::string_view text, Routes& routes) {
    auto object = nlohmann::json::parse(text, nullptr, false);
    if (object.is_discarded() || !object.is_object()) {
        throw TraceError(line, "not a JSON object");
    }
    if (!object.contains("time_ms")) {
        throw TraceError(line, "missing time_ms");
    }
    const bool has_outcome = object.contains("outcome") || object.contains("status");
    const bool has_force = object.contains("force");
    if (has_outcome == has_force) {
        throw TraceError(line, "expected either outcome (or status) or force");
    }
    TraceEntry entry;
    entry.line = line;
    for (const auto& [key, value] : object.items()) {
        json_field(line, key, value, entry, routes);
    }
    return entry;
}

bool is_header(std::string_view text) {
    return text.rfind("time_ms", 0) == 0 || text.rfind("\"time_ms\"", 0) == 0;
}

}  // namespace

bool parse_outcome(std::string_view text, TraceEntry& entry) {
    for (const auto& [word, end] : end_words) {
        if (text == word) {
            entry.end = end;
            return true;
        }
    }
    std::int64_t status = 0;
    if (!parse_int(text, 100, 599, status)) {
        return false;
    }
    entry.end = CallEnd::status;
    entry.status = static_cast<std::uint16_t>(status);
    return true;
}

Trace read_trace(std::string_view text) {
    constexpr std::string_view byte_order_mark = "\xEF\xBB\xBF";
    if (text.substr(0, byte_order_mark.size()) == byte_order_mark) {
        text.remove_prefix(byte_order_mark.size());
    }
    Trace trace;
    Routes routes(trace.routes);
    std::size_t line = 0;
    std::size_t start = 0;
    while (start < text.size()) {
        const auto newline = text.find('\n', start);
        const auto content = trim(text.substr(start, newline - start));
        start = newline == std::string_view::npos ? text.size() : newline + 1;
        ++line;
        if (content.empty() || content.front() == '#' || is_header(content)) {
            continue;
        }
        trace.entries.push_back(content.front() == '{' ? parse_json(line, content, routes)
                                                       : parse_csv(line, content, routes));
    }
    return trace;
}

std::vector<TraceEntry> parse_trace(std::string_view text) {
    return read_trace(text).entries;
}

}  // namespace circuitlab::replay
