#include <cstdio>

#include "circuitlab/replay/replay.hpp"

namespace circuitlab::replay {

namespace {

using breaker::State;
using std::chrono::milliseconds;

constexpr State all_states[] = {State::closed,
                                State::open,
                                State::half_open,
                                State::disabled,
                                State::forced_open,
                                State::metrics_only};

// Milliseconds as seconds with three decimals: `2.005 s`.
std::string seconds(milliseconds value) {
    char text[32];
    std::snprintf(text,
                  sizeof text,
                  "%lld.%03lld s",
                  static_cast<long long>(value.count() / 1000),
                  static_cast<long long>(value.count() % 1000));
    return text;
}

std::string name(State state) {
    return std::string(breaker::to_string(state));
}

// The states in `values` that are not zero, as `closed 5, half_open 3`; `none` when all are.
template <typename Values, typename Show>
std::string by_state(const Values& values, Show show) {
    std::string text;
    for (State state : all_states) {
        const auto& value = values[static_cast<std::size_t>(state)];
        if (value != decltype(value){}) {
            text += (text.empty() ? "" : ", ") + name(state) + " " + show(value);
        }
    }
    return text.empty() ? "none" : text;
}

std::string total(const std::array<std::size_t, state_count>& counts) {
    std::size_t sum = 0;
    for (std::size_t count : counts) {
        sum += count;
    }
    return std::to_string(sum);
}

std::string count(std::size_t value) {
    return std::to_string(value);
}

// The counts a transition was decided on: `[5 calls, 5 failed, 0 slow]`.
std::string window(const breaker::WindowCounts& counts) {
    return "[" + std::to_string(counts.calls) + " calls, " + std::to_string(counts.failures) +
           " failed, " + std::to_string(counts.slow_calls) + " slow]";
}

void add_transitions(const ReplayResult& result, std::string& text) {
    text += "transitions: " + std::to_string(result.transitions.size()) + "\n";
    for (const ReplayTransition& entry : result.transitions) {
        const breaker::Transition& t = entry.transition;
        text += "  " + seconds(entry.at) + "  " + name(t.from) + " -> " + name(t.to) + " (" +
                t.reason + ") " + window(t.window) + "\n";
    }
    for (const RefusedForce& refused : result.refused) {
        text += "  " + seconds(refused.at) + "  refused: trace line " +
                std::to_string(refused.line) + " forces " + name(refused.to) + ", not legal from " +
                name(refused.from) + "\n";
    }
}

// One summary line: the label in a column of its own, then the value.
std::string row(const std::string& label, const std::string& value) {
    std::string line = "  " + label;
    line.resize(18, ' ');
    return line + value + "\n";
}

void add_summary(const ReplaySummary& summary, std::string& text) {
    const auto show_time = [](milliseconds value) { return seconds(value); };
    text += "summary:\n";
    text += row("span",
                seconds(summary.begin) + " to " + seconds(summary.end) + " (" +
                    seconds(summary.end - summary.begin) + ")");
    text += row("time in state", by_state(summary.time_in_state, show_time));
    text += row("probe due",
                seconds(summary.open_probe_due) + " of the open time (wait over, no call yet)");
    text += row("calls", count(summary.calls));
    text += row("permitted", total(summary.permitted) + ": " + by_state(summary.permitted, count));
    text += row("rejected", total(summary.rejected) + ": " + by_state(summary.rejected, count));
    text += row("outcomes",
                "success " + count(summary.successes) + ", failure " + count(summary.failures) +
                    ", ignored " + count(summary.ignored));
    text += row("slow", count(summary.slow));
    text += row("late (dropped)", count(summary.late));
}

}  // namespace

std::string format_report(const ReplayResult& result) {
    std::string text;
    add_transitions(result, text);
    add_summary(result.summary, text);
    return text;
}

std::string format_report(const std::vector<BreakerReplay>& replays) {
    if (replays.size() == 1 && replays.front().route.empty()) {
        return format_report(replays.front().result);
    }
    std::string text;
    for (const BreakerReplay& replay : replays) {
        text += text.empty() ? "" : "\n";
        text += "breaker " + (replay.route.empty() ? std::string("(no route)") : replay.route);
        text += "\n" + format_report(replay.result);
    }
    return text;
}

}  // namespace circuitlab::replay
