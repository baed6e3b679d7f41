#pragma once

#include <optional>
#include <string_view>

namespace circuitlab::breaker {

/// States of a breaker. The first three are the automatic ones of the diagram; the last
/// three are set only by an operator and left only by an operator.
enum class State {
    closed,        ///< Calls flow; results fill the window.
    open,          ///< Calls are rejected until the wait is over.
    half_open,     ///< A fixed number of trial calls decides between closed and open.
    disabled,      ///< Calls flow; nothing is recorded.
    forced_open,   ///< Every call is rejected.
    metrics_only,  ///< Calls flow and are recorded; the breaker never trips.
};

/// Lower-case name of a state, as in logs and JSON (`half_open`).
std::string_view to_string(State state);

/// Parses a name made by to_string. Returns nullopt for anything else.
std::optional<State> state_from_string(std::string_view name);

/// Whether the move is one of the legal transitions. The table lives in one place.
bool is_legal_transition(State from, State to);

/// Whether calls are let through in this state without asking for a trial slot.
bool permits_freely(State state);

}  // namespace circuitlab::breaker
