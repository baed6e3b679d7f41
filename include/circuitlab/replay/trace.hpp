#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "circuitlab/breaker/state.hpp"

namespace circuitlab::replay {

/// How a traced call ended, as a log would say it.
enum class CallEnd : std::uint8_t {
    success,    ///< The upstream answered well.
    failure,    ///< Some failure not named more precisely.
    timeout,    ///< The call ran out of time (a failure).
    connect,    ///< The connection could not be made (a failure).
    reset,      ///< The connection was reset (a failure).
    protocol,   ///< The answer was malformed (a failure).
    ignored,    ///< Neither success nor failure.
    cancelled,  ///< The client went away (ignored).
    shed,       ///< A 503 marked X-Circuit-Open: a breaker below shed the call.
    status,     ///< An HTTP status, judged by the outcome policy.
};

/// One line of a trace: a call, or an operator forcing a state.
struct TraceEntry {
    enum class Kind : std::uint8_t { call, force };

    std::chrono::milliseconds at{0};       ///< When the call starts or the operator acts.
    std::chrono::milliseconds latency{0};  ///< Calls only: how long the call took (>= 0).
    std::size_t line = 0;                  ///< Line number in the trace, from 1.
    std::uint32_t route = 0;               ///< Index in Trace::routes; 0: no route given.
    std::uint16_t status = 0;              ///< Calls ending in `status`: 100 to 599.
    CallEnd end = CallEnd::success;        ///< Calls only.
    Kind kind = Kind::call;

    breaker::State forced = breaker::State::closed;  ///< Operator lines only.
};

/// A trace line that cannot be read: its line number and what is wrong with it.
class TraceError : public std::runtime_error {
  public:
    TraceError(std::size_t line, const std::string& what) : std::runtime_error(what), line_(line) {}

    /// Line number in the trace, from 1.
    std::size_t line() const { return line_; }

  private:
    std::size_t line_;
};

/// A trace: its lines, and the routes they name.
struct Trace {
    std::vector<TraceEntry> entries;      ///< In file order.
    std::vector<std::string> routes{""};  ///< By TraceEntry::route; routes[0] is "no route".
};

/// Reads a whole trace. Each line is a CSV record `time_ms,outcome[,latency_ms[,route]]` or
/// `time_ms,force,STATE[,route]`, or a JSON object (a line starting with `{`) with the same
/// fields; blank lines and lines starting with `#` are skipped, and so is a CSV header line
/// starting with `time_ms`. Throws TraceError on the first bad line.
Trace read_trace(std::string_view text);

/// The entries of read_trace, for a trace of one breaker.
std::vector<TraceEntry> parse_trace(std::string_view text);

/// Parses an outcome word (`success`, `timeout`, ...) or an HTTP status into `entry`.
/// Returns false when the text is neither.
bool parse_outcome(std::string_view text, TraceEntry& entry);

}  // namespace circuitlab::replay
