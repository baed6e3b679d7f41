#pragma once

// Internal to circuitlab_http: the state a Server shares with its sessions.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "circuitlab/http/server.hpp"

namespace circuitlab::http {

class Session;

/// Listener, session registry and shutdown bookkeeping. Owned jointly by the Server and by
/// every coroutine that runs on its behalf, so it outlives both.
struct Server::Impl : std::enable_shared_from_this<Server::Impl> {
    Impl(boost::asio::io_context& io, const Router& router, ServerOptions options);

    /// Accepts until the listener closes; runs on `strand`.
    boost::asio::awaitable<void> accept_loop();

    /// Starts a graceful shutdown; runs on `strand`.
    void begin_shutdown(std::chrono::milliseconds grace, std::function<void()> done);

    /// Closes the listener and every connection at once (the Server is going away).
    void abort();

    /// Called by a session, on its own strand, when its connection is gone.
    void session_ended(Session* session);

    boost::asio::io_context& io;
    const Router& router;
    const ServerOptions options;
    boost::asio::strand<boost::asio::io_context::executor_type> strand;
    boost::asio::ip::tcp::acceptor acceptor;
    boost::asio::ip::tcp::endpoint bound;  ///< Set by listen, read-only afterwards.
    std::atomic<std::size_t> active_requests{0};
    std::atomic<std::size_t> open_connections{0};

  private:
    void admit(boost::asio::ip::tcp::socket socket);
    void for_each_session(void (Session::*action)());
    void maybe_finish();
    void finish();

    // Touched on `strand` only.
    boost::asio::steady_timer grace_timer_;
    std::vector<std::function<void()>> done_;
    bool finished_ = false;

    std::atomic<bool> stopping_{false};
    std::atomic<bool> finishing_{false};

    // Guards the registry only; sessions are told what to do by posting to their strands.
    std::mutex sessions_mutex_;
    std::unordered_map<Session*, std::weak_ptr<Session>> sessions_;
};

}  // namespace circuitlab::http
