#include "circuitlab/http/server.hpp"

#include <array>
#include <chrono>
#include <future>
#include <memory>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/ostream_sink.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <nlohmann/json.hpp>

#include "circuitlab/http/client.hpp"

namespace circuitlab::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;

using namespace std::chrono_literals;
using tcp = net::ip::tcp;
using json = nlohmann::json;

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

/// How long a test waits for something that should happen quickly; never a sleep.
constexpr auto bound = 10s;

/// What a raw connection saw: the answers it read, and whether the server then closed.
struct RawResult {
    std::vector<Response> answers;
    bool closed = false;
};

/// Connects, writes `bytes` as they are, reads `answers` answers, then (when `until_close`)
/// waits for the server to close the connection.
net::awaitable<RawResult> raw_exchange(tcp::endpoint server,
                                       std::string bytes,
                                       std::size_t answers,
                                       bool until_close) {
    tcp::socket socket(co_await net::this_coro::executor);
    co_await socket.async_connect(server, use_tuple);
    co_await net::async_write(socket, net::buffer(bytes), use_tuple);

    RawResult result;
    beast::flat_buffer buffer;
    for (std::size_t i = 0; i < answers; ++i) {
        bhttp::response_parser<bhttp::string_body> parser;
        parser.skip(bytes.starts_with("HEAD"));
        auto [ec, read] = co_await bhttp::async_read(socket, buffer, parser, use_tuple);
        if (ec) {
            result.closed = true;
            co_return result;
        }
        result.answers.push_back(parser.release());
    }

    if (until_close) {
        std::array<char, 64> rest{};
        auto [ec, read] = co_await socket.async_read_some(net::buffer(rest), use_tuple);
        result.closed = static_cast<bool>(ec);
    }
    co_return result;
}

/// Opens one connection and has it answered, then, with the first still open, checks
/// whether a second connection gets an answer: returns {first answered, second answered}.
net::awaitable<std::pair<bool, bool>> two_connections(tcp::endpoint server, std::string request) {
    const auto executor = co_await net::this_coro::executor;
    tcp::socket first(executor);
    co_await first.async_connect(server, use_tuple);
    co_await net::async_write(first, net::buffer(request), use_tuple);
    beast::flat_buffer buffer;
    Response answer;
    auto [first_ec, first_read] = co_await bhttp::async_read(first, buffer, answer, use_tuple);

    RawResult second = co_await raw_exchange(server, request, 1, false);
    co_return std::pair{!first_ec, !second.answers.empty()};
}

std::string get(std::string_view target, std::string_view extra_headers = "") {
    return "GET " + std::string(target) + " HTTP/1.1\r\nHost: test\r\n" +
           std::string(extra_headers) + "\r\n";
}

/// A server with a small route table on an io_context run by two threads.
class ServerTest : public ::testing::Test {
  protected:
    ServerTest() {
        add_routes();
        for (int i = 0; i < 2; ++i) {
            threads_.emplace_back([this] { io_.run(); });
        }
    }

    ~ServerTest() override {
        server_.reset();
        work_.reset();
        io_.stop();
        for (auto& thread : threads_) {
            thread.join();
        }
    }

    void start(ServerOptions options = small_limits()) {
        if (!options.log) {
            options.log = quiet_log();
        }
        server_ = std::make_unique<Server>(io_, router_, std::move(options));
        server_->listen({net::ip::make_address("127.0.0.1"), 0});
        server_->start();
    }

    static ServerOptions small_limits() {
        ServerOptions options;
        options.header_limit = 1024;
        options.body_limit = 1024;
        return options;
    }

    static std::shared_ptr<spdlog::logger> quiet_log() {
        return std::make_shared<spdlog::logger>("http",
                                                std::make_shared<spdlog::sinks::null_sink_mt>());
    }

    template <typename T>
    T run(net::awaitable<T> task) {
        auto future = net::co_spawn(net::make_strand(io_), std::move(task), net::use_future);
        if (future.wait_for(bound) != std::future_status::ready) {
            ADD_FAILURE() << "nothing happened within " << bound.count() << " s";
            return T{};
        }
        return future.get();
    }

    RawResult exchange(std::string bytes, std::size_t answers = 1, bool until_close = false) {
        return run(raw_exchange(server_->local_endpoint(), std::move(bytes), answers, until_close));
    }

    Response answer_to(std::string bytes) {
        RawResult result = exchange(std::move(bytes));
        if (result.answers.size() != 1) {
            ADD_FAILURE() << "no answer";
            return Response{};
        }
        return std::move(result.answers.front());
    }

    void add_routes();

    void add_route(Verb method, std::string pattern, Handler handler) {
        Route route;
        route.method = method;
        route.pattern = std::move(pattern);
        route.handler = std::move(handler);
        router_.add(std::move(route));
    }

    net::io_context io_;
    net::executor_work_guard<net::io_context::executor_type> work_ = net::make_work_guard(io_);
    Router router_;
    std::unique_ptr<Server> server_;
    std::vector<std::thread> threads_;

    std::promise<void> slow_started_;
    std::chrono::milliseconds slow_time_{100};
};

void ServerTest::add_routes() {
    add_route(Verb::get, "/hello", [](RequestContext&) -> net::awaitable<Response> {
        co_return json_response(bhttp::status::ok, R"({"hello":"world"})");
    });
    add_route(Verb::get, "/items/{id}", [](RequestContext& context) -> net::awaitable<Response> {
        co_return json_response(bhttp::status::ok, context.path_params.at("id"));
    });
    add_route(Verb::get, "/echo", [](RequestContext& context) -> net::awaitable<Response> {
        const std::string* value = context.query_value("q");
        co_return json_response(bhttp::status::ok, value ? *value : "-");
    });
    add_route(Verb::post, "/upload", [](RequestContext& context) -> net::awaitable<Response> {
        const auto size = std::to_string(context.request.body().size());
        co_return json_response(bhttp::status::ok, size);
    });
    add_route(Verb::get, "/throw", [](RequestContext&) -> net::awaitable<Response> {
        throw std::runtime_error("boom");
        co_return Response{};
    });
    add_route(Verb::get, "/slow", [this](RequestContext&) -> net::awaitable<Response> {
        slow_started_.set_value();
        net::steady_timer timer(co_await net::this_coro::executor, slow_time_);
        co_await timer.async_wait(use_tuple);
        co_return json_response(bhttp::status::ok, R"({"slow":true})");
    });
}

TEST_F(ServerTest, AnswersARouteWith200AndItsHeaders) {
    start();

    const Response answer = answer_to(get("/hello"));

    EXPECT_EQ(answer.result_int(), 200u);
    EXPECT_EQ(answer.body(), R"({"hello":"world"})");
    EXPECT_EQ(answer["Content-Type"], "application/json");
    EXPECT_EQ(answer["Server"], "circuitlab");
    EXPECT_EQ(answer["X-Request-ID"].size(), 16u);
    EXPECT_TRUE(answer.keep_alive());
}

TEST_F(ServerTest, PassesNamedSegmentsAndDecodedQueryToTheHandler) {
    start();

    EXPECT_EQ(answer_to(get("/items/42")).body(), "42");
    EXPECT_EQ(answer_to(get("/echo?q=a%20b+c")).body(), "a b c");
}

TEST_F(ServerTest, AnswersAnUnknownPathWith404Json) {
    start();

    const Response answer = answer_to(get("/nope?x=1"));

    EXPECT_EQ(answer.result_int(), 404u);
    EXPECT_EQ(json::parse(answer.body()), (json{{"error", "not found"}, {"path", "/nope"}}));
    EXPECT_FALSE(answer["X-Request-ID"].empty());
}

TEST_F(ServerTest, AnswersAWrongMethodWith405AndAllow) {
    start();

    const Response answer =
        answer_to("POST /hello HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");

    EXPECT_EQ(answer.result_int(), 405u);
    EXPECT_EQ(answer["Allow"], "GET, HEAD");
    EXPECT_EQ(json::parse(answer.body()).at("error"), "method not allowed");
}

TEST_F(ServerTest, AnswersHeadLikeGetWithoutBody) {
    start();

    const Response answer = answer_to("HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\n");

    EXPECT_EQ(answer.result_int(), 200u);
    EXPECT_EQ(answer["Content-Length"], "17");
    EXPECT_TRUE(answer.body().empty());
}

TEST_F(ServerTest, AnswersABadQueryStringWith400) {
    start();

    const Response answer = answer_to(get("/hello?x=%zz"));

    EXPECT_EQ(answer.result_int(), 400u);
    EXPECT_EQ(json::parse(answer.body()), (json{{"error", "malformed query string"}}));
}

TEST_F(ServerTest, AnswersAMalformedRequestWith400AndCloses) {
    start();

    const RawResult result = exchange("this is not http\r\n\r\n", 1, true);

    ASSERT_EQ(result.answers.size(), 1u);
    EXPECT_EQ(result.answers[0].result_int(), 400u);
    EXPECT_FALSE(result.answers[0].keep_alive());
    EXPECT_TRUE(result.closed);
}

TEST_F(ServerTest, AnswersATooLargeHeaderWith431) {
    start();

    const std::string big = "X-Big: " + std::string(4096, 'a') + "\r\n";
    const RawResult result = exchange(get("/hello", big), 1, true);

    ASSERT_EQ(result.answers.size(), 1u);
    EXPECT_EQ(result.answers[0].result_int(), 431u);
    EXPECT_EQ(json::parse(result.answers[0].body()), (json{{"error", "request header too large"}}));
    EXPECT_TRUE(result.closed);
}

TEST_F(ServerTest, AnswersATooLargeBodyWith413) {
    start();

    const std::string request =
        "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 4096\r\n\r\n" + std::string(4096, 'b');
    const RawResult result = exchange(request, 1, true);

    ASSERT_EQ(result.answers.size(), 1u);
    EXPECT_EQ(result.answers[0].result_int(), 413u);
    EXPECT_TRUE(result.closed);
}

TEST_F(ServerTest, AcceptsABodyWithinTheLimit) {
    start();

    const std::string request =
        "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n" + std::string(100, 'b');

    EXPECT_EQ(answer_to(request).body(), "100");
}

TEST_F(ServerTest, EchoesAValidRequestId) {
    start();

    const Response answer = answer_to(get("/hello", "X-Request-ID: abc-123_XYZ\r\n"));

    EXPECT_EQ(answer["X-Request-ID"], "abc-123_XYZ");
}

TEST_F(ServerTest, ReplacesARequestIdWithControlCharacters) {
    start();

    const Response answer = answer_to(get("/hello", "X-Request-ID: abc\tdef\r\n"));

    EXPECT_EQ(answer.result_int(), 200u);
    EXPECT_NE(answer["X-Request-ID"], "abc\tdef");
    EXPECT_EQ(answer["X-Request-ID"].size(), 16u);
}

TEST_F(ServerTest, ReplacesARequestIdLongerThan128Characters) {
    start();

    const std::string id(129, 'a');
    const Response answer = answer_to(get("/hello", "X-Request-ID: " + id + "\r\n"));

    EXPECT_EQ(answer["X-Request-ID"].size(), 16u);
}

TEST_F(ServerTest, SetsARequestIdOnErrorAnswersToo) {
    start();

    const Response answer = answer_to(get("/hello?x=%zz", "X-Request-ID: given\r\n"));

    EXPECT_EQ(answer["X-Request-ID"], "given");
}

TEST_F(ServerTest, AnswersHttp10In10AndCloses) {
    start();

    const RawResult result = exchange("GET /hello HTTP/1.0\r\n\r\n", 1, true);

    ASSERT_EQ(result.answers.size(), 1u);
    EXPECT_EQ(result.answers[0].version(), 10u);
    EXPECT_EQ(result.answers[0].result_int(), 200u);
    EXPECT_TRUE(result.closed);
}

TEST_F(ServerTest, KeepsHttp10AliveWhenAsked) {
    start();

    const RawResult result = exchange("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");

    ASSERT_EQ(result.answers.size(), 1u);
    EXPECT_EQ(result.answers[0].version(), 10u);
    EXPECT_TRUE(result.answers[0].keep_alive());
}

TEST_F(ServerTest, AnswersPipelinedRequestsInOrder) {
    start();

    const RawResult result = exchange(get("/items/1") + get("/items/2") + get("/items/3"), 3);

    ASSERT_EQ(result.answers.size(), 3u);
    EXPECT_EQ(result.answers[0].body(), "1");
    EXPECT_EQ(result.answers[1].body(), "2");
    EXPECT_EQ(result.answers[2].body(), "3");
}

TEST_F(ServerTest, ClosesWhenTheClientAsksTo) {
    start();

    const RawResult result = exchange(get("/hello", "Connection: close\r\n"), 1, true);

    ASSERT_EQ(result.answers.size(), 1u);
    EXPECT_FALSE(result.answers[0].keep_alive());
    EXPECT_TRUE(result.closed);
}

TEST_F(ServerTest, ClosesASlowConnectionAtTheHeaderDeadline) {
    ServerOptions options = small_limits();
    options.header_timeout = 200ms;
    start(options);

    const RawResult result = exchange("GET /hello HTTP/1.1\r\nHost: t\r\n", 1, true);

    EXPECT_TRUE(result.answers.empty());
    EXPECT_TRUE(result.closed);
}

TEST_F(ServerTest, ClosesAKeptAliveConnectionAtTheIdleDeadline) {
    ServerOptions options = small_limits();
    options.idle_timeout = 200ms;
    start(options);

    const RawResult result = exchange(get("/hello"), 1, true);

    ASSERT_EQ(result.answers.size(), 1u);
    EXPECT_TRUE(result.closed);
}

TEST_F(ServerTest, AnswersAThrowingHandlerWith500) {
    start();

    const Response answer = answer_to(get("/throw"));

    EXPECT_EQ(answer.result_int(), 500u);
    EXPECT_EQ(json::parse(answer.body()), (json{{"error", "internal error"}}));
}

TEST_F(ServerTest, LogsOneAccessLinePerRequestAtDebug) {
    auto lines = std::make_shared<std::ostringstream>();
    auto log = std::make_shared<spdlog::logger>(
        "http", std::make_shared<spdlog::sinks::ostream_sink_mt>(*lines));
    log->set_pattern("%l %v");
    log->set_level(spdlog::level::debug);
    ServerOptions options = small_limits();
    options.log = log;
    start(options);

    answer_to(get("/items/7", "X-Request-ID: req-1\r\n"));

    EXPECT_TRUE(
        std::regex_search(lines->str(), std::regex("debug GET /items/7 -> 200 [0-9]+ms id=req-1")))
        << lines->str();
}

TEST_F(ServerTest, ClosesConnectionsPastTheLimitAtOnce) {
    ServerOptions options = small_limits();
    options.max_connections = 1;
    start(options);

    const auto [first_answered, second_answered] =
        run(two_connections(server_->local_endpoint(), get("/hello")));

    EXPECT_TRUE(first_answered);
    EXPECT_FALSE(second_answered);
}

TEST_F(ServerTest, ServesTheClientOverOneKeptAliveConnection) {
    start();
    Client client(io_.get_executor(), ClientOptions{});
    Upstream upstream;
    upstream.host = "127.0.0.1";
    upstream.port = std::to_string(server_->local_endpoint().port());

    auto calls = [&]() -> net::awaitable<int> {
        int ok = 0;
        for (int i = 0; i < 5; ++i) {
            const CallResult result = co_await client.get(upstream, "/hello", {}, 2s);
            ok += result.error == CallError::none && result.response->result_int() == 200;
        }
        co_return ok;
    };

    EXPECT_EQ(run(calls()), 5);
    EXPECT_EQ(client.stats().connections_opened, 1u);
}

TEST_F(ServerTest, LetsAnInFlightHandlerFinishOnShutdown) {
    start();
    auto slow = net::co_spawn(net::make_strand(io_),
                              raw_exchange(server_->local_endpoint(), get("/slow"), 1, true),
                              net::use_future);
    ASSERT_EQ(slow_started_.get_future().wait_for(bound), std::future_status::ready);
    EXPECT_EQ(server_->active_requests(), 1u);

    std::promise<void> done;
    server_->shutdown(5s, [&done] { done.set_value(); });

    ASSERT_EQ(slow.wait_for(bound), std::future_status::ready);
    const RawResult result = slow.get();
    ASSERT_EQ(result.answers.size(), 1u);
    EXPECT_EQ(result.answers[0].result_int(), 200u);
    EXPECT_FALSE(result.answers[0].keep_alive());
    EXPECT_TRUE(result.closed);
    ASSERT_EQ(done.get_future().wait_for(bound), std::future_status::ready);
    EXPECT_EQ(server_->open_connections(), 0u);
}

TEST_F(ServerTest, ForceClosesWhatRemainsAfterTheGrace) {
    slow_time_ = 60s;
    start();
    auto slow = net::co_spawn(net::make_strand(io_),
                              raw_exchange(server_->local_endpoint(), get("/slow"), 1, true),
                              net::use_future);
    ASSERT_EQ(slow_started_.get_future().wait_for(bound), std::future_status::ready);

    std::promise<void> done;
    server_->shutdown(100ms, [&done] { done.set_value(); });

    ASSERT_EQ(done.get_future().wait_for(bound), std::future_status::ready);
    ASSERT_EQ(slow.wait_for(bound), std::future_status::ready);
    EXPECT_TRUE(slow.get().answers.empty());
    EXPECT_EQ(server_->open_connections(), 0u);
}

TEST_F(ServerTest, ShutdownWithNoConnectionsCallsDoneAndStopsAccepting) {
    start();
    const tcp::endpoint endpoint = server_->local_endpoint();

    std::promise<void> done;
    server_->shutdown(5s, [&done] { done.set_value(); });
    ASSERT_EQ(done.get_future().wait_for(bound), std::future_status::ready);

    tcp::socket socket(io_);
    beast::error_code ec;
    socket.connect(endpoint, ec);
    EXPECT_TRUE(ec);
}

TEST(RequestIdTest, SanitizeKeepsPrintableAsciiUpTo128) {
    EXPECT_EQ(sanitize_request_id("a-b_c.1~"), "a-b_c.1~");
    EXPECT_EQ(sanitize_request_id(std::string(128, 'x')), std::string(128, 'x'));
}

TEST(RequestIdTest, SanitizeRejectsEmptyLongSpacesAndControls) {
    EXPECT_EQ(sanitize_request_id(""), "");
    EXPECT_EQ(sanitize_request_id(std::string(129, 'x')), "");
    EXPECT_EQ(sanitize_request_id("a b"), "");
    EXPECT_EQ(sanitize_request_id("a\x01"), "");
    EXPECT_EQ(sanitize_request_id("caf\xc3\xa9"), "");
}

TEST(RequestIdTest, MadeUpIdsAre16HexDigitsAndDiffer) {
    const std::string first = make_request_id();
    const std::string second = make_request_id();

    EXPECT_TRUE(std::regex_match(first, std::regex("[0-9a-f]{16}")));
    EXPECT_NE(first, second);
}

}  // namespace
}  // namespace circuitlab::http
