#pragma once

// Internal to circuitlab_http: bounding one asynchronous step by a timer of the calling
// coroutine.

#include <tuple>
#include <utility>
#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
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

}  // namespace circuitlab::http::detail
