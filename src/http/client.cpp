#include "circuitlab/http/client.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <limits>
#include <utility>

#include <spdlog/fmt/fmt.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/system/system_error.hpp>

#include "connection_pool.hpp"
#include "deadline.hpp"
#include "wire.hpp"

namespace circuitlab::http {

namespace {

namespace beast = boost::beast;
namespace net = boost::asio;

using tcp = net::ip::tcp;
using detail::on_socket;
using detail::race;
using detail::use_tuple;

/// The step that failed and how; `answer_started` when some answer bytes had arrived.
struct Failure {
    const char* step = "";
    beast::error_code ec;
    bool answer_started = false;
};

/// What one request/answer exchange on a connection gave.
struct Exchange {
    Failure failure;
    std::optional<Response> response;
    bool reusable = false;
};

bool is_reset(beast::error_code ec) {
    return ec == beast::http::error::end_of_stream || ec == beast::http::error::partial_message ||
           ec == net::error::eof || ec == net::error::connection_reset ||
           ec == net::error::connection_aborted || ec == net::error::broken_pipe ||
           ec == net::error::not_connected;
}

bool is_http_error(beast::error_code ec) {
    return ec.category() == beast::http::make_error_code(beast::http::error::bad_target).category();
}

CallError classify(const Failure& failure) {
    const std::string_view step = failure.step;
    if (failure.ec == beast::error::timeout) {
        return CallError::timeout;
    }
    if (failure.ec == net::error::operation_aborted) {
        return CallError::cancelled;
    }
    if (step == "resolve" || step == "connect") {
        return CallError::connect;
    }
    return is_http_error(failure.ec) && !is_reset(failure.ec) ? CallError::protocol
                                                              : CallError::reset;
}

CallResult failed(CallError error, std::string detail) {
    CallResult result;
    result.error = error;
    result.detail = std::move(detail);
    return result;
}

CallResult failed(const Failure& failure) {
    const CallError error = classify(failure);
    if (error == CallError::timeout) {
        return failed(error, fmt::format("{}: timed out", failure.step));
    }
    return failed(error, fmt::format("{}: {}", failure.step, failure.ec.message()));
}

Request make_request(Verb method,
                     const Upstream& upstream,
                     const std::string& target,
                     const std::vector<std::pair<std::string, std::string>>& headers,
                     std::string body) {
    std::string path = upstream.base_path + target;
    Request request{method, path.empty() ? "/" : path, 11};
    request.set(beast::http::field::host, upstream.authority());
    request.set(beast::http::field::connection, "keep-alive");
    for (const auto& [name, value] : headers) {
        request.set(name, value);
    }
    if (!body.empty() || method == Verb::put || method == Verb::post) {
        request.body() = std::move(body);
        request.prepare_payload();
    }
    return request;
}

/// Whether sending the request twice does no more harm than sending it once.
bool is_idempotent(Verb method) {
    return method == Verb::get || method == Verb::head || method == Verb::put;
}

std::optional<Upstream> reject(std::string* error, std::string_view why) {
    if (error != nullptr) {
        *error = why;
    }
    return std::nullopt;
}

bool has_control_or_space(std::string_view text) {
    return std::any_of(text.begin(), text.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte <= 0x20 || byte == 0x7f;
    });
}

bool starts_with_http(std::string_view url) {
    constexpr std::string_view scheme = "http://";
    if (url.size() < scheme.size()) {
        return false;
    }
    return std::equal(scheme.begin(), scheme.end(), url.begin(), [](char a, char b) {
        return a == std::tolower(static_cast<unsigned char>(b));
    });
}

bool valid_port(std::string_view port) {
    const auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
    if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), is_digit)) {
        return false;
    }
    const int value = std::stoi(std::string(port));
    return value >= 1 && value <= 65535;
}

/// Splits `host[:port]` or `[v6]:port` into the upstream; returns an error or nullptr.
const char* parse_authority(std::string_view authority, Upstream& upstream) {
    std::string_view host = authority;
    std::string_view port;
    if (authority.substr(0, 1) == "[") {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) {
            return "unterminated IPv6 address";
        }
        host = authority.substr(1, close - 1);
        port = authority.substr(close + 1);
        if (!port.empty() && port.front() != ':') {
            return "bad port";
        }
        port = port.substr(std::min<std::size_t>(port.size(), 1));
    } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
        host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
        if (port.empty()) {
            return "bad port";
        }
    }

    if (host.empty()) {
        return "no host";
    }
    if (!port.empty() && !valid_port(port)) {
        return "bad port";
    }
    upstream.host = std::string(host);
    upstream.port = port.empty() ? "80" : std::string(port);
    return nullptr;
}

}  // namespace

/// Shared state of a Client; calls keep it alive until they finish.
struct Client::Impl {
    Impl(net::any_io_executor io_executor, ClientOptions client_options)
        : executor(std::move(io_executor)),
          options(client_options),
          pool(std::make_shared<ConnectionPool>(client_options)) {}

    net::any_io_executor executor;
    const ClientOptions options;
    std::shared_ptr<ConnectionPool> pool;
    std::atomic<std::uint64_t> connections_opened{0};
    std::atomic<std::uint64_t> calls{0};
};

namespace {

/// One call: checkout, connect when needed, exchange, and at most one retry on a fresh
/// connection when a reused one turns out dead before any byte of the answer.
class Call {
  public:
    Call(std::shared_ptr<Client::Impl> impl,
         const Upstream& upstream,
         const Request& request,
         std::chrono::milliseconds timeout,
         const net::any_io_executor& executor)
        : impl_(std::move(impl)),
          upstream_(upstream),
          idempotent_(is_idempotent(request.method())),
          wire_(to_wire(request)),
          start_(SteadyClock::now()),
          deadline_(start_ + timeout),
          timer_(executor) {}

    net::awaitable<CallResult> run() {
        CallResult result = co_await attempt();
        if (retry_) {
            result = co_await attempt();
        }
        result.elapsed = SteadyClock::now() - start_;
        co_return result;
    }

  private:
    net::awaitable<CallResult> attempt() {
        ++attempts_;
        retry_ = false;
        const bool fresh = attempts_ > 1;  // A retry never trusts another idle connection.
        Checkout checkout =
            co_await impl_->pool->checkout(upstream_.authority(), deadline_, timer_, fresh);
        if (checkout.error != CallError::none) {
            co_return failed(checkout.error, fmt::format("pool: {}", to_string(checkout.error)));
        }

        Lease& lease = checkout.lease;
        if (lease.connection() == nullptr) {
            const Failure failure = co_await connect(lease);
            if (failure.ec) {
                co_return failed(failure);
            }
        }

        Exchange exchange = co_await exchange_on(lease.connection()->socket);
        co_return finish(lease, exchange);
    }

    CallResult finish(Lease& lease, Exchange& exchange) {
        const Failure& failure = exchange.failure;
        if (failure.ec) {
            // The peer closed a kept-alive connection just as we reused it: that is no
            // answer yet, so the request is sent once more on a fresh connection.
            const bool unanswered = !failure.answer_started && is_reset(failure.ec);
            retry_ = attempts_ == 1 && lease.reused() && unanswered && idempotent_;
            return failed(failure);
        }

        CallResult result;
        result.response = std::move(exchange.response);
        result.reused_connection = lease.reused();
        if (exchange.reusable) {
            lease.give_back();
        }
        return result;
    }

    net::awaitable<Failure> connect(Lease& lease) {
        const auto connect_deadline = SteadyClock::now() + impl_->options.connect_timeout;
        timer_.expires_at(std::min(deadline_, connect_deadline));
        // TODO: the resolver cannot be cancelled, so a DNS server that hangs can hold a call
        // past its deadline; a resolve cache or an async DNS client would bound it.
        tcp::resolver resolver(impl_->executor);
        auto [resolve_ec, endpoints] = co_await race(
            resolver.async_resolve(upstream_.host, upstream_.port, use_tuple), timer_);
        if (resolve_ec) {
            co_return Failure{"resolve", resolve_ec};
        }

        tcp::socket socket(impl_->executor);
        auto [connect_ec, endpoint] =
            co_await race(net::async_connect(socket, endpoints, use_tuple), timer_);
        if (connect_ec) {
            co_return Failure{"connect", connect_ec};
        }

        beast::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        ++impl_->connections_opened;
        lease.attach(std::make_unique<PooledConnection>(std::move(socket)));
        co_return Failure{};
    }

    net::awaitable<Exchange> exchange_on(tcp::socket& socket) {
        timer_.expires_at(deadline_);
        auto [write_ec, written] = co_await on_socket<std::size_t>(socket, timer_, [&](auto token) {
            return net::async_write(socket, net::buffer(wire_), token);
        });
        if (write_ec) {
            co_return Exchange{Failure{"write", write_ec}, std::nullopt, false};
        }

        // answer_limit bounds the headers and the body each.
        const std::size_t limit = impl_->options.answer_limit;
        beast::flat_buffer buffer;
        beast::http::response_parser<beast::http::string_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(
            std::min<std::size_t>(limit, std::numeric_limits<std::uint32_t>::max())));
        parser.body_limit(limit);
        auto [read_ec, read] = co_await on_socket<std::size_t>(socket, timer_, [&](auto token) {
            return beast::http::async_read(socket, buffer, parser, token);
        });
        if (read_ec) {
            co_return Exchange{Failure{"read", read_ec, parser.got_some()}, std::nullopt, false};
        }

        const bool reusable = parser.keep_alive() && buffer.size() == 0;
        co_return Exchange{Failure{}, parser.release(), reusable};
    }

    std::shared_ptr<Client::Impl> impl_;
    const Upstream& upstream_;
    const bool idempotent_;   ///< Safe to send twice (GET, HEAD, PUT).
    const std::string wire_;  ///< The request, serialised once for every attempt.
    const SteadyClock::time_point start_;
    const SteadyClock::time_point deadline_;
    net::steady_timer timer_;
    int attempts_ = 0;
    bool retry_ = false;
};

}  // namespace

std::string Upstream::authority() const {
    const bool ipv6 = host.find(':') != std::string::npos;
    return (ipv6 ? "[" + host + "]" : host) + ":" + port;
}

std::optional<Upstream> parse_upstream_url(std::string_view url, std::string* error) {
    if (has_control_or_space(url)) {
        return reject(error, "control characters or spaces in URL");
    }
    if (!starts_with_http(url)) {
        return reject(error, "only http:// URLs are supported");
    }

    const std::string_view rest = url.substr(7);
    if (rest.find_first_of("?#") != std::string_view::npos) {
        return reject(error, "URL has a query or a fragment");
    }
    const auto slash = rest.find('/');
    const std::string_view authority = rest.substr(0, slash);
    if (authority.find('@') != std::string_view::npos) {
        return reject(error, "URL has user info");
    }

    Upstream upstream;
    if (const char* why = parse_authority(authority, upstream)) {
        return reject(error, why);
    }
    std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
    while (!path.empty() && path.back() == '/') {
        path.remove_suffix(1);
    }
    upstream.base_path = std::string(path);
    return upstream;
}

std::string_view to_string(CallError error) {
    switch (error) {
        case CallError::none:
            return "none";
        case CallError::timeout:
            return "timeout";
        case CallError::connect:
            return "connect";
        case CallError::reset:
            return "reset";
        case CallError::protocol:
            return "protocol";
        case CallError::cancelled:
            return "cancelled";
    }
    return "unknown";
}

Client::Client(net::any_io_executor executor, ClientOptions options)
    : impl_(std::make_shared<Impl>(std::move(executor), options)) {}

Client::~Client() {
    close();
}

net::awaitable<CallResult> Client::get(const Upstream& upstream,
                                       std::string target,
                                       std::vector<std::pair<std::string, std::string>> headers,
                                       std::chrono::milliseconds timeout) {
    co_return co_await send(
        Verb::get, upstream, std::move(target), std::move(headers), {}, timeout);
}

net::awaitable<CallResult> Client::send(Verb method,
                                        const Upstream& upstream,
                                        std::string target,
                                        std::vector<std::pair<std::string, std::string>> headers,
                                        std::string body,
                                        std::chrono::milliseconds timeout) {
    auto impl = impl_;  // Keeps the pool alive even if the Client goes away meanwhile.
    ++impl->calls;
    const auto executor = co_await net::this_coro::executor;
    Call call(impl,
              upstream,
              make_request(method, upstream, target, headers, std::move(body)),
              timeout,
              executor);
    try {
        co_return co_await call.run();
    } catch (const boost::system::system_error& e) {
        // Thrown by co_await itself once the calling coroutine was cancelled.
        co_return failed(CallError::cancelled, e.what());
    }
}

ClientStats Client::stats() const {
    ClientStats stats;
    stats.connections_opened = impl_->connections_opened.load();
    stats.connections_reused = impl_->pool->reused();
    stats.calls = impl_->calls.load();
    return stats;
}

void Client::close() {
    impl_->pool->close();
}

}  // namespace circuitlab::http
