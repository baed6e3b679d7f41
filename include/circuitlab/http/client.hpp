#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "circuitlab/http/router.hpp"

namespace circuitlab::http {

/// Where an upstream lives, parsed from a base URL such as `http://midline:8000`.
struct Upstream {
    std::string host;
    std::string port = "80";
    std::string base_path;  ///< Prefix added to every target; empty or starting with '/'.

    /// `host:port`, the key of the connection pool and the Host header.
    std::string authority() const;
};

/// Parses `http://host[:port][/base]`. Returns nullopt with `error` set when the URL is not
/// plain http, has no host, a bad port, user info, a query, a fragment or control characters.
std::optional<Upstream> parse_upstream_url(std::string_view url, std::string* error = nullptr);

/// Why a call did not produce an answer.
enum class CallError {
    none,       ///< An answer was read (any status).
    timeout,    ///< The deadline passed (connect, write or read).
    connect,    ///< Resolve or connect failed (refused, unreachable, no such host).
    reset,      ///< The connection closed or reset before a whole answer arrived.
    protocol,   ///< The answer was not valid HTTP or broke a limit.
    cancelled,  ///< The call was cancelled (shutdown).
};

/// The reason name of an error (`timeout`, `connect`, ...), as used in 502 answers.
std::string_view to_string(CallError error);

/// Options of the client; one pool per upstream authority.
struct ClientOptions {
    std::chrono::milliseconds connect_timeout{500};
    std::size_t max_connections = 64;  ///< Open connections per upstream (busy + idle).
    std::size_t max_idle = 64;         ///< Idle connections kept per upstream.
    std::chrono::milliseconds idle_timeout{30'000};  ///< An idle connection older is closed.
    std::size_t answer_limit = 1024 * 1024;          ///< Bytes of answer headers + body.
};

/// Outcome of one call.
struct CallResult {
    CallError error = CallError::none;
    std::string detail;                ///< Human-readable cause when error != none.
    std::optional<Response> response;  ///< Set when error == none.
    std::chrono::nanoseconds elapsed{0};
    bool reused_connection = false;
};

/// Counters of the client, for tests and metrics.
struct ClientStats {
    std::uint64_t connections_opened = 0;
    std::uint64_t connections_reused = 0;
    std::uint64_t calls = 0;
};

/// Asynchronous HTTP/1.1 client with a keep-alive connection pool per upstream.
///
/// A call takes one total deadline that covers waiting for a pooled connection, connecting,
/// writing and reading; the connect step is also bounded by `connect_timeout`. A connection
/// goes back to the pool only after a whole answer was read and both sides allow keep-alive.
/// When a reused connection turns out to be closed by the peer before any byte of the answer,
/// the call is retried once on a fresh connection (idempotent GET only).
///
/// Thread-safety: one client may be shared by coroutines on any strands of one io_context.
class Client {
  public:
    /// A client whose sockets use `executor` (the io_context's, not a strand: each call runs
    /// on the executor of the coroutine that makes it).
    Client(boost::asio::any_io_executor executor, ClientOptions options);

    /// Calls close(); calls still running finish on their own.
    ~Client();

    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    /// Sends `GET base_path + target` with the given extra headers and waits for the answer
    /// or the deadline. Never throws for network reasons. `upstream` must stay alive until
    /// the call completes; an empty base_path + target is sent as `/`.
    boost::asio::awaitable<CallResult> get(const Upstream& upstream,
                                           std::string target,
                                           std::vector<std::pair<std::string, std::string>> headers,
                                           std::chrono::milliseconds timeout);

    /// Like get, with any method and a body (sent with its Content-Length; the caller sets
    /// Content-Type in `headers`). A dead kept-alive connection is retried only for GET, HEAD
    /// and PUT, which are safe to send twice.
    boost::asio::awaitable<CallResult> send(
        Verb method,
        const Upstream& upstream,
        std::string target,
        std::vector<std::pair<std::string, std::string>> headers,
        std::string body,
        std::chrono::milliseconds timeout);

    /// Counters since construction. Thread-safe.
    ClientStats stats() const;

    /// Closes every idle connection and fails calls waiting for a connection.
    void close();

    struct Impl;

  private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace circuitlab::http
