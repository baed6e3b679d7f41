#include "circuitlab/breaker/state.hpp"

#include <gtest/gtest.h>

namespace circuitlab::breaker {
namespace {

TEST(StateTest, NamesRoundTrip) {
    for (State state : {State::closed,
                        State::open,
                        State::half_open,
                        State::disabled,
                        State::forced_open,
                        State::metrics_only}) {
        EXPECT_EQ(state_from_string(to_string(state)), state);
    }
    EXPECT_FALSE(state_from_string("ajar").has_value());
}

TEST(StateTest, OnlyTheDiagramsAutomaticMovesAndOperatorMovesAreLegal) {
    EXPECT_TRUE(is_legal_transition(State::closed, State::open));
    EXPECT_TRUE(is_legal_transition(State::open, State::half_open));
    EXPECT_TRUE(is_legal_transition(State::half_open, State::closed));
    EXPECT_TRUE(is_legal_transition(State::forced_open, State::closed));
    EXPECT_FALSE(is_legal_transition(State::closed, State::half_open));
    EXPECT_FALSE(is_legal_transition(State::disabled, State::half_open));
}

}  // namespace
}  // namespace circuitlab::breaker
