#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "circuitlab/http/router.hpp"

namespace circuitlab::http {

/// Splits a request target into path and query string (without the '?').
std::pair<std::string_view, std::string_view> split_target(std::string_view target);

/// Decodes `%XX` escapes and, when `plus_is_space`, '+' as a space. Returns nullopt on a
/// malformed escape. Thread-safe, allocation of the result only.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

/// Parses `a=1&b=2` into decoded parameters. A key without '=' has an empty value.
/// Returns nullopt when any part is badly percent-encoded.
std::optional<std::vector<QueryParam>> parse_query(std::string_view query);

/// Encodes a parameter name or value for a query string.
std::string percent_encode(std::string_view text);

}  // namespace circuitlab::http
