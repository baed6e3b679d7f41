#include "circuitlab/breaker/state.hpp"

#include <array>
#include <utility>

namespace circuitlab::breaker {

namespace {

constexpr std::array<std::pair<State, std::string_view>, 6> names{{
    {State::closed, "closed"},
    {State::open, "open"},
    {State::half_open, "half_open"},
    {State::disabled, "disabled"},
    {State::forced_open, "forced_open"},
    {State::metrics_only, "metrics_only"},
}};

bool is_forced(State state) {
    return state == State::disabled || state == State::forced_open || state == State::metrics_only;
}

}  // namespace

std::string_view to_string(State state) {
    for (const auto& [value, name] : names) {
        if (value == state) {
            return name;
        }
    }
    return "unknown";
}

std::optional<State> state_from_string(std::string_view name) {
    for (const auto& [value, text] : names) {
        if (text == name) {
            return value;
        }
    }
    return std::nullopt;
}

bool is_legal_transition(State from, State to) {
    // The automatic moves of the diagram.
    if ((from == State::closed && to == State::open) ||
        (from == State::open && to == State::half_open) ||
        (from == State::half_open && to == State::closed) ||
        (from == State::half_open && to == State::open)) {
        return true;
    }
    // An operator may force any state from any state, and close (reset) from any state.
    return is_forced(to) || to == State::closed;
}

bool permits_freely(State state) {
    return state == State::closed || state == State::disabled || state == State::metrics_only;
}

}  // namespace circuitlab::breaker
