#include "circuitlab/lab/deadline.hpp"

#include <charconv>

#include <nlohmann/json.hpp>

namespace circuitlab::lab {

std::optional<std::chrono::milliseconds> parse_deadline(const http::Request& request) {
    const auto it = request.find(deadline_header);
    if (it == request.end()) {
        return std::nullopt;
    }
    const std::string_view text = it->value();
    if (text.empty() || text.size() > 9) {
        return std::nullopt;
    }
    long value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || ptr != text.data() + text.size() || value < 0 ||
        value > max_deadline_budget.count()) {
        return std::nullopt;
    }
    return std::chrono::milliseconds{value};
}

std::optional<std::chrono::steady_clock::time_point> request_deadline(
    const http::Request& request,
    std::chrono::steady_clock::time_point received,
    std::chrono::milliseconds margin) {
    const auto budget = parse_deadline(request);
    if (!budget) {
        return std::nullopt;
    }
    return received + *budget - margin;
}

http::Response deadline_answer(std::string_view where, unsigned version) {
    const nlohmann::json body{{"error", "deadline exceeded: the caller's time budget is spent"},
                              {"reason", "deadline"},
                              {"where", where}};
    return http::json_response(boost::beast::http::status::gateway_timeout, body.dump(), version);
}

}  // namespace circuitlab::lab
