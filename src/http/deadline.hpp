#pragma once

// Internal to circuitlab_http: bounding one asynchronous step by a timer of the calling
// coroutine.

#include <memory>
#include <tuple>
#include <utility>
#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>

namespace circuitlab::http::detail {

/// Completion token of every step: errors come back as values, never as exceptions.
inline constexpr auto use_tuple = boost::asio::as_tuple(boost::asio::use_awaitable);

/// Runs `step` until it completes or `timer` expires, whichever comes first. The loser is
/// cancelled and awaited, so nothing of the step outlives this call.
///
/// The timer belongs to the calling coroutine's executor. Unlike beast::tcp_stream's own
/// timeouts it can never fire on the strand of a coroutine that used a pooled socket
/// before. When the timer wins the error is beast::error::timeout, or operation_aborted
/// when the caller itself was cancelled.
template <typename... Values>
boost::asio::awaitable<std::tuple<boost::system::error_code, Values...>> race(
    boost::asio::awaitable<std::tuple<boost::system::error_code, Values...>> step,
    boost::asio::steady_timer& timer) {
    using namespace boost::asio::experimental::awaitable_operators;
    auto winner = co_await (std::move(step) || timer.async_wait(use_tuple));
    if (winner.index() == 0) {
        co_return std::get<0>(std::move(winner));
    }

    const auto [timer_error] = std::get<1>(winner);
    std::tuple<boost::system::error_code, Values...> lost{};
    std::get<0>(lost) = timer_error
                            ? boost::system::error_code(boost::asio::error::operation_aborted)
                            : boost::system::error_code(boost::beast::error::timeout);
    co_return lost;
}

/// What the timer of `on_socket` and its caller share: whether the step has come back (the
/// timer must then leave the socket alone) and whether the timer cut it short.
struct SocketDeadline {
    bool step_done = false;
    bool expired = false;
};

/// Runs the socket operation `start(token)` until it completes or `timer` expires; on expiry
/// the socket's operations are cancelled and the error becomes beast::error::timeout.
///
/// The hot-path sibling of race(): one timer wait instead of two child coroutines. The timer
/// and the calling coroutine share one executor (a strand), so the timer's handler and the
/// coroutine never run at once, and once the step is back the handler does not touch the
/// socket, which may by then be in another call's hands. The caller's own cancellation still
/// reaches the operation, which then fails with operation_aborted.
template <typename... Values, typename Start>
boost::asio::awaitable<std::tuple<boost::system::error_code, Values...>> on_socket(
    boost::asio::ip::tcp::socket& socket, boost::asio::steady_timer& timer, Start start) {
    auto shared = std::make_shared<SocketDeadline>();
    timer.async_wait([shared, &socket](const boost::system::error_code& ec) {
        if (!ec && !shared->step_done) {
            shared->expired = true;
            boost::system::error_code ignored;
            socket.cancel(ignored);
        }
    });

    auto result = co_await start(use_tuple);
    shared->step_done = true;
    timer.cancel();
    if (shared->expired && std::get<0>(result)) {
        std::get<0>(result) = boost::beast::error::timeout;
    }
    co_return result;
}

}  // namespace circuitlab::http::detail
