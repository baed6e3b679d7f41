#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "circuitlab/breaker/circuit_breaker.hpp"
#include "circuitlab/http/client.hpp"
#include "circuitlab/http/router.hpp"
#include "circuitlab/lab/backline_scenarios.hpp"
#include "circuitlab/lab/guarded_call.hpp"
#include "circuitlab/ops/assets.hpp"
#include "circuitlab/ops/breaker_board.hpp"
#include "circuitlab/ops/config.hpp"
#include "circuitlab/ops/events.hpp"
#include "circuitlab/ops/metrics.hpp"

namespace circuitlab::app {

/// Everything one role serves, alive for the whole run.
struct RoleParts {
    /// `clock` is the breakers' clock; it must outlive the parts.
    explicit RoleParts(const breaker::Clock& clock) : board(clock) {}

    http::Router router;
    std::unique_ptr<http::Client> client;     ///< Proxying roles only.
    std::unique_ptr<lab::GuardedCall> hop;    ///< Proxying roles only.
    std::unique_ptr<lab::Backline> backline;  ///< Backline only.
    std::vector<std::shared_ptr<breaker::CircuitBreaker>> breakers;
    std::string openapi;             ///< Filled once the router is complete.
    std::atomic<bool> ready{false};  ///< False until listening and when draining.

    ops::Role role = ops::Role::backline;
    std::string admin_token;                        ///< Empty: admin routes answer 403.
    std::optional<http::Upstream> next;             ///< The next hop; proxying roles only.
    std::chrono::milliseconds chain_timeout{2000};  ///< For the /api/chain/ calls down.
    ops::BreakerBoard board;                        ///< Breakers, transitions, call counts.
    ops::ServerMetrics metrics;                     ///< Answers by route, process basics.
    ops::EventHub events;                           ///< Clients of /api/events.
    std::function<std::size_t()> open_connections;  ///< Set by main once the server exists.
};

/// Builds the routes, client, breakers and scenarios of the configured role.
std::unique_ptr<RoleParts> build_role(const ops::Config& config,
                                      boost::asio::io_context& io,
                                      const breaker::Clock& clock);

/// Adds the routes every role has for watching and steering it: /metrics, /api/breakers,
/// /api/events, the admin routes, the /api/chain/ aggregation and, on frontier, the
/// dashboard. Defined in observe_routes.cpp.
void add_observe_routes(RoleParts& parts);

/// 200 with an embedded asset and the given Cache-Control, or 404 JSON when it is null.
http::Response asset_answer(const http::RequestContext& context,
                            const ops::Asset* asset,
                            std::string_view cache_control);

}  // namespace circuitlab::app
