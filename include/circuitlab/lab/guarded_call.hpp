#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <spdlog/logger.h>
#include <boost/asio/awaitable.hpp>

#include "circuitlab/breaker/circuit_breaker.hpp"
#include "circuitlab/http/client.hpp"
#include "circuitlab/http/router.hpp"
#include "circuitlab/lab/outcome.hpp"
#include "circuitlab/lab/retry.hpp"

namespace circuitlab::lab {

/// The query parameter that bypasses the breakers of the whole path.
inline constexpr std::string_view bypass_param = "non_circuit_breaker";

/// Reads `non_circuit_breaker`: 1/true/yes/on -> true, 0/false/no/off or absent -> false,
/// anything else -> nullopt (the caller answers 400).
std::optional<bool> parse_bypass(const http::RequestContext& context);

/// What became of one call a hop was asked to make, for metrics and live views.
struct CallRecord {
    enum class Kind {
        permitted,  ///< The breaker let it through; `outcome` says how it counted.
        rejected,   ///< The breaker answered 503 at once.
        bypassed,   ///< `non_circuit_breaker` set: the breaker was neither asked nor told.
    };
    std::string_view breaker;  ///< Name of the breaker guarding the route.
    Kind kind = Kind::permitted;
    breaker::Outcome outcome = breaker::Outcome::ignored;  ///< Permitted and bypassed calls.
    /// `ok`, `shed`, `timeout`, `connect`, `reset`, `protocol`, `cancelled` or
    /// `upstream_status` (an answer in the failure set); `rejected` for rejected calls.
    std::string_view reason;
    std::chrono::nanoseconds elapsed{0};  ///< Time of the upstream call; 0 when rejected.
};

/// Called once per call, on the calling coroutine's thread. Must be thread-safe, fast and
/// must not throw.
using CallRecorder = std::function<void(const CallRecord&)>;

/// Where a proxying hop sends its calls and how it judges them.
struct HopOptions {
    std::string name;  ///< `midline->backline`: the hop as users see it.
    http::Upstream upstream;
    std::chrono::milliseconds timeout{1000};  ///< Deadline of one attempt, at most.
    OutcomePolicy policy;
    RetryPolicy retry;               ///< Retries of connect, reset and timeout failures.
    std::size_t max_concurrent = 0;  ///< Bulkhead: requests in flight at once; 0: no limit.
    /// Kept from the caller's X-Request-Deadline-Ms budget for the answer's way back.
    std::chrono::milliseconds deadline_margin{20};
    std::shared_ptr<spdlog::logger> log;  ///< Attempts and rejections at debug; null: none.
    CallRecorder recorder;                ///< Metrics hook; empty: none.
};

/// Counters of a hop's calls, for tests and metrics. Each only grows.
struct HopCounters {
    std::atomic<std::uint64_t> permitted{0};  ///< Attempts the breaker let through.
    std::atomic<std::uint64_t> rejected{0};   ///< Attempts the breaker rejected.
    std::atomic<std::uint64_t> bypassed{0};   ///< Requests with the bypass flag.
    std::atomic<std::uint64_t> shed{0};       ///< Answers shed by a hop below.
    std::atomic<std::uint64_t> attempts{0};   ///< Calls sent to the next hop, retries included.
    std::atomic<std::uint64_t> retries{0};    ///< Of attempts, those that were retries.
    std::atomic<std::uint64_t> retries_denied{0};     ///< Retries the budget did not allow.
    std::atomic<std::uint64_t> bulkhead_rejected{0};  ///< Requests refused by the bulkhead.
    std::atomic<std::uint64_t> deadline_exceeded{0};  ///< 504s: the caller's budget was spent.
};

/// The guarded call: takes a bulkhead place, then for each attempt asks the breaker, calls
/// the next hop within the time left, records exactly one outcome per attempt, retries
/// connect, reset and timeout failures of GETs within the retry budget, and turns the
/// result into this hop's answer. Thread-safe.
class GuardedCall {
  public:
    GuardedCall(http::Client& client, HopOptions options);

    /// Forwards the request's path (and the bypass flag when set) with its request id and
    /// the time this attempt may take (X-Request-Deadline-Ms). With `bypass` the breaker is
    /// neither asked nor told; the bulkhead, retries and deadline still apply.
    boost::asio::awaitable<http::Response> call(const http::RequestContext& context,
                                                breaker::CircuitBreaker& breaker,
                                                bool bypass);

    const HopOptions& options() const { return options_; }
    const HopCounters& counters() const { return counters_; }

    /// Requests and retries in flight now, and the peak of retries.
    const HopLoad& load() const { return load_; }

  private:
    using Deadline = std::optional<std::chrono::steady_clock::time_point>;

    /// One attempt: the breaker's rejection, or the call's result.
    struct Attempt {
        std::optional<breaker::Rejection> rejection;
        http::CallResult result;
    };

    boost::asio::awaitable<http::Response> attempts(const http::RequestContext& context,
                                                    breaker::CircuitBreaker& breaker,
                                                    bool bypass,
                                                    Deadline deadline);
    boost::asio::awaitable<Attempt> attempt(const http::RequestContext& context,
                                            breaker::CircuitBreaker& breaker,
                                            bool bypass,
                                            std::chrono::milliseconds timeout);
    boost::asio::awaitable<http::CallResult> send(const http::RequestContext& context,
                                                  bool bypass,
                                                  std::chrono::milliseconds timeout);
    boost::asio::awaitable<bool> back_off(unsigned retry, Deadline deadline);
    bool retryable(const http::RequestContext& context,
                   const http::CallResult& result,
                   unsigned retry) const;
    std::optional<std::chrono::milliseconds> time_left(Deadline deadline) const;
    http::Response rejected(const http::RequestContext& context,
                            const breaker::CircuitBreaker& breaker,
                            const breaker::Rejection& rejection);
    void log_attempt(const http::RequestContext& context,
                     const breaker::CircuitBreaker& breaker,
                     const http::CallResult& result,
                     unsigned number) const;
    void record(const breaker::CircuitBreaker& breaker,
                CallRecord::Kind kind,
                const http::CallResult* result) const;

    http::Client& client_;
    HopOptions options_;
    HopCounters counters_;
    HopLoad load_;
};

}  // namespace circuitlab::lab
