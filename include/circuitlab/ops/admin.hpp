#pragma once

#include <optional>
#include <string_view>

#include "circuitlab/http/router.hpp"

namespace circuitlab::ops {

/// Compares two strings in time that depends on their lengths only, not on where they
/// first differ, so a token cannot be guessed byte by byte from answer times.
bool constant_time_equal(std::string_view a, std::string_view b);

/// Guards a mutating route with `Authorization: Bearer <token>`. Returns nullopt when the
/// request may go on; else the JSON answer to send: 403 with a hint when no token is
/// configured (the route never acts then), 401 with `WWW-Authenticate: Bearer` when the
/// header is missing or the token is wrong.
std::optional<http::Response> check_admin(const http::Request& request,
                                          std::string_view configured_token);

}  // namespace circuitlab::ops
