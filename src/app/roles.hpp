#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "circuitlab/breaker/circuit_breaker.hpp"
#include "circuitlab/http/client.hpp"
#include "circuitlab/http/router.hpp"
#include "circuitlab/lab/backline_scenarios.hpp"
#include "circuitlab/lab/guarded_call.hpp"
#include "circuitlab/ops/config.hpp"

namespace circuitlab::app {

/// Everything one role serves, alive for the whole run.
struct RoleParts {
    http::Router router;
    std::unique_ptr<http::Client> client;     ///< Proxying roles only.
    std::unique_ptr<lab::GuardedCall> hop;    ///< Proxying roles only.
    std::unique_ptr<lab::Backline> backline;  ///< Backline only.
    std::vector<std::shared_ptr<breaker::CircuitBreaker>> breakers;
    std::string openapi;             ///< Filled once the router is complete.
    std::atomic<bool> ready{false};  ///< False until listening and when draining.
};

/// Builds the routes, client, breakers and scenarios of the configured role.
std::unique_ptr<RoleParts> build_role(const ops::Config& config,
                                      boost::asio::io_context& io,
                                      const breaker::Clock& clock);

}  // namespace circuitlab::app
