#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <spdlog/logger.h>

#include "circuitlab/breaker/circuit_breaker.hpp"
#include "circuitlab/http/client.hpp"
#include "circuitlab/http/router.hpp"
#include "circuitlab/lab/outcome.hpp"

namespace circuitlab::lab {

/// The query parameter that bypasses the breakers of the whole path.
inline constexpr std::string_view bypass_param = "non_circuit_breaker";

/// Reads `non_circuit_breaker`: 1/true/yes/on -> true, 0/false/no/off or absent -> false,
/// anything else -> nullopt (the caller answers 400).
std::optional<bool> parse_bypass(const http::RequestContext& context);

/// Where a proxying hop sends its calls and how it judges them.
struct HopOptions {
    std::string name;  ///< `midline->backline`: the hop as users see it.
    http::Upstream upstream;
    std::chrono::milliseconds timeout{1000};  ///< Total deadline of one call.
    OutcomePolicy policy;
    std::shared_ptr<spdlog::logger> log;  ///< Rejections at debug; null: none.
};

/// Counters of a hop's calls, for tests and later for metrics.
struct HopCounters {
    std::atomic<std::uint64_t> permitted{0};
    std::atomic<std::uint64_t> rejected{0};
    std::atomic<std::uint64_t> bypassed{0};
    std::atomic<std::uint64_t> shed{0};
};

/// The guarded call: asks the breaker, calls the next hop, records exactly one outcome
/// and turns the result into this hop's answer. Thread-safe.
class GuardedCall {
public:
    GuardedCall(http::Client& client, HopOptions options);

    /// Forwards the request's path (and the bypass flag when set) with its request id.
    /// With `bypass` the breaker is neither asked nor told.
    boost::asio::awaitable<http::Response> call(const http::RequestContext& context,
                                                breaker::CircuitBreaker& breaker,
                                                bool bypass);

    const HopOptions& options() const { return options_; }
    const HopCounters& counters() const { return counters_; }

private:
    boost::asio::awaitable<http::CallResult> send(const http::RequestContext& context,
                                                  bool bypass);

    http::Client& client_;
    HopOptions options_;
    HopCounters counters_;
};

}  // namespace circuitlab::lab
