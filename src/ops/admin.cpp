#include "circuitlab/ops/admin.hpp"

#include <cctype>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>

namespace circuitlab::ops {

namespace {

namespace bhttp = boost::beast::http;

constexpr std::string_view bearer = "bearer ";

// The token of `Authorization: Bearer <token>`, the scheme matched without regard to case
// (RFC 9110 11.1); nullopt for any other scheme.
std::optional<std::string_view> bearer_token(std::string_view header) {
    if (header.size() < bearer.size()) {
        return std::nullopt;
    }
    for (std::size_t i = 0; i < bearer.size(); ++i) {
        const char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(header[i])));
        if (lower != bearer[i]) {
            return std::nullopt;
        }
    }
    return header.substr(bearer.size());
}

}  // namespace

bool constant_time_equal(std::string_view a, std::string_view b) {
    unsigned char difference = a.size() == b.size() ? 0 : 1;
    const std::size_t length = a.size();
    for (std::size_t i = 0; i < length; ++i) {
        // Compares against itself when b is shorter, so the loop always runs a.size() times.
        const char other = i < b.size() ? b[i] : a[i];
        difference |= static_cast<unsigned char>(a[i] ^ other);
    }
    return difference == 0;
}

std::optional<http::Response> check_admin(const http::Request& request,
                                          std::string_view configured_token) {
    const unsigned version = request.version();
    if (configured_token.empty()) {
        return http::json_error(bhttp::status::forbidden,
                                "admin routes are off: start the services with ADMIN_TOKEN set "
                                "(./dockerc.sh makes one and prints it; without Docker: "
                                "ADMIN_TOKEN=<16+ characters> scripts/lab-local.sh start)",
                                version);
    }
    const auto header = request[bhttp::field::authorization];
    const std::string_view given(header.data(), header.size());
    if (const auto token = bearer_token(given);
        token && constant_time_equal(*token, configured_token)) {
        return std::nullopt;
    }
    http::Response answer = http::json_error(
        bhttp::status::unauthorized,
        given.empty() ? "missing Authorization: Bearer <ADMIN_TOKEN>" : "wrong admin token",
        version);
    answer.set(bhttp::field::www_authenticate, "Bearer");
    return answer;
}

}  // namespace circuitlab::ops
