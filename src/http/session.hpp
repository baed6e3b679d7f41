#pragma once

// Internal to circuitlab_http: one accepted connection of a Server.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "circuitlab/http/router.hpp"
#include "server_impl.hpp"

namespace circuitlab::http {

/// What reading one request produced: a request, an error answer to send before closing
/// (400, 413, 431), or neither (the peer left or timed out: close quietly).
struct ReadResult {
    std::optional<Request> request;
    std::optional<Response> error_answer;
    std::string request_id;
};

/// One connection: reads requests one at a time, answers each in order, and ends when the
/// peer or the server says so. Its coroutine runs on the strand of its socket; `stop` and
/// `force_close` may be called from any thread.
class Session : public std::enable_shared_from_this<Session> {
  public:
    Session(std::shared_ptr<Server::Impl> server, boost::asio::ip::tcp::socket socket);

    /// Serves the connection until it closes. Never throws.
    boost::asio::awaitable<void> run();

    /// Graceful stop: an idle connection closes now, a busy one after its answer.
    void stop();

    /// Closes the connection now and cancels a handler in flight.
    void force_close();

    /// The strand of this connection.
    boost::asio::any_io_executor executor() { return stream_.get_executor(); }

    /// Slot cancelled by force_close; bound to the coroutine when it is spawned.
    boost::asio::cancellation_slot cancellation_slot() { return cancel_.slot(); }

  private:
    using TimePoint = std::chrono::steady_clock::time_point;

    boost::asio::awaitable<void> serve();
    boost::asio::awaitable<bool> wait_for_request();
    boost::asio::awaitable<ReadResult> read_request();
    ReadResult failed_read(boost::beast::error_code ec, std::string id);
    boost::asio::awaitable<bool> answer(Request& request);
    boost::asio::awaitable<void> answer_error(Response& answer, const std::string& id);
    boost::asio::awaitable<Response> respond(const Request& request, const std::string& id);
    boost::asio::awaitable<Response> call_handler(const Route& route, RequestContext& context);
    boost::asio::awaitable<void> stream_body(const Route& route,
                                             RequestContext& context,
                                             Response& head,
                                             const std::string& id);
    void report(std::string_view method, const Response& answer, TimePoint start);
    void finish_answer(Response& answer, unsigned version, bool keep_alive, const std::string& id);
    boost::asio::awaitable<bool> write(Response& answer);
    void close_stream();
    void log_access(std::string_view method,
                    std::string_view target,
                    const Response& answer,
                    TimePoint start,
                    const std::string& id);
    void log_failure(const RequestContext& context, const std::string& failure);
    void note_error(const char* step, boost::beast::error_code ec);

    std::shared_ptr<Server::Impl> server_;
    boost::beast::tcp_stream stream_;
    boost::beast::flat_buffer buffer_;
    boost::asio::cancellation_signal cancel_;
    bool first_request_ = true;
    bool busy_ = false;
    bool stopping_ = false;
    bool forced_ = false;
    const Route* route_ = nullptr;  ///< Route of the request being answered, if any.
    bool streamed_ = false;         ///< The answer was streamed: it is already sent.
};

}  // namespace circuitlab::http
