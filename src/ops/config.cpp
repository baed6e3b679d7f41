#include "circuitlab/ops/config.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <sstream>
#include <thread>

#include <boost/asio/ip/address.hpp>

#include "circuitlab/http/client.hpp"
#include "circuitlab/lab/status_set.hpp"

namespace circuitlab::ops {

namespace {

using std::chrono::milliseconds;

/// One setting: its variable, its help line and how to read and show it.
struct Setting {
    std::string name;  ///< Environment variable; the flag is its lower-case dashed form.
    std::string help;
    std::function<void(Config&, const std::string&)> parse;
    std::function<std::string(const Config&)> show;
};

std::string flag_of(const std::string& name) {
    std::string flag = "--";
    for (char c : name) {
        flag += c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return flag;
}

/// Longest part of a bad value quoted back in an error line.
constexpr std::size_t max_quoted = 100;

/// A value as it may appear in an error line: control and non-ASCII bytes, quotes and
/// backslashes escaped, cut to max_quoted bytes, so a hostile value cannot forge or flood a
/// terminal or a log.
std::string quoted(const std::string& value) {
    std::string out;
    for (std::size_t i = 0; i < value.size() && i < max_quoted; ++i) {
        const auto c = static_cast<unsigned char>(value[i]);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20 || c > 0x7e) {
            constexpr const char* hex = "0123456789abcdef";
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 0xf];
        } else {
            out += static_cast<char>(c);
        }
    }
    if (value.size() > max_quoted) {
        out += "...";
    }
    return out;
}

[[noreturn]] void fail(const std::string& name,
                       const std::string& expected,
                       const std::string& value) {
    throw ConfigError("bad " + name + " (" + flag_of(name) + "): expected " + expected +
                      ", got \"" + quoted(value) + "\"");
}

template <typename T>
T parse_number(const std::string& name, const std::string& value, T low, T high) {
    T result{};
    const char* end = value.data() + value.size();
    auto [ptr, ec] = std::from_chars(value.data(), end, result);
    if (value.empty() || ec != std::errc{} || ptr != end || result < low || result > high) {
        std::ostringstream range;
        range << "a number from " << low << " to " << high;
        fail(name, range.str(), value);
    }
    return result;
}

milliseconds parse_ms(const std::string& name, const std::string& value, long low, long high) {
    return milliseconds{parse_number<long>(name, value, low, high)};
}

bool parse_bool(const std::string& name, const std::string& value) {
    if (value == "1" || value == "true" || value == "yes" || value == "on") {
        return true;
    }
    if (value == "0" || value == "false" || value == "no" || value == "off") {
        return false;
    }
    fail(name, "one of 1, true, yes, on, 0, false, no, off", value);
}

std::string parse_choice(const std::string& name,
                         const std::string& value,
                         const std::vector<std::string>& choices) {
    if (std::find(choices.begin(), choices.end(), value) != choices.end()) {
        return value;
    }
    std::string list;
    for (const auto& choice : choices) {
        list += (list.empty() ? "" : ", ") + choice;
    }
    fail(name, "one of " + list, value);
}

std::string parse_token(const std::string& name, const std::string& value) {
    const auto allowed = [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) ||
               std::string_view("._~+/=-").find(c) != std::string_view::npos;
    };
    if (value.empty()) {
        return value;  // Set but empty: no token, as when unset.
    }
    if (value.size() < 16 || value.size() > 256 ||
        !std::all_of(value.begin(), value.end(), allowed)) {
        // The value itself is a secret: name its length, never the value.
        fail(name,
             "16 to 256 of A-Z a-z 0-9 . _ ~ + / = -",
             "<" + std::to_string(value.size()) + " characters>");
    }
    return value;
}

std::string parse_domain(const std::string& name, const std::string& value) {
    std::string why;
    if (!http::parse_upstream_url(value, &why)) {
        fail(name, "a base URL like http://host:8000 (" + why + ")", value);
    }
    return value;
}

void parse_listen(Config& config, const std::string& value) {
    const auto colon = value.rfind(':');
    if (colon == std::string::npos || colon == 0) {
        fail("LISTEN", "host:port, e.g. 0.0.0.0:8000", value);
    }
    std::string host = value.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    boost::system::error_code ec;
    boost::asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
    if (ec) {
        fail("LISTEN", "host:port with an IP address as host", value);
    }
    config.listen_host = host == "localhost" ? "127.0.0.1" : host;
    config.listen_port = parse_number<std::uint16_t>("LISTEN", value.substr(colon + 1), 0, 65535);
}

lab::StatusSet parse_statuses(const std::string& name, const std::string& value) {
    std::string why;
    auto set = lab::StatusSet::parse(value, &why);
    if (!set) {
        fail(name, "codes and ranges of 100 to 599 like 500-599,429, or none (" + why + ")", value);
    }
    return *set;
}

std::string show_ms(milliseconds value) {
    return std::to_string(value.count());
}

std::string show_double(double value) {
    std::ostringstream text;
    text << value;
    return text.str();
}

std::string show_state(const std::optional<breaker::State>& state) {
    return state ? std::string(breaker::to_string(*state)) : "none";
}

std::vector<Setting> general_settings() {
    return {
        {"ROLE",
         "which hop this process is: frontier, midline or backline (required)",
         [](Config& c, const std::string& v) {
             const auto role = parse_choice("ROLE", v, {"frontier", "midline", "backline"});
             c.role = role == "frontier"  ? Role::frontier
                      : role == "midline" ? Role::midline
                                          : Role::backline;
         },
         [](const Config& c) { return std::string(to_string(c.role)); }},
        {"LISTEN",
         "address to listen on, host:port",
         parse_listen,
         [](const Config& c) { return c.listen_host + ":" + std::to_string(c.listen_port); }},
        {"THREADS",
         "threads running the event loop, 1 to 256 (default: the number of cores)",
         [](Config& c, const std::string& v) { c.threads = parse_number("THREADS", v, 1u, 256u); },
         [](const Config& c) { return std::to_string(c.threads); }},
        {"FRONTIER_DOMAIN",
         "base URL of frontier",
         [](Config& c, const std::string& v) {
             c.frontier_domain = parse_domain("FRONTIER_DOMAIN", v);
         },
         [](const Config& c) { return c.frontier_domain; }},
        {"MIDLINE_DOMAIN",
         "base URL of midline (frontier calls it)",
         [](Config& c, const std::string& v) {
             c.midline_domain = parse_domain("MIDLINE_DOMAIN", v);
         },
         [](const Config& c) { return c.midline_domain; }},
        {"BACKLINE_DOMAIN",
         "base URL of backline (midline calls it)",
         [](Config& c, const std::string& v) {
             c.backline_domain = parse_domain("BACKLINE_DOMAIN", v);
         },
         [](const Config& c) { return c.backline_domain; }},
    };
}

std::vector<Setting> backline_settings() {
    return {
        {"FAIL_RATE",
         "backline: chance, 0 to 1, that timeout-request answers 500",
         [](Config& c, const std::string& v) {
             c.fail_rate = parse_number("FAIL_RATE", v, 0.0, 1.0);
         },
         [](const Config& c) { return show_double(c.fail_rate); }},
        {"SLOW_RATE",
         "backline: chance, 0 to 1, that timeout-request waits SLEEP first",
         [](Config& c, const std::string& v) {
             c.slow_rate = parse_number("SLOW_RATE", v, 0.0, 1.0);
         },
         [](const Config& c) { return show_double(c.slow_rate); }},
        {"SLEEP",
         "backline: seconds a slow timeout-request waits, 0 to 60",
         [](Config& c, const std::string& v) {
             c.sleep = milliseconds{static_cast<long>(parse_number("SLEEP", v, 0.0, 60.0) * 1000)};
         },
         [](const Config& c) { return show_double(static_cast<double>(c.sleep.count()) / 1000); }},
    };
}

std::vector<Setting> upstream_settings() {
    return {
        {"UPSTREAM_TIMEOUT_MS",
         "total time for one call to the next hop, 1 to 600000",
         [](Config& c, const std::string& v) {
             c.upstream_timeout = parse_ms("UPSTREAM_TIMEOUT_MS", v, 1, 600'000);
         },
         [](const Config& c) { return show_ms(c.upstream_timeout); }},
        {"UPSTREAM_CONNECT_TIMEOUT_MS",
         "time to connect to the next hop, 1 to 600000",
         [](Config& c, const std::string& v) {
             c.upstream_connect_timeout = parse_ms("UPSTREAM_CONNECT_TIMEOUT_MS", v, 1, 600'000);
         },
         [](const Config& c) { return show_ms(c.upstream_connect_timeout); }},
        {"UPSTREAM_MAX_CONNECTIONS",
         "connections open to the next hop, 1 to 10000",
         [](Config& c, const std::string& v) {
             c.upstream_max_connections =
                 parse_number<std::size_t>("UPSTREAM_MAX_CONNECTIONS", v, 1, 10'000);
         },
         [](const Config& c) { return std::to_string(c.upstream_max_connections); }},
        {"UPSTREAM_MAX_CONCURRENT",
         "bulkhead: requests in flight to the next hop, 1 to 100000; past it 503 at once",
         [](Config& c, const std::string& v) {
             c.upstream_max_concurrent =
                 parse_number<std::size_t>("UPSTREAM_MAX_CONCURRENT", v, 1, 100'000);
         },
         [](const Config& c) { return std::to_string(c.upstream_max_concurrent); }},
        {"DEADLINE_MARGIN_MS",
         "kept from the caller's X-Request-Deadline-Ms budget for the way back, 0 to 10000",
         [](Config& c, const std::string& v) {
             c.deadline_margin = parse_ms("DEADLINE_MARGIN_MS", v, 0, 10'000);
         },
         [](const Config& c) { return show_ms(c.deadline_margin); }},
    };
}

std::optional<double> parse_budget(const std::string& value) {
    if (value == "none") {
        return std::nullopt;
    }
    std::optional<double> percent;
    try {
        percent = parse_number("RETRY_BUDGET_PERCENT", value, 0.0, 100.0);
    } catch (const ConfigError&) {
        fail("RETRY_BUDGET_PERCENT", "a number from 0 to 100, or none", value);
    }
    return percent;
}

std::string show_budget(const std::optional<double>& percent) {
    return percent ? show_double(*percent) : "none";
}

std::vector<Setting> retry_settings() {
    return {
        {"RETRY_ATTEMPTS",
         "retries of a GET whose call failed to connect, was reset or timed out, 0 to 10",
         [](Config& c, const std::string& v) {
             c.retry.attempts = parse_number("RETRY_ATTEMPTS", v, 0u, 10u);
         },
         [](const Config& c) { return std::to_string(c.retry.attempts); }},
        {"RETRY_BACKOFF_BASE_MS",
         "backoff before retry n is random in [0, min(cap, base x 2^n)] ms, 1 to 60000",
         [](Config& c, const std::string& v) {
             c.retry.backoff_base = parse_ms("RETRY_BACKOFF_BASE_MS", v, 1, 60'000);
         },
         [](const Config& c) { return show_ms(c.retry.backoff_base); }},
        {"RETRY_BACKOFF_CAP_MS",
         "longest backoff, RETRY_BACKOFF_BASE_MS to 600000",
         [](Config& c, const std::string& v) {
             c.retry.backoff_cap = parse_ms("RETRY_BACKOFF_CAP_MS", v, 1, 600'000);
         },
         [](const Config& c) { return show_ms(c.retry.backoff_cap); }},
        {"RETRY_BUDGET_PERCENT",
         "retries in flight, backoffs included, as a share of requests in flight, 0 to 100, "
         "or none",
         [](Config& c, const std::string& v) { c.retry.budget_percent = parse_budget(v); },
         [](const Config& c) { return show_budget(c.retry.budget_percent); }},
        {"RETRY_BUDGET_MIN",
         "retries in flight the budget always allows, 0 to 10000",
         [](Config& c, const std::string& v) {
             c.retry.budget_min = parse_number<std::size_t>("RETRY_BUDGET_MIN", v, 0, 10'000);
         },
         [](const Config& c) { return std::to_string(c.retry.budget_min); }},
    };
}

std::vector<Setting> breaker_settings() {
    using breaker::BreakerConfig;
    return {
        {"CB_WINDOW_TYPE",
         "count: the window holds the last CB_WINDOW_SIZE calls; time: the last CB_WINDOW_SIZE "
         "seconds",
         [](Config& c, const std::string& v) {
             c.breaker.window_type = parse_choice("CB_WINDOW_TYPE", v, {"count", "time"}) == "time"
                                         ? breaker::WindowType::time
                                         : breaker::WindowType::count;
         },
         [](const Config& c) {
             return std::string(c.breaker.window_type == breaker::WindowType::time ? "time"
                                                                                   : "count");
         }},
        {"CB_WINDOW_SIZE",
         "calls (count window) or seconds (time window) in the window, 1 to 10000",
         [](Config& c, const std::string& v) {
             c.breaker.window_size = parse_number<std::size_t>("CB_WINDOW_SIZE", v, 1, 10'000);
         },
         [](const Config& c) { return std::to_string(c.breaker.window_size); }},
        {"CB_MINIMUM_CALLS",
         "calls the window needs before rates count, 1 to 10000 (count window: to CB_WINDOW_SIZE)",
         [](Config& c, const std::string& v) {
             c.breaker.minimum_calls = parse_number<std::size_t>("CB_MINIMUM_CALLS", v, 1, 10'000);
         },
         [](const Config& c) { return std::to_string(c.breaker.minimum_calls); }},
        {"CB_FAILURE_RATE_THRESHOLD",
         "failure percentage that opens the breaker, (0, 100]",
         [](Config& c, const std::string& v) {
             c.breaker.failure_rate_threshold =
                 parse_number("CB_FAILURE_RATE_THRESHOLD", v, 0.001, 100.0);
         },
         [](const Config& c) { return show_double(c.breaker.failure_rate_threshold); }},
        {"CB_SLOW_CALL_RATE_THRESHOLD",
         "slow-call percentage that opens the breaker, (0, 100]",
         [](Config& c, const std::string& v) {
             c.breaker.slow_call_rate_threshold =
                 parse_number("CB_SLOW_CALL_RATE_THRESHOLD", v, 0.001, 100.0);
         },
         [](const Config& c) { return show_double(c.breaker.slow_call_rate_threshold); }},
        {"CB_SLOW_CALL_DURATION_MS",
         "a call this long or longer is slow, 1 to 600000 (default: UPSTREAM_TIMEOUT_MS)",
         [](Config& c, const std::string& v) {
             c.breaker.slow_call_duration = parse_ms("CB_SLOW_CALL_DURATION_MS", v, 1, 600'000);
         },
         [](const Config& c) { return show_ms(c.breaker.slow_call_duration); }},
        {"CB_CONSECUTIVE_FAILURES",
         "failures in a row that open the breaker, 0 = off",
         [](Config& c, const std::string& v) {
             c.breaker.consecutive_failures =
                 parse_number<std::size_t>("CB_CONSECUTIVE_FAILURES", v, 0, 10'000);
         },
         [](const Config& c) { return std::to_string(c.breaker.consecutive_failures); }},
        {"CB_WAIT_IN_OPEN_MS",
         "time an open breaker rejects calls, 1 to 3600000",
         [](Config& c, const std::string& v) {
             c.breaker.wait_in_open = parse_ms("CB_WAIT_IN_OPEN_MS", v, 1, 3'600'000);
         },
         [](const Config& c) { return show_ms(c.breaker.wait_in_open); }},
        {"CB_OPEN_BACKOFF",
         "factor the open wait grows by after each failed probe, 1 to 100 (1 = off)",
         [](Config& c, const std::string& v) {
             c.breaker.open_backoff = parse_number("CB_OPEN_BACKOFF", v, 1.0, 100.0);
         },
         [](const Config& c) { return show_double(c.breaker.open_backoff); }},
        {"CB_MAX_WAIT_IN_OPEN_MS",
         "cap of the grown open wait, 1 to 3600000 (with backoff: at least CB_WAIT_IN_OPEN_MS)",
         [](Config& c, const std::string& v) {
             c.breaker.max_wait_in_open = parse_ms("CB_MAX_WAIT_IN_OPEN_MS", v, 1, 3'600'000);
         },
         [](const Config& c) { return show_ms(c.breaker.max_wait_in_open); }},
        {"CB_OPEN_JITTER",
         "spread of each open wait as a fraction, 0 to 0.99 (0.1 = +-10%)",
         [](Config& c, const std::string& v) {
             c.breaker.open_jitter = parse_number("CB_OPEN_JITTER", v, 0.0, 0.99);
         },
         [](const Config& c) { return show_double(c.breaker.open_jitter); }},
        {"CB_AUTO_HALF_OPEN",
         "move an open breaker to half-open when its wait ends, with no call",
         [](Config& c, const std::string& v) {
             c.breaker.auto_half_open = parse_bool("CB_AUTO_HALF_OPEN", v);
         },
         [](const Config& c) { return std::string(c.breaker.auto_half_open ? "true" : "false"); }},
        {"CB_HALF_OPEN_CALLS",
         "trial calls let through in half-open, 1 to 1000",
         [](Config& c, const std::string& v) {
             c.breaker.half_open_calls =
                 parse_number<std::size_t>("CB_HALF_OPEN_CALLS", v, 1, 1000);
         },
         [](const Config& c) { return std::to_string(c.breaker.half_open_calls); }},
        {"CB_MAX_WAIT_IN_HALF_OPEN_MS",
         "half-open reopens if its trials have not finished by then, 1 to 3600000",
         [](Config& c, const std::string& v) {
             c.breaker.max_wait_in_half_open =
                 parse_ms("CB_MAX_WAIT_IN_HALF_OPEN_MS", v, 1, 3'600'000);
         },
         [](const Config& c) { return show_ms(c.breaker.max_wait_in_half_open); }},
        {"CB_INFLIGHT_TRIP",
         "also open on calls in flight: CB_MINIMUM_CALLS or more, and the share older than "
         "CB_SLOW_CALL_DURATION_MS at CB_SLOW_CALL_RATE_THRESHOLD",
         [](Config& c, const std::string& v) {
             c.breaker.inflight_trip = parse_bool("CB_INFLIGHT_TRIP", v);
         },
         [](const Config& c) { return std::string(c.breaker.inflight_trip ? "true" : "false"); }},
        {"CB_SCOPE",
         "route: one breaker per upstream and route; upstream: one per upstream",
         [](Config& c, const std::string& v) {
             c.breaker_scope = parse_choice("CB_SCOPE", v, {"route", "upstream"}) == "route"
                                   ? BreakerScope::route
                                   : BreakerScope::upstream;
         },
         [](const Config& c) {
             return std::string(c.breaker_scope == BreakerScope::route ? "route" : "upstream");
         }},
        {"CB_SHED_IS_FAILURE",
         "count a 503 with X-Circuit-Open from below as a failure (the old cascade)",
         [](Config& c, const std::string& v) {
             c.shed_is_failure = parse_bool("CB_SHED_IS_FAILURE", v);
         },
         [](const Config& c) { return std::string(c.shed_is_failure ? "true" : "false"); }},
        {"CB_FAILURE_STATUSES",
         "upstream statuses that count as failures: codes and ranges like 500-599,429, or none",
         [](Config& c, const std::string& v) {
             c.failure_statuses = parse_statuses("CB_FAILURE_STATUSES", v);
         },
         [](const Config& c) { return c.failure_statuses.to_string(); }},
        {"CB_IGNORE_STATUSES",
         "upstream statuses that count as neither success nor failure; wins over "
         "CB_FAILURE_STATUSES",
         [](Config& c, const std::string& v) {
             c.ignore_statuses = parse_statuses("CB_IGNORE_STATUSES", v);
         },
         [](const Config& c) { return c.ignore_statuses.to_string(); }},
        {"CB_FORCED_STATE",
         "start every breaker forced: none, disabled, forced_open or metrics_only",
         [](Config& c, const std::string& v) {
             const auto state = parse_choice(
                 "CB_FORCED_STATE", v, {"none", "disabled", "forced_open", "metrics_only"});
             c.breaker_forced_state =
                 state == "none" ? std::nullopt : breaker::state_from_string(state);
         },
         [](const Config& c) { return show_state(c.breaker_forced_state); }},
    };
}

std::vector<Setting> ops_settings() {
    return {
        {"LOG_LEVEL",
         "trace, debug, info, warn, error or off (access lines are debug)",
         [](Config& c, const std::string& v) {
             c.log_level =
                 parse_choice("LOG_LEVEL", v, {"trace", "debug", "info", "warn", "error", "off"});
         },
         [](const Config& c) { return c.log_level; }},
        {"LOG_FORMAT",
         "text or json",
         [](Config& c, const std::string& v) {
             c.log_format = parse_choice("LOG_FORMAT", v, {"text", "json"});
         },
         [](const Config& c) { return c.log_format; }},
        {"SHUTDOWN_GRACE_MS",
         "time in-flight requests get to finish on SIGTERM, 0 to 600000",
         [](Config& c, const std::string& v) {
             c.shutdown_grace = parse_ms("SHUTDOWN_GRACE_MS", v, 0, 600'000);
         },
         [](const Config& c) { return show_ms(c.shutdown_grace); }},
        {"MAX_CONNECTIONS",
         "client connections open at once, 1 to 100000",
         [](Config& c, const std::string& v) {
             c.max_connections = parse_number<std::size_t>("MAX_CONNECTIONS", v, 1, 100'000);
         },
         [](const Config& c) { return std::to_string(c.max_connections); }},
        {"HEADER_LIMIT",
         "bytes of request line and headers, 1024 to 1048576 (431 past it)",
         [](Config& c, const std::string& v) {
             c.header_limit = parse_number<std::size_t>("HEADER_LIMIT", v, 1024, 1 << 20);
         },
         [](const Config& c) { return std::to_string(c.header_limit); }},
        {"BODY_LIMIT",
         "bytes of request body, 0 to 16777216 (413 past it)",
         [](Config& c, const std::string& v) {
             c.body_limit = parse_number<std::size_t>("BODY_LIMIT", v, 0, 1 << 24);
         },
         [](const Config& c) { return std::to_string(c.body_limit); }},
        {"HEADER_TIMEOUT_MS",
         "time a client gets to send a request's headers, 100 to 600000",
         [](Config& c, const std::string& v) {
             c.header_timeout = parse_ms("HEADER_TIMEOUT_MS", v, 100, 600'000);
         },
         [](const Config& c) { return show_ms(c.header_timeout); }},
        {"IDLE_TIMEOUT_MS",
         "time a kept-alive client connection may stay idle, 100 to 3600000",
         [](Config& c, const std::string& v) {
             c.idle_timeout = parse_ms("IDLE_TIMEOUT_MS", v, 100, 3'600'000);
         },
         [](const Config& c) { return show_ms(c.idle_timeout); }},
        {"ADMIN_TOKEN",
         "bearer token of the admin routes, 16 to 256 of A-Z a-z 0-9 . _ ~ + / = - "
         "(none: they answer 403)",
         [](Config& c, const std::string& v) { c.admin_token = parse_token("ADMIN_TOKEN", v); },
         // Never shown: the start-up log must not leak it.
         [](const Config& c) { return c.admin_token.empty() ? "none" : "(set)"; }},
    };
}

const std::vector<Setting>& settings() {
    static const std::vector<Setting> all = [] {
        std::vector<Setting> list;
        for (auto group : {general_settings,
                           backline_settings,
                           upstream_settings,
                           retry_settings,
                           breaker_settings,
                           ops_settings}) {
            auto part = group();
            list.insert(list.end(), part.begin(), part.end());
        }
        return list;
    }();
    return all;
}

const Setting* find_setting(const std::string& flag) {
    for (const Setting& setting : settings()) {
        if (flag_of(setting.name) == flag) {
            return &setting;
        }
    }
    return nullptr;
}

Config default_config() {
    Config config;
    config.threads = std::clamp(std::thread::hardware_concurrency(), 1u, 256u);
    return config;
}

struct Flags {
    std::vector<std::pair<const Setting*, std::string>> values;
    Invocation::Action action = Invocation::Action::serve;
};

Flags read_flags(const std::vector<std::string>& args) {
    Flags flags;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (arg == "--help" || arg == "-h") {
            flags.action = Invocation::Action::help;
            continue;
        }
        if (arg == "--version") {
            flags.action = Invocation::Action::version;
            continue;
        }
        const auto eq = arg.find('=');
        const std::string flag = arg.substr(0, eq);
        const Setting* setting = find_setting(flag);
        if (setting == nullptr || flag.rfind("--", 0) != 0) {
            throw ConfigError("unknown argument \"" + quoted(arg) + "\" (see --help)");
        }
        if (eq == std::string::npos && i + 1 >= args.size()) {
            throw ConfigError("missing value for " + flag + " (see --help)");
        }
        flags.values.emplace_back(setting,
                                  eq == std::string::npos ? args[++i] : arg.substr(eq + 1));
    }
    return flags;
}

void check_breaker_pairs(const Config& config) {
    const breaker::BreakerConfig& cb = config.breaker;
    if (cb.window_type == breaker::WindowType::count && cb.minimum_calls > cb.window_size) {
        fail("CB_MINIMUM_CALLS",
             "at most CB_WINDOW_SIZE (" + std::to_string(cb.window_size) + ") for a count window",
             std::to_string(cb.minimum_calls));
    }
    if (cb.open_backoff > 1.0 && cb.max_wait_in_open < cb.wait_in_open) {
        fail("CB_MAX_WAIT_IN_OPEN_MS",
             "at least CB_WAIT_IN_OPEN_MS (" + show_ms(cb.wait_in_open) +
                 ") when CB_OPEN_BACKOFF > 1",
             show_ms(cb.max_wait_in_open));
    }
    // A call slow only once it times out is seen by the window anyway: the trip would be idle.
    if (cb.inflight_trip && cb.slow_call_duration >= config.upstream_timeout) {
        fail("CB_INFLIGHT_TRIP",
             "CB_SLOW_CALL_DURATION_MS (" + show_ms(cb.slow_call_duration) +
                 ") below UPSTREAM_TIMEOUT_MS (" + show_ms(config.upstream_timeout) +
                 ") so it can act before the timeouts",
             "true");
    }
}

void check_retry_pairs(const Config& config) {
    if (config.retry.backoff_cap < config.retry.backoff_base) {
        fail("RETRY_BACKOFF_CAP_MS",
             "at least RETRY_BACKOFF_BASE_MS (" + show_ms(config.retry.backoff_base) + ")",
             show_ms(config.retry.backoff_cap));
    }
}

void check_combined(Config& config, bool slow_duration_given) {
    if (!slow_duration_given) {
        config.breaker.slow_call_duration = config.upstream_timeout;
    }
    check_breaker_pairs(config);
    check_retry_pairs(config);
    if (auto problem = breaker::validate(config.breaker)) {
        throw ConfigError("bad breaker settings: " + *problem);
    }
}

}  // namespace

std::string_view to_string(Role role) {
    switch (role) {
        case Role::frontier:
            return "frontier";
        case Role::midline:
            return "midline";
        case Role::backline:
            return "backline";
    }
    return "unknown";
}

Invocation load_config(const std::vector<std::string>& args, const EnvLookup& env) {
    Invocation invocation;
    invocation.config = default_config();
    const Flags flags = read_flags(args);
    invocation.action = flags.action;
    if (flags.action != Invocation::Action::serve) {
        return invocation;
    }

    bool role_given = false;
    bool slow_duration_given = false;
    for (const Setting& setting : settings()) {
        auto value = env(setting.name);
        for (const auto& [flagged, text] : flags.values) {
            if (flagged == &setting) {
                value = text;  // flags win over the environment
            }
        }
        if (value) {
            setting.parse(invocation.config, *value);
            role_given = role_given || setting.name == "ROLE";
            slow_duration_given = slow_duration_given || setting.name == "CB_SLOW_CALL_DURATION_MS";
        }
    }
    if (!role_given) {
        throw ConfigError("ROLE (--role) is required: frontier, midline or backline");
    }
    check_combined(invocation.config, slow_duration_given);
    return invocation;
}

EnvLookup process_env() {
    return [](const std::string& name) -> std::optional<std::string> {
        const char* value = std::getenv(name.c_str());
        return value ? std::optional<std::string>(value) : std::nullopt;
    };
}

std::vector<SettingDoc> setting_docs() {
    const Config defaults = default_config();
    std::vector<SettingDoc> docs;
    for (const Setting& setting : settings()) {
        // Two defaults depend on the run, not on the code: say what they are instead.
        std::string shown = setting.show(defaults);
        if (setting.name == "ROLE") {
            shown = "none";
        } else if (setting.name == "THREADS") {
            shown = "cores";
        }
        docs.push_back({setting.name, flag_of(setting.name), shown, setting.help});
    }
    return docs;
}

std::string readme_row(const SettingDoc& doc) {
    return "| `" + doc.variable + "` | `" + doc.flag + "` | `" + doc.default_value + "` | " +
           doc.meaning + " |";
}

std::string help_text() {
    std::ostringstream text;
    text << "Usage: circuitlab [--flag value | --flag=value]...\n"
            "       circuitlab healthcheck [--url http://127.0.0.1:8000/healthz]\n"
            "       circuitlab replay [--config FILE] [--flag=value]... TRACE\n\n"
            "Every setting is a flag or an environment variable; flags win.\n\n";
    for (const SettingDoc& doc : setting_docs()) {
        text << "  " << doc.flag << ", " << doc.variable << "  (default: " << doc.default_value
             << ")\n      " << doc.meaning << "\n";
    }
    return text.str();
}

std::vector<std::string> describe(const Config& config) {
    std::vector<std::string> lines;
    for (const Setting& setting : settings()) {
        lines.push_back(setting.name + "=" + setting.show(config));
    }
    return lines;
}

}  // namespace circuitlab::ops
