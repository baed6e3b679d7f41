#include "circuitlab/http/router.hpp"

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <utility>

#include <boost/beast/http/field.hpp>
#include <boost/container/small_vector.hpp>
#include <nlohmann/json.hpp>

namespace circuitlab::http {

namespace {

namespace beast = boost::beast;

using Params = std::map<std::string, std::string>;

/// A pattern that matched a path, with how specific it is: exact routes beat `*` routes,
/// then more literal segments win.
struct PatternMatch {
    Params params;
    int rank = 0;
};

/// The segments of a path, without copies; eight cover every route of the lab.
using Segments = boost::container::small_vector<std::string_view, 8>;

/// Splits after the leading '/': "/a/b" gives {a, b}, "/a/" gives {a, ""}, "/" gives {""}.
Segments split_segments(std::string_view path) {
    Segments segments;
    if (!path.empty() && path.front() == '/') {
        path.remove_prefix(1);
    }

    for (;;) {
        const auto slash = path.find('/');
        segments.push_back(path.substr(0, slash));
        if (slash == std::string_view::npos) {
            return segments;
        }
        path.remove_prefix(slash + 1);
    }
}

bool is_param(std::string_view segment) {
    return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

/// Matches the `*` segment: the rest of the path from `path_segment` on must start with
/// the literal text before the `*`; what follows is stored as the `*` parameter.
bool match_rest(std::string_view pattern_segment,
                std::string_view path,
                std::string_view path_segment,
                Params& params) {
    const auto offset = static_cast<std::size_t>(path_segment.data() - path.data());
    const std::string_view rest = path.substr(offset);
    const std::string_view prefix = pattern_segment.substr(0, pattern_segment.size() - 1);
    if (rest.substr(0, prefix.size()) != prefix) {
        return false;
    }

    params["*"] = std::string(rest.substr(prefix.size()));
    return true;
}

bool match_segment(std::string_view pattern_segment,
                   std::string_view path_segment,
                   Params& params,
                   int& literals) {
    if (!is_param(pattern_segment)) {
        if (pattern_segment != path_segment) {
            return false;
        }
        ++literals;
        return true;
    }

    const auto name = pattern_segment.substr(1, pattern_segment.size() - 2);
    params[std::string(name)] = std::string(path_segment);
    return !path_segment.empty();
}

std::optional<PatternMatch> match_pattern(const std::vector<std::string>& wanted,
                                          bool rest,
                                          const Segments& given,
                                          std::string_view path) {
    const std::size_t fixed = rest ? wanted.size() - 1 : wanted.size();
    if (given.size() < fixed || (!rest && given.size() != fixed) ||
        (rest && given.size() == fixed)) {
        return std::nullopt;
    }

    PatternMatch found;
    int literals = 0;
    for (std::size_t i = 0; i < fixed; ++i) {
        if (!match_segment(wanted[i], given[i], found.params, literals)) {
            return std::nullopt;
        }
    }

    if (rest && !match_rest(wanted.back(), path, given[fixed], found.params)) {
        return std::nullopt;
    }
    found.rank = (rest ? 0 : 1'000'000) + literals;
    return found;
}

void add_allowed(std::vector<Verb>& allowed, Verb method) {
    if (std::find(allowed.begin(), allowed.end(), method) == allowed.end()) {
        allowed.push_back(method);
    }
}

}  // namespace

const std::string* RequestContext::query_value(std::string_view name) const {
    for (const QueryParam& param : query) {
        if (param.name == name) {
            return &param.value;
        }
    }
    return nullptr;
}

void Router::add(Route route) {
    if (route.pattern.empty() || route.pattern.front() != '/') {
        throw std::invalid_argument("route pattern must start with '/': " + route.pattern);
    }

    for (const Route& known : routes_) {
        if (known.method == route.method && known.pattern == route.pattern) {
            throw std::invalid_argument(
                "duplicate route: " + std::string(beast::http::to_string(route.method)) + " " +
                route.pattern);
        }
    }
    Pattern pattern;
    for (const std::string_view segment : split_segments(route.pattern)) {
        pattern.segments.emplace_back(segment);
    }
    pattern.rest = !pattern.segments.back().empty() && pattern.segments.back().back() == '*';
    patterns_.push_back(std::move(pattern));
    routes_.push_back(std::move(route));
}

Match Router::match(Verb method, std::string_view path) const {
    Match best;
    int best_rank = -1;
    const Segments given = split_segments(path);
    for (std::size_t i = 0; i < routes_.size(); ++i) {
        const Route& route = routes_[i];
        auto found = match_pattern(patterns_[i].segments, patterns_[i].rest, given, path);
        if (!found) {
            continue;
        }
        if (route.method != method) {
            add_allowed(best.allowed, route.method);
        } else if (found->rank > best_rank) {
            best.route = &route;
            best.path_params = std::move(found->params);
            best_rank = found->rank;
        }
    }

    if (best.route != nullptr) {
        best.allowed.clear();
    }
    return best;
}

Response json_error(beast::http::status status, std::string_view message, unsigned version) {
    const nlohmann::json body = {{"error", message}};
    return json_response(
        status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), version);
}

Response json_response(beast::http::status status, std::string body, unsigned version) {
    Response response{status, version};
    response.set(beast::http::field::content_type, "application/json");
    response.body() = std::move(body);
    response.prepare_payload();
    return response;
}

}  // namespace circuitlab::http
