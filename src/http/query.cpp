#include "circuitlab/http/query.hpp"

namespace circuitlab::http {

namespace {

/// Value of one hex digit, or -1.
int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/// The byte of the `%XX` escape starting at `percent`, or -1 when malformed or truncated.
int escaped_byte(std::string_view text, std::size_t percent) {
    if (percent + 2 >= text.size()) {
        return -1;
    }

    const int high = hex_value(text[percent + 1]);
    const int low = hex_value(text[percent + 2]);
    return high < 0 || low < 0 ? -1 : high * 16 + low;
}

bool is_unreserved(char c) {
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    const bool digit = c >= '0' && c <= '9';
    return alpha || digit || c == '-' || c == '.' || c == '_' || c == '~';
}

/// Decodes `name=value` (or a bare `name`) into `out`.
bool parse_param(std::string_view part, std::vector<QueryParam>& out) {
    const auto equals = part.find('=');
    const std::string_view raw_value =
        equals == std::string_view::npos ? std::string_view{} : part.substr(equals + 1);
    auto name = percent_decode(part.substr(0, equals), true);
    auto value = percent_decode(raw_value, true);
    if (!name || !value) {
        return false;
    }

    out.push_back(QueryParam{std::move(*name), std::move(*value)});
    return true;
}

}  // namespace

std::pair<std::string_view, std::string_view> split_target(std::string_view target) {
    const auto question = target.find('?');
    if (question == std::string_view::npos) {
        return {target, {}};
    }
    return {target.substr(0, question), target.substr(question + 1)};
}

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '+' && plus_is_space) {
            out.push_back(' ');
            continue;
        }
        if (c != '%') {
            out.push_back(c);
            continue;
        }

        const int byte = escaped_byte(text, i);
        if (byte < 0) {
            return std::nullopt;
        }
        out.push_back(static_cast<char>(byte));
        i += 2;
    }
    return out;
}

std::optional<std::vector<QueryParam>> parse_query(std::string_view query) {
    std::vector<QueryParam> params;
    while (!query.empty()) {
        const auto amp = query.find('&');
        const std::string_view part = query.substr(0, amp);
        if (!part.empty() && !parse_param(part, params)) {
            return std::nullopt;
        }
        if (amp == std::string_view::npos) {
            break;
        }
        query.remove_prefix(amp + 1);
    }
    return params;
}

std::string percent_encode(std::string_view text) {
    static constexpr char digits[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        if (is_unreserved(c)) {
            out.push_back(c);
            continue;
        }
        const auto byte = static_cast<unsigned char>(c);
        out.push_back('%');
        out.push_back(digits[byte >> 4]);
        out.push_back(digits[byte & 0x0F]);
    }
    return out;
}

}  // namespace circuitlab::http
