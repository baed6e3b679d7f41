#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "circuitlab/breaker/breaker_config.hpp"
#include "circuitlab/breaker/circuit_breaker.hpp"
#include "circuitlab/lab/status_set.hpp"
#include "circuitlab/ops/config.hpp"
#include "circuitlab/replay/trace.hpp"

namespace circuitlab::replay {

/// What a replay runs: the breaker's settings and how traced answers are judged.
struct ReplaySettings {
    breaker::BreakerConfig breaker;
    bool shed_is_failure = false;                ///< A `shed` call counts as a failure.
    std::optional<breaker::State> forced_state;  ///< Forced at the start of the trace.
    bool breaker_per_route = true;               ///< CB_SCOPE=route: a breaker per route.
    lab::StatusSet failure_statuses = lab::StatusSet::range(500, 599);  ///< Failing statuses.
    lab::StatusSet ignore_statuses;  ///< Statuses counted as neither; wins over failures.
};

/// The settings of a replay, taken from a validated process config.
ReplaySettings settings_from(const ops::Config& config);

/// Reads `NAME=value` lines (blank lines and `#` comments skipped) and validates them with
/// the process's own config loader, flags given on the command line winning. The role
/// defaults to midline; settings that do not concern the breaker are checked and unused.
/// Throws ops::ConfigError (one line, naming the setting or the line) on a bad one.
ops::Config load_settings(std::string_view file_text, const std::vector<std::string>& flags);

/// One transition seen during the replay, at its virtual time.
struct ReplayTransition {
    std::chrono::milliseconds at{0};
    breaker::Transition transition;
};

/// An operator line the breaker refused (the move was not legal from its state then).
struct RefusedForce {
    std::chrono::milliseconds at{0};
    std::size_t line = 0;
    breaker::State from = breaker::State::closed;
    breaker::State to = breaker::State::closed;
};

/// Number of breaker states, for arrays indexed by state.
inline constexpr std::size_t state_count = 6;

/// What the replay counted.
struct ReplaySummary {
    std::chrono::milliseconds begin{0};  ///< Time of the first trace line.
    std::chrono::milliseconds end{0};    ///< Last call start or finish, or operator line.

    /// Time spent in each state, indexed by breaker::State.
    std::array<std::chrono::milliseconds, state_count> time_in_state{};
    /// Part of the open time after the wait was over, with no call yet to probe.
    std::chrono::milliseconds open_probe_due{0};

    std::size_t calls = 0;
    std::array<std::size_t, state_count> permitted{};  ///< By state at admission.
    std::array<std::size_t, state_count> rejected{};   ///< By state at rejection.
    std::size_t successes = 0;                         ///< Permitted calls judged a success.
    std::size_t failures = 0;                          ///< Permitted calls judged a failure.
    std::size_t ignored = 0;                           ///< Permitted calls judged neither.
    std::size_t slow = 0;  ///< Permitted calls at or over the slow-call duration.
    std::size_t late = 0;  ///< Results dropped: they came back in a later generation.
};

/// Everything a replay produced.
struct ReplayResult {
    std::vector<ReplayTransition> transitions;
    std::vector<RefusedForce> refused;
    ReplaySummary summary;
};

/// How a traced call counts for the breaker under these settings.
breaker::Outcome classify(const TraceEntry& call, const ReplaySettings& settings);

/// Feeds the trace to one breaker on a virtual clock: each call asks for a permit at its
/// start and completes at start + latency, so overlapping calls are in flight together.
/// Events run in time order; at equal times, finishing calls come first, then trace lines
/// in file order. The settings must be valid (see load_settings).
ReplayResult run(const std::vector<TraceEntry>& trace, const ReplaySettings& settings);

/// The report a user reads: every transition with its time and reason, then the summary.
std::string format_report(const ReplayResult& result);

/// The replay of one breaker of a trace: its route ("" for all routes) and what it did.
struct BreakerReplay {
    std::string route;
    ReplayResult result;
};

/// Replays a trace whose lines may name routes: one breaker per route when
/// settings.breaker_per_route (lines without a route share one), else one breaker for all.
/// Operator lines without a route act on every breaker. Routes in order of appearance.
std::vector<BreakerReplay> run_by_route(const Trace& trace, const ReplaySettings& settings);

/// Each breaker's report under a `breaker ROUTE` line; a lone breaker's report as is.
std::string format_report(const std::vector<BreakerReplay>& replays);

}  // namespace circuitlab::replay
