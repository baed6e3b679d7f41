// circuitlab: one binary, three roles. Reads the config, builds the role, serves until
// SIGTERM or SIGINT, then drains and exits 0.

#include <csignal>
#include <cstdio>
#include <exception>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_future.hpp>

#include "circuitlab/breaker/clock.hpp"
#include "circuitlab/http/server.hpp"
#include "circuitlab/lab/breaker_poller.hpp"
#include "circuitlab/ops/config.hpp"
#include "circuitlab/ops/logging.hpp"
#include "replay_command.hpp"
#include "roles.hpp"

namespace {

namespace net = boost::asio;
using namespace circuitlab;

constexpr int exit_bad_config = 2;
constexpr int exit_cannot_serve = 1;

std::string join(const std::vector<std::string>& parts) {
    std::string text;
    for (const auto& part : parts) {
        text += (text.empty() ? "" : " ") + part;
    }
    return text;
}

/// `circuitlab healthcheck [--url URL]`: exit 0 when the URL answers 200 within 2 s.
int healthcheck(const std::vector<std::string>& args) {
    std::string url = "http://127.0.0.1:8000/healthz";
    if (args.size() == 3 && args[1] == "--url") {
        url = args[2];
    } else if (args.size() != 1) {
        std::fprintf(stderr, "usage: circuitlab healthcheck [--url URL]\n");
        return exit_bad_config;
    }
    auto upstream = http::parse_upstream_url(url);
    if (!upstream) {
        std::fprintf(stderr, "circuitlab healthcheck: bad URL \"%s\"\n", url.c_str());
        return exit_bad_config;
    }

    net::io_context io;
    http::Client client(io.get_executor(), {});
    auto result =
        net::co_spawn(io, client.get(*upstream, "", {}, std::chrono::seconds(2)), net::use_future);
    io.run();
    const http::CallResult call = result.get();
    if (call.error != http::CallError::none) {
        std::fprintf(stderr, "unhealthy: %s\n", call.detail.c_str());
        return 1;
    }
    const auto status = static_cast<int>(call.response->result_int());
    std::printf("%d %s\n", status, call.response->body().c_str());
    return status == 200 ? 0 : 1;
}

http::ServerOptions server_options(const ops::Config& config, ops::ServerMetrics& metrics) {
    http::ServerOptions options;
    options.header_limit = config.header_limit;
    options.body_limit = config.body_limit;
    options.header_timeout = config.header_timeout;
    options.idle_timeout = config.idle_timeout;
    options.max_connections = config.max_connections;
    options.log = ops::logger("http");
    options.on_answer = [&metrics](const http::AnswerRecord& record) { metrics.on_answer(record); };
    return options;
}

int serve(const ops::Config& config) {
    ops::setup_logging(
        std::string(ops::to_string(config.role)), config.log_level, config.log_format);
    auto log = ops::logger("ops");
    log->info("settings: {}", join(ops::describe(config)));

    breaker::SteadyClock clock;
    net::io_context io(static_cast<int>(config.threads));
    auto role = app::build_role(config, io, clock);

    // Deadlines that must move with no traffic need a timer; without them state is lazy.
    lab::BreakerPoller poller(io.get_executor(), role->breakers, clock);
    if (config.breaker.auto_half_open || config.breaker.inflight_trip) {
        poller.start();
    }

    http::Server server(io, role->router, server_options(config, role->metrics));
    role->open_connections = [&server] { return server.open_connections(); };
    const std::string listen = config.listen_host + ":" + std::to_string(config.listen_port);
    try {
        server.listen({net::ip::make_address(config.listen_host), config.listen_port});
    } catch (const std::system_error& error) {
        log->error("cannot listen on {}: {}", listen, error.what());
        return exit_cannot_serve;
    }
    server.start();
    net::co_spawn(io, ops::publish_outcomes(role->events, role->board), net::detached);
    role->ready = true;
    log->info(
        "{} listening on {} with {} threads", ops::to_string(config.role), listen, config.threads);

    net::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int signal) {
        if (ec) {
            return;
        }
        log->info("signal {}: draining for up to {} ms", signal, config.shutdown_grace.count());
        role->ready = false;
        role->events.close();  // Event streams would otherwise hold their connections.
        poller.stop();
        server.shutdown(config.shutdown_grace, [&] {
            if (role->client) {
                role->client->close();
            }
            log->info("stopped");
            io.stop();
        });
    });

    std::vector<std::thread> threads;
    for (unsigned i = 1; i < config.threads; ++i) {
        threads.emplace_back([&io] { io.run(); });
    }
    io.run();
    for (auto& thread : threads) {
        thread.join();
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (!args.empty() && args[0] == "healthcheck") {
        return healthcheck(args);
    }
    if (!args.empty() && args[0] == "replay") {
        return app::replay_command(args);
    }

    ops::Invocation invocation;
    try {
        invocation = ops::load_config(args, ops::process_env());
    } catch (const ops::ConfigError& error) {
        std::fprintf(stderr, "circuitlab: %s\n", error.what());
        return exit_bad_config;
    }
    if (invocation.action == ops::Invocation::Action::help) {
        std::fputs(ops::help_text().c_str(), stdout);
        return 0;
    }
    if (invocation.action == ops::Invocation::Action::version) {
        std::puts("circuitlab 0.1.0");
        return 0;
    }

    try {
        return serve(invocation.config);
    } catch (const std::exception& error) {
        std::fprintf(stderr, "circuitlab: %s\n", error.what());
        return exit_cannot_serve;
    }
}
