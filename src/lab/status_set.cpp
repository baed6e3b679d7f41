#include "circuitlab/lab/status_set.hpp"

#include <charconv>

namespace circuitlab::lab {

namespace {

constexpr int lowest_status = 100;
constexpr int highest_status = 599;

std::string_view trimmed(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
        text.remove_suffix(1);
    }
    return text;
}

std::optional<int> status_of(std::string_view text) {
    int value = 0;
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc{} || ptr != end || value < lowest_status ||
        value > highest_status) {
        return std::nullopt;
    }
    return value;
}

std::optional<std::pair<int, int>> part_of(std::string_view part) {
    const auto dash = part.find('-');
    const auto low = status_of(trimmed(part.substr(0, dash)));
    if (dash == std::string_view::npos) {
        return low ? std::optional{std::pair{*low, *low}} : std::nullopt;
    }
    const auto high = status_of(trimmed(part.substr(dash + 1)));
    if (!low || !high || *low > *high) {
        return std::nullopt;
    }
    return std::pair{*low, *high};
}

}  // namespace

StatusSet StatusSet::range(int low, int high) {
    StatusSet set;
    set.ranges_.emplace_back(low, high);
    return set;
}

std::optional<StatusSet> StatusSet::parse(std::string_view text, std::string* error) {
    StatusSet set;
    text = trimmed(text);
    if (text.empty() || text == "none") {
        return set;
    }
    while (true) {
        const auto comma = text.find(',');
        const std::string_view part = trimmed(text.substr(0, comma));
        const auto range = part_of(part);
        if (!range) {
            if (error != nullptr) {
                *error = "\"" + std::string(part) + "\" is not a status or range of 100 to 599";
            }
            return std::nullopt;
        }
        set.ranges_.push_back(*range);
        if (comma == std::string_view::npos) {
            return set;
        }
        text.remove_prefix(comma + 1);
    }
}

bool StatusSet::contains(int status) const {
    for (const auto& [low, high] : ranges_) {
        if (status >= low && status <= high) {
            return true;
        }
    }
    return false;
}

std::string StatusSet::to_string() const {
    if (ranges_.empty()) {
        return "none";
    }
    std::string text;
    for (const auto& [low, high] : ranges_) {
        text += text.empty() ? "" : ",";
        text += std::to_string(low);
        if (high != low) {
            text += "-" + std::to_string(high);
        }
    }
    return text;
}

}  // namespace circuitlab::lab
