#pragma once

#include <string>
#include <vector>

namespace circuitlab::app {

/// `circuitlab replay [--config FILE] [--SETTING=value]... TRACE`: replays a trace of calls
/// through one breaker on a virtual clock and prints its transitions and a summary. `args`
/// starts with "replay". Returns the exit code: 0, or 2 for a bad argument, file or line.
int replay_command(const std::vector<std::string>& args);

}  // namespace circuitlab::app
