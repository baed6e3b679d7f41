#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <spdlog/logger.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "circuitlab/http/router.hpp"

namespace circuitlab::http {

/// One answered request, for metrics: reported once the answer is written (or failed).
struct AnswerRecord {
    std::string_view method;  ///< `GET`; `-` when the request could not be read.
    std::string_view route;   ///< The matched route pattern; empty when none matched.
    int status = 0;
    std::chrono::nanoseconds elapsed{0};  ///< From the whole request read to the answer written.
};

/// Called for every answer, on the connection's strand. Must be thread-safe and not throw.
using AnswerObserver = std::function<void(const AnswerRecord&)>;

/// Limits and timeouts of the server. Every value is checked by the config loader.
struct ServerOptions {
    std::size_t header_limit = 16 * 1024;  ///< Bytes of request line + headers (431 past).
    std::size_t body_limit = 64 * 1024;    ///< Bytes of request body (413 past).
    std::chrono::milliseconds header_timeout{10'000};  ///< To read one request's headers.
    std::chrono::milliseconds idle_timeout{60'000};    ///< Keep-alive idle time.
    std::size_t max_connections = 10'000;    ///< Open connections; new ones closed past it.
    std::string server_name = "circuitlab";  ///< `Server` header of every answer.
    std::shared_ptr<spdlog::logger> log;     ///< Logger for access lines; null: none.
    AnswerObserver on_answer;                ///< Metrics hook; empty: none.
};

/// Asynchronous HTTP/1.1 server: accepts on one endpoint, reads requests with limits and
/// timeouts, routes them through a Router and writes the answers; keep-alive and pipelining.
///
/// Every answer carries `X-Request-ID`: the request's own when it is 1..128 printable ASCII
/// characters, else a freshly made one. Access lines are logged at debug.
///
/// Thread-safety: start/stop may be called from any thread; the io_context may be run by
/// several threads (each connection runs on its own strand).
class Server {
  public:
    /// A server answering with `router`, which must outlive every connection.
    Server(boost::asio::io_context& io, const Router& router, ServerOptions options);

    /// Closes the listener and every connection at once (on the io threads).
    ~Server();

    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    /// Binds and listens. Throws std::system_error naming the endpoint on failure.
    void listen(const boost::asio::ip::tcp::endpoint& endpoint);

    /// The bound endpoint (with the real port when bound to port 0).
    boost::asio::ip::tcp::endpoint local_endpoint() const;

    /// Starts accepting connections.
    void start();

    /// Graceful stop: closes the listener, lets requests in flight finish and closes idle
    /// connections; after `grace` remaining connections are closed. `done` runs once all
    /// connections are gone (on an io thread).
    void shutdown(std::chrono::milliseconds grace, std::function<void()> done);

    /// Requests being handled now.
    std::size_t active_requests() const;

    /// Connections open now.
    std::size_t open_connections() const;

    struct Impl;

  private:
    std::shared_ptr<Impl> impl_;
};

/// Makes a new request id (random, 16 hex digits). Thread-safe.
std::string make_request_id();

/// Returns the id unchanged when it is 1..128 printable ASCII characters without spaces,
/// else an empty string.
std::string sanitize_request_id(std::string_view id);

}  // namespace circuitlab::http
