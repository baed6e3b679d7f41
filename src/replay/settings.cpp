#include <map>
#include <set>

#include "circuitlab/replay/replay.hpp"

namespace circuitlab::replay {

namespace {

using Values = std::map<std::string, std::string, std::less<>>;

std::string_view trim(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) {
        return {};
    }
    const auto last = text.find_last_not_of(" \t\r");
    return text.substr(first, last - first + 1);
}

const std::set<std::string, std::less<>>& known_names() {
    static const auto names = [] {
        std::set<std::string, std::less<>> all;
        for (const ops::SettingDoc& doc : ops::setting_docs()) {
            all.insert(doc.variable);
        }
        return all;
    }();
    return names;
}

void read_line(std::size_t number, std::string_view line, Values& values) {
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) {
        throw ops::ConfigError("settings line " + std::to_string(number) +
                               ": expected NAME=value, got \"" + std::string(line) + "\"");
    }
    const auto name = trim(line.substr(0, eq));
    if (!known_names().contains(name)) {
        throw ops::ConfigError("settings line " + std::to_string(number) + ": unknown setting \"" +
                               std::string(name) + "\" (see circuitlab --help)");
    }
    values[std::string(name)] = std::string(trim(line.substr(eq + 1)));
}

Values read_values(std::string_view text) {
    Values values;
    std::size_t number = 0;
    std::size_t start = 0;
    while (start < text.size()) {
        const auto newline = text.find('\n', start);
        const auto line = trim(text.substr(start, newline - start));
        start = newline == std::string_view::npos ? text.size() : newline + 1;
        ++number;
        if (!line.empty() && line.front() != '#') {
            read_line(number, line, values);
        }
    }
    return values;
}

}  // namespace

ops::Config load_settings(std::string_view file_text, const std::vector<std::string>& flags) {
    Values values = read_values(file_text);
    values.try_emplace("ROLE", "midline");  // a replay plays no role, but the loader needs one
    const ops::EnvLookup lookup = [&values](const std::string& name) -> std::optional<std::string> {
        auto it = values.find(name);
        return it == values.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
    return ops::load_config(flags, lookup).config;
}

ReplaySettings settings_from(const ops::Config& config) {
    ReplaySettings settings;
    settings.breaker = config.breaker;
    settings.shed_is_failure = config.shed_is_failure;
    settings.forced_state = config.breaker_forced_state;
    settings.breaker_per_route = config.breaker_scope == ops::BreakerScope::route;
    settings.failure_statuses = config.failure_statuses;
    settings.ignore_statuses = config.ignore_statuses;
    return settings;
}

}  // namespace circuitlab::replay
