#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "circuitlab/breaker/breaker_config.hpp"
#include "circuitlab/breaker/state.hpp"
#include "circuitlab/lab/retry.hpp"
#include "circuitlab/lab/status_set.hpp"

namespace circuitlab::ops {

/// Which hop of the chain this process plays.
enum class Role { frontier, midline, backline };

std::string_view to_string(Role role);

/// Whether each proxied route gets its own breaker or all routes share one per upstream.
enum class BreakerScope { route, upstream };

/// Everything the process is told at start-up. Filled and validated by load_config only.
struct Config {
    Role role = Role::backline;
    std::string listen_host = "0.0.0.0";
    std::uint16_t listen_port = 8000;
    unsigned threads = 1;

    std::string frontier_domain = "http://frontier:8000";
    std::string midline_domain = "http://midline:8000";
    std::string backline_domain = "http://backline:8000";

    double fail_rate = 0.7;                 ///< Backline: chance of a 500 (0..1).
    double slow_rate = 0.7;                 ///< Backline: chance of a delay (0..1).
    std::chrono::milliseconds sleep{1000};  ///< Backline: the delay.

    std::chrono::milliseconds upstream_timeout{1000};
    std::chrono::milliseconds upstream_connect_timeout{500};
    std::size_t upstream_max_connections = 256;
    std::size_t upstream_max_concurrent = 200;      ///< Bulkhead per upstream.
    std::chrono::milliseconds deadline_margin{20};  ///< Kept from a caller's budget.
    lab::RetryPolicy retry;                         ///< Retries and their budget.

    breaker::BreakerConfig breaker;
    BreakerScope breaker_scope = BreakerScope::route;
    bool shed_is_failure = false;  ///< Count a shed 503 from below as a failure (cascade).
    lab::StatusSet failure_statuses = lab::StatusSet::range(500, 599);  ///< Failures.
    lab::StatusSet ignore_statuses;  ///< Neither success nor failure; wins over failures.
    std::optional<breaker::State> breaker_forced_state;  ///< Start every breaker forced.

    std::string log_level = "info";
    std::string log_format = "text";
    std::chrono::milliseconds shutdown_grace{10'000};

    std::size_t max_connections = 10'000;
    std::size_t header_limit = 16 * 1024;
    std::size_t body_limit = 64 * 1024;
    std::chrono::milliseconds header_timeout{10'000};
    std::chrono::milliseconds idle_timeout{60'000};  ///< Keep-alive idle time of a client.

    /// Bearer token of the admin routes; empty: none configured (they answer 403).
    std::string admin_token;
};

/// A bad setting: the message is one line naming the setting, the accepted range and the
/// value given. main prints it and exits with code 2.
class ConfigError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// Reads an environment variable; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

/// What the command line asked for.
struct Invocation {
    enum class Action { serve, help, version };
    Action action = Action::serve;
    Config config;
};

/// Parses flags (`--name value` or `--name=value`) over environment variables over
/// defaults, and validates every value. Throws ConfigError on the first bad one.
Invocation load_config(const std::vector<std::string>& args, const EnvLookup& env);

/// The process environment.
EnvLookup process_env();

/// How one setting is documented, in `--help` and in the README's settings table.
struct SettingDoc {
    std::string variable;       ///< `CB_WINDOW_SIZE`
    std::string flag;           ///< `--cb-window-size`
    std::string default_value;  ///< As a user reads it: `10`, `none`, `cores`.
    std::string meaning;        ///< One line, with the accepted range.
};

/// Every setting, in the order of `--help`.
std::vector<SettingDoc> setting_docs();

/// The README's row of a setting: `| `VAR` | `--flag` | `default` | meaning |`.
std::string readme_row(const SettingDoc& doc);

/// The `--help` text: every setting with its variable, flag, default and meaning.
std::string help_text();

/// The effective settings, one `NAME=value` per entry, for the start-up log.
std::vector<std::string> describe(const Config& config);

}  // namespace circuitlab::ops
