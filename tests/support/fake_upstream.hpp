#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "circuitlab/http/client.hpp"
#include "circuitlab/http/router.hpp"

namespace circuitlab::testing {

/// What the fake upstream does with one request it has read.
struct Action {
    enum class Kind {
        answer,               ///< Answer `status` + `body` after `delay`.
        never_answer,         ///< Keep the connection open and silent until the peer leaves.
        close_after_request,  ///< Close without a byte of answer.
        reset,                ///< Close with SO_LINGER 0: the peer sees a reset.
        garbage,              ///< Answer bytes that are not HTTP, then close.
        close_mid_body,       ///< Answer headers and part of the body, then close.
        stall_body,           ///< Answer headers and part of the body, then stay silent.
        trickle,              ///< Answer `status` + `body` one byte every `delay`.
    };

    Kind kind = Kind::answer;
    unsigned status = 200;
    std::string body = R"({"ok":true})";
    std::chrono::milliseconds delay{0};
    bool close_after_answer = false;  ///< Close right after answering, keep-alive or not.
    bool keep_alive = true;           ///< Whether the answer allows keep-alive.

    /// Answers at once, keeping the connection alive.
    static Action answer(unsigned status, std::string body);

    /// Answers after `delay` (an Asio timer on the upstream's thread).
    static Action delayed(std::chrono::milliseconds delay, unsigned status, std::string body);

    /// Answers with keep-alive allowed, then closes: an upstream whose idle timeout hit.
    static Action answer_then_close(unsigned status, std::string body);

    static Action never_answer();
    static Action close_after_request();
    static Action reset();
    static Action garbage();
    static Action close_mid_body();
    static Action stall_body();

    /// Writes the whole answer one byte at a time, `delay` between bytes.
    static Action trickle(std::chrono::milliseconds delay);
};

/// A scriptable HTTP upstream on 127.0.0.1 (port 0) with its own io_context and thread.
///
/// Requests are numbered in the order they are read, across connections; each takes the
/// next scripted action, or the fallback once the script is used up. Thread-safe.
class FakeUpstream {
  public:
    FakeUpstream();

    /// Listens on 127.0.0.1:`port` instead (standing in for a real hop); throws when taken.
    explicit FakeUpstream(unsigned short port);

    ~FakeUpstream();

    FakeUpstream(const FakeUpstream&) = delete;
    FakeUpstream& operator=(const FakeUpstream&) = delete;

    /// The bound port.
    unsigned short port() const { return port_; }

    /// This upstream as a Client target.
    http::Upstream upstream() const;

    /// Queues actions for the next requests, in arrival order.
    void script(std::vector<Action> actions);

    /// The action once the script is used up (default: answer 200).
    void set_fallback(Action action);

    /// Connections accepted so far.
    std::size_t connections_accepted() const { return connections_.load(); }

    /// Requests read so far.
    std::size_t requests_served() const { return requests_.load(); }

    /// Waits until at least `count` requests were read; false when `bound` passed first.
    bool wait_for_requests(std::size_t count, std::chrono::milliseconds bound);

    /// The last request read, if any.
    std::optional<http::Request> last_request() const;

  private:
    boost::asio::awaitable<void> accept_loop();
    boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket);
    boost::asio::awaitable<bool> perform(boost::asio::ip::tcp::socket& socket,
                                         const Action& action,
                                         bool request_keep_alive);
    Action next_action(const http::Request& request);

    boost::asio::io_context io_;
    boost::asio::ip::tcp::acceptor acceptor_;
    unsigned short port_ = 0;
    std::atomic<std::size_t> connections_{0};
    std::atomic<std::size_t> requests_{0};

    mutable std::mutex mutex_;
    std::condition_variable requests_changed_;
    std::deque<Action> script_;
    Action fallback_;
    std::optional<http::Request> last_request_;

    std::thread thread_;
};

/// A port on 127.0.0.1 where nothing listens: bound once to port 0, then closed.
unsigned short refused_port();

}  // namespace circuitlab::testing
