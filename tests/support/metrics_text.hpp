#pragma once

// Reading Prometheus text as a scrape would, for tests of /metrics.

#include <limits>
#include <sstream>
#include <string>

namespace circuitlab::testing {

/// The value of the sample line that starts with `series` (name and labels, exactly as
/// written); NaN when there is none.
inline double sample(const std::string& text, const std::string& series) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with(series + " ")) {
            return std::stod(line.substr(series.size() + 1));
        }
    }
    return std::numeric_limits<double>::quiet_NaN();
}

}  // namespace circuitlab::testing
