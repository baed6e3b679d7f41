#include "session.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <exception>
#include <limits>
#include <string_view>
#include <tuple>
#include <utility>

#include <spdlog/logger.h>
#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <nlohmann/json.hpp>

#include "circuitlab/http/log_line.hpp"
#include "circuitlab/http/query.hpp"
#include "wire.hpp"

namespace circuitlab::http {

namespace {

namespace beast = boost::beast;
namespace net = boost::asio;

using SteadyClock = std::chrono::steady_clock;
using Status = beast::http::status;

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

/// Bytes asked for when waiting for the first byte of a keep-alive request.
constexpr std::size_t first_read_size = 4096;

/// After an error answer, unread request bytes are drained for at most this long (and this
/// many bytes), so that closing does not reset the connection before the peer reads it.
constexpr std::chrono::milliseconds linger_time{1000};
constexpr std::size_t linger_limit = 1024 * 1024;

std::string_view view(beast::string_view text) {
    return {text.data(), text.size()};
}

/// Codes that only mean the peer left, a deadline passed or we closed: never logged.
bool is_quiet(beast::error_code ec) {
    return ec == beast::http::error::end_of_stream || ec == beast::http::error::partial_message ||
           ec == net::error::operation_aborted || ec == net::error::not_connected ||
           ec == net::error::eof || ec == net::error::connection_reset ||
           ec == net::error::connection_aborted || ec == net::error::broken_pipe ||
           ec == net::error::bad_descriptor || ec == beast::error::timeout;
}

bool is_parse_error(beast::error_code ec) {
    return ec.category() == beast::http::make_error_code(beast::http::error::bad_target).category();
}

std::string request_id_of(const Request& request) {
    std::string id = sanitize_request_id(view(request["X-Request-ID"]));
    return id.empty() ? make_request_id() : id;
}

/// The route for a request; HEAD falls back on the GET route of the path.
Match find_route(const Router& router, Verb method, std::string_view path) {
    Match match = router.match(method, path);
    if (match.route != nullptr || method != Verb::head) {
        return match;
    }

    Match as_get = router.match(Verb::get, path);
    return as_get.route != nullptr ? std::move(as_get) : std::move(match);
}

std::string allow_list(const std::vector<Verb>& allowed) {
    std::string list;
    for (const Verb method : allowed) {
        list += list.empty() ? "" : ", ";
        list += view(beast::http::to_string(method));
    }

    const auto has = [&](Verb method) {
        return std::find(allowed.begin(), allowed.end(), method) != allowed.end();
    };
    if (has(Verb::get) && !has(Verb::head)) {
        list += ", HEAD";
    }
    return list;
}

/// 404 naming the path, or 405 listing the methods the path has.
Response no_route(const Match& match, std::string_view path) {
    if (match.allowed.empty()) {
        const nlohmann::json body = {{"error", "not found"}, {"path", path}};
        const auto replace = nlohmann::json::error_handler_t::replace;
        return json_response(Status::not_found, body.dump(-1, ' ', false, replace));
    }

    Response answer = json_error(Status::method_not_allowed, "method not allowed");
    answer.set(beast::http::field::allow, allow_list(match.allowed));
    return answer;
}

net::awaitable<void> drain(beast::tcp_stream& stream) {
    std::array<char, 4096> sink{};
    std::size_t drained = 0;
    while (drained < linger_limit) {
        auto [ec, bytes] = co_await stream.async_read_some(net::buffer(sink), use_tuple);
        if (ec) {
            co_return;
        }
        drained += bytes;
    }
}

/// Writes a streamed body straight to the socket, each chunk within the idle timeout.
class Writer final : public StreamWriter {
  public:
    Writer(beast::tcp_stream& stream, std::chrono::milliseconds timeout)
        : stream_(stream), timeout_(timeout) {}

    net::awaitable<bool> write(std::string_view chunk) override {
        stream_.expires_after(timeout_);
        auto [ec, bytes] = co_await net::async_write(stream_, net::buffer(chunk), use_tuple);
        stream_.expires_never();
        co_return !ec;
    }

  private:
    beast::tcp_stream& stream_;
    std::chrono::milliseconds timeout_;
};

}  // namespace

Session::Session(std::shared_ptr<Server::Impl> server, net::ip::tcp::socket socket)
    : server_(std::move(server)), stream_(std::move(socket)) {
    beast::error_code ignored;
    stream_.socket().set_option(net::ip::tcp::no_delay(true), ignored);
}

net::awaitable<void> Session::run() {
    // A forced close cancels us; errors must come back as values, not as exceptions.
    co_await net::this_coro::throw_if_cancelled(false);
    try {
        co_await serve();
    } catch (const std::exception& e) {
        if (server_->options.log) {
            server_->options.log->debug("connection ended by exception: {}", e.what());
        }
    }

    close_stream();
    server_->session_ended(this);
}

void Session::stop() {
    net::post(executor(), [self = shared_from_this()] {
        self->stopping_ = true;
        if (!self->busy_) {
            self->close_stream();
        }
    });
}

void Session::force_close() {
    net::post(executor(), [self = shared_from_this()] {
        self->stopping_ = true;
        self->forced_ = true;
        self->cancel_.emit(net::cancellation_type::terminal);
        self->close_stream();
    });
}

net::awaitable<void> Session::serve() {
    while (!stopping_) {
        ReadResult read = co_await read_request();
        if (read.error_answer) {
            co_await answer_error(*read.error_answer, read.request_id);
            co_return;
        }
        if (!read.request || !co_await answer(*read.request)) {
            co_return;
        }
    }
}

net::awaitable<bool> Session::wait_for_request() {
    if (first_request_ || buffer_.size() > 0) {
        first_request_ = false;
        co_return true;
    }

    // Between requests the idle deadline applies; once a byte arrives, the header one.
    stream_.expires_after(server_->options.idle_timeout);
    auto [ec, bytes] =
        co_await stream_.async_read_some(buffer_.prepare(first_read_size), use_tuple);
    buffer_.commit(bytes);
    if (ec) {
        note_error("read", ec);
        co_return false;
    }
    co_return true;
}

// TODO: answer `Expect: 100-continue` with an interim 100; a client expecting it waits about a
// second before sending the body. Only matters for bodies, and our routes are GETs.
net::awaitable<ReadResult> Session::read_request() {
    const ServerOptions& options = server_->options;
    if (!co_await wait_for_request()) {
        co_return ReadResult{};
    }

    beast::http::request_parser<beast::http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(options.header_limit, std::numeric_limits<std::uint32_t>::max())));
    parser.body_limit(options.body_limit);

    stream_.expires_after(options.header_timeout);
    auto [ec, bytes] = co_await beast::http::async_read_header(stream_, buffer_, parser, use_tuple);
    if (!ec && !parser.is_done()) {
        stream_.expires_after(options.header_timeout);
        std::tie(ec, bytes) = co_await beast::http::async_read(stream_, buffer_, parser, use_tuple);
    }
    stream_.expires_never();

    if (ec) {
        co_return failed_read(ec, parser.is_header_done() ? request_id_of(parser.get()) : "");
    }
    co_return ReadResult{parser.release(), std::nullopt, {}};
}

ReadResult Session::failed_read(beast::error_code ec, std::string id) {
    ReadResult result;
    result.request_id = id.empty() ? make_request_id() : std::move(id);
    if (ec == beast::http::error::header_limit) {
        result.error_answer =
            json_error(Status::request_header_fields_too_large, "request header too large");
    } else if (ec == beast::http::error::body_limit) {
        result.error_answer = json_error(Status::payload_too_large, "request body too large");
    } else if (!is_quiet(ec) && is_parse_error(ec)) {
        result.error_answer = json_error(Status::bad_request, "malformed request");
    } else {
        note_error("read", ec);
    }
    return result;
}

net::awaitable<bool> Session::answer(Request& request) {
    const auto start = SteadyClock::now();
    busy_ = true;
    ++server_->active_requests;
    const std::string id = request_id_of(request);
    Response answer = co_await respond(request, id);
    if (streamed_) {
        log_access(view(request.method_string()), view(request.target()), answer, start, id);
        report(view(request.method_string()), answer, start);
        --server_->active_requests;
        co_return false;  // A streamed body ends with the connection.
    }

    const bool keep_alive = request.keep_alive() && !stopping_;
    finish_answer(answer, request.version(), keep_alive, id);
    if (request.method() == Verb::head) {
        answer.body().clear();  // Content-Length stays: it describes the GET answer.
    }
    log_access(view(request.method_string()), view(request.target()), answer, start, id);

    const bool written = co_await write(answer);
    report(view(request.method_string()), answer, start);
    --server_->active_requests;
    busy_ = false;
    co_return written&& keep_alive && !stopping_;
}

net::awaitable<void> Session::answer_error(Response& answer, const std::string& id) {
    finish_answer(answer, 11, false, id);
    log_access("-", "-", answer, SteadyClock::now(), id);
    route_ = nullptr;
    report("-", answer, SteadyClock::now());
    if (!co_await write(answer)) {
        co_return;
    }

    // The request was not read to its end: close our side, then drain what the peer still
    // sends, so that the close does not turn into a reset that destroys the answer.
    beast::error_code ignored;
    stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
    stream_.expires_after(
        std::min<std::chrono::milliseconds>(server_->options.header_timeout, linger_time));
    co_await drain(stream_);
}

net::awaitable<Response> Session::respond(const Request& request, const std::string& id) {
    const auto [path, query_text] = split_target(view(request.target()));
    Match match = find_route(server_->router, request.method(), path);
    route_ = match.route;
    if (match.route == nullptr) {
        co_return no_route(match, path);
    }

    auto query = parse_query(query_text);
    if (!query) {
        co_return json_error(Status::bad_request, "malformed query string");
    }

    RequestContext context{request, path, std::move(*query), std::move(match.path_params), id};
    Response answer = co_await call_handler(*match.route, context);
    if (match.route->stream && answer.result() == Status::ok && request.method() == Verb::get) {
        co_await stream_body(*match.route, context, answer, id);
    }
    co_return answer;
}

net::awaitable<void> Session::stream_body(const Route& route,
                                          RequestContext& context,
                                          Response& head,
                                          const std::string& id) {
    streamed_ = true;
    // No length and no chunking: the body ends when the connection closes.
    std::string text = "HTTP/1.1 200 OK\r\n";
    for (const auto& field : head) {
        text += std::string(view(field.name_string())) + ": " + std::string(view(field.value()));
        text += "\r\n";
    }
    text += "Server: " + server_->options.server_name + "\r\nX-Request-ID: " + id +
            "\r\nConnection: close\r\n\r\n";
    Writer writer(stream_, server_->options.idle_timeout);
    if (!co_await writer.write(text)) {
        co_return;
    }
    try {
        co_await route.stream(context, writer);
    } catch (const std::exception& e) {
        log_failure(context, e.what());
    }
}

void Session::report(std::string_view method, const Response& answer, TimePoint start) {
    if (!server_->options.on_answer) {
        return;
    }
    AnswerRecord record;
    record.method = method;
    record.route = route_ != nullptr ? std::string_view(route_->pattern) : std::string_view();
    record.status = static_cast<int>(answer.result_int());
    record.elapsed = SteadyClock::now() - start;
    server_->options.on_answer(record);
}

net::awaitable<Response> Session::call_handler(const Route& route, RequestContext& context) {
    std::string failure = "route has no handler";
    try {
        if (route.handler) {
            co_return co_await route.handler(context);
        }
    } catch (const std::exception& e) {
        failure = e.what();
    } catch (...) {
        failure = "unknown exception";
    }

    log_failure(context, failure);
    co_return json_error(Status::internal_server_error, "internal error");
}

void Session::finish_answer(Response& answer,
                            unsigned version,
                            bool keep_alive,
                            const std::string& id) {
    answer.version(version);
    answer.set(beast::http::field::server, server_->options.server_name);
    answer.set("X-Request-ID", id);
    answer.keep_alive(keep_alive);
    answer.prepare_payload();
}

net::awaitable<bool> Session::write(Response& answer) {
    // A peer that reads nothing for a whole idle period is gone.
    const std::string wire = to_wire(answer);
    stream_.expires_after(server_->options.idle_timeout);
    auto [ec, bytes] = co_await net::async_write(stream_, net::buffer(wire), use_tuple);
    stream_.expires_never();
    if (ec) {
        note_error("write", ec);
        co_return false;
    }
    co_return true;
}

void Session::close_stream() {
    stream_.close();
}

void Session::log_access(std::string_view method,
                         std::string_view target,
                         const Response& answer,
                         SteadyClock::time_point start,
                         const std::string& id) {
    const auto& log = server_->options.log;
    if (!log) {
        return;
    }

    const auto elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - start);
    if (!log->should_log(spdlog::level::debug)) {
        return;
    }
    const LogContext context{.event = "access",
                             .request_id = id,
                             .fields = {{"method", method},
                                        {"target", target},
                                        {"status", answer.result_int()},
                                        {"ms", elapsed.count()}}};
    log_line(
        *log,
        spdlog::level::debug,
        context,
        fmt::format(
            "{} {} -> {} {}ms id={}", method, target, answer.result_int(), elapsed.count(), id));
}

void Session::log_failure(const RequestContext& context, const std::string& failure) {
    const auto log = server_->options.log ? server_->options.log : spdlog::default_logger();
    const auto method = view(context.request.method_string());
    // Cancelled by a forced shutdown: expected, not a fault of the handler.
    const auto level = forced_ ? spdlog::level::debug : spdlog::level::err;
    const char* what = forced_ ? "cancelled" : "failed";
    log_line(
        *log,
        level,
        {.event = forced_ ? "handler_cancelled" : "handler_failed",
         .request_id = context.request_id,
         .fields = {{"method", method}, {"path", context.path}, {"error", failure}}},
        fmt::format(
            "handler {} {} {}: {} id={}", method, context.path, what, failure, context.request_id));
}

void Session::note_error(const char* step, beast::error_code ec) {
    if (is_quiet(ec) || !server_->options.log) {
        return;
    }
    server_->options.log->debug("{} failed: {}", step, ec.message());
}

}  // namespace circuitlab::http
