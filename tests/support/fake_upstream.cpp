#include "support/fake_upstream.hpp"

#include <array>
#include <sstream>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

namespace circuitlab::testing {

namespace {

namespace beast = boost::beast;
namespace net = boost::asio;

using tcp = net::ip::tcp;

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

Action of_kind(Action::Kind kind) {
    Action action;
    action.kind = kind;
    return action;
}

/// Reads and drops whatever the peer sends until it leaves.
net::awaitable<void> wait_for_peer_to_leave(tcp::socket& socket) {
    std::array<char, 1024> sink{};
    for (;;) {
        auto [ec, bytes] = co_await socket.async_read_some(net::buffer(sink), use_tuple);
        if (ec) {
            co_return;
        }
    }
}

net::awaitable<void> write_raw(tcp::socket& socket, std::string_view bytes) {
    co_await net::async_write(socket, net::buffer(bytes.data(), bytes.size()), use_tuple);
}

/// Writes the wire form of `answer` one byte every `gap`; false once the peer left.
net::awaitable<bool> trickle(tcp::socket& socket,
                             http::Response answer,
                             std::chrono::milliseconds gap) {
    std::ostringstream wire;
    wire << answer;
    const std::string bytes = wire.str();
    net::steady_timer timer(socket.get_executor());
    for (const char byte : bytes) {
        auto [ec, written] = co_await net::async_write(socket, net::buffer(&byte, 1), use_tuple);
        if (ec) {
            co_return false;
        }
        timer.expires_after(gap);
        co_await timer.async_wait(use_tuple);
    }
    co_return false;
}

void close_quietly(tcp::socket& socket) {
    beast::error_code ignored;
    socket.close(ignored);
}

void close_with_reset(tcp::socket& socket) {
    beast::error_code ignored;
    socket.set_option(net::socket_base::linger(true, 0), ignored);
    socket.close(ignored);
}

http::Response make_answer(const Action& action, bool keep_alive) {
    http::Response answer{static_cast<beast::http::status>(action.status), 11};
    answer.set(beast::http::field::content_type, "application/json");
    answer.body() = action.body;
    answer.keep_alive(keep_alive);
    answer.prepare_payload();
    return answer;
}

}  // namespace

Action Action::answer(unsigned status, std::string body) {
    Action action;
    action.status = status;
    action.body = std::move(body);
    return action;
}

Action Action::delayed(std::chrono::milliseconds delay, unsigned status, std::string body) {
    Action action = answer(status, std::move(body));
    action.delay = delay;
    return action;
}

Action Action::answer_then_close(unsigned status, std::string body) {
    Action action = answer(status, std::move(body));
    action.close_after_answer = true;
    return action;
}

Action Action::never_answer() {
    return of_kind(Kind::never_answer);
}

Action Action::close_after_request() {
    return of_kind(Kind::close_after_request);
}

Action Action::reset() {
    return of_kind(Kind::reset);
}

Action Action::garbage() {
    return of_kind(Kind::garbage);
}

Action Action::close_mid_body() {
    return of_kind(Kind::close_mid_body);
}

Action Action::stall_body() {
    return of_kind(Kind::stall_body);
}

Action Action::trickle(std::chrono::milliseconds delay) {
    Action action = of_kind(Kind::trickle);
    action.delay = delay;
    action.body = R"([{"date":"04/12/2026","temperatureC":21,"summary":"Mild"}])";
    return action;
}

FakeUpstream::FakeUpstream() : FakeUpstream(0) {}

FakeUpstream::FakeUpstream(unsigned short port)
    : acceptor_(io_, tcp::endpoint(net::ip::make_address("127.0.0.1"), port)),
      port_(acceptor_.local_endpoint().port()) {
    net::co_spawn(io_, accept_loop(), net::detached);
    thread_ = std::thread([this] { io_.run(); });
}

FakeUpstream::~FakeUpstream() {
    io_.stop();
    thread_.join();
}

http::Upstream FakeUpstream::upstream() const {
    http::Upstream upstream;
    upstream.host = "127.0.0.1";
    upstream.port = std::to_string(port_);
    return upstream;
}

void FakeUpstream::script(std::vector<Action> actions) {
    std::lock_guard lock(mutex_);
    for (auto& action : actions) {
        script_.push_back(std::move(action));
    }
}

void FakeUpstream::set_fallback(Action action) {
    std::lock_guard lock(mutex_);
    fallback_ = std::move(action);
}

bool FakeUpstream::wait_for_requests(std::size_t count, std::chrono::milliseconds bound) {
    std::unique_lock lock(mutex_);
    return requests_changed_.wait_for(lock, bound, [&] { return requests_.load() >= count; });
}

std::optional<http::Request> FakeUpstream::last_request() const {
    std::lock_guard lock(mutex_);
    return last_request_;
}

net::awaitable<void> FakeUpstream::accept_loop() {
    for (;;) {
        auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
        if (ec) {
            co_return;
        }
        ++connections_;
        net::co_spawn(io_, serve(std::move(socket)), net::detached);
    }
}

net::awaitable<void> FakeUpstream::serve(tcp::socket socket) {
    beast::flat_buffer buffer;
    for (;;) {
        http::Request request;
        auto [ec, bytes] = co_await beast::http::async_read(socket, buffer, request, use_tuple);
        if (ec) {
            co_return;
        }

        const Action action = next_action(request);
        if (!co_await perform(socket, action, request.keep_alive())) {
            co_return;
        }
    }
}

Action FakeUpstream::next_action(const http::Request& request) {
    std::lock_guard lock(mutex_);
    last_request_ = request;
    ++requests_;
    requests_changed_.notify_all();
    if (script_.empty()) {
        return fallback_;
    }

    Action action = std::move(script_.front());
    script_.pop_front();
    return action;
}

net::awaitable<bool> FakeUpstream::perform(tcp::socket& socket,
                                           const Action& action,
                                           bool request_keep_alive) {
    switch (action.kind) {
        case Action::Kind::answer:
            break;
        case Action::Kind::never_answer:
            co_await wait_for_peer_to_leave(socket);
            co_return false;
        case Action::Kind::close_after_request:
            close_quietly(socket);
            co_return false;
        case Action::Kind::reset:
            close_with_reset(socket);
            co_return false;
        case Action::Kind::garbage:
            co_await write_raw(socket, "this is not HTTP at all\r\n\r\n");
            close_quietly(socket);
            co_return false;
        case Action::Kind::close_mid_body:
            co_await write_raw(socket, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
            close_quietly(socket);
            co_return false;
        case Action::Kind::stall_body:
            co_await write_raw(socket, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
            co_await wait_for_peer_to_leave(socket);
            co_return false;
        case Action::Kind::trickle:
            co_return co_await trickle(socket, make_answer(action, false), action.delay);
    }

    if (action.delay.count() > 0) {
        net::steady_timer timer(socket.get_executor(), action.delay);
        co_await timer.async_wait(use_tuple);
    }
    const bool keep_alive = action.keep_alive && request_keep_alive;
    http::Response answer = make_answer(action, keep_alive);
    auto [ec, bytes] = co_await beast::http::async_write(socket, answer, use_tuple);
    co_return !ec && keep_alive && !action.close_after_answer;
}

unsigned short refused_port() {
    net::io_context io;
    tcp::acceptor acceptor(io, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    const unsigned short port = acceptor.local_endpoint().port();
    acceptor.close();
    return port;
}

}  // namespace circuitlab::testing
