#include "circuitlab/http/client.hpp"

#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_future.hpp>

#include "support/fake_upstream.hpp"

namespace circuitlab::http {
namespace {

namespace net = boost::asio;

using namespace std::chrono_literals;
using testing::Action;
using testing::FakeUpstream;

/// How long a test waits for something that should happen quickly; never a sleep.
constexpr auto bound = 10s;

/// A client on an io_context run by two threads, each call on a strand of its own, as in
/// the server; and a fake upstream on its own thread.
class ClientTest : public ::testing::Test {
  protected:
    ClientTest() {
        for (int i = 0; i < 2; ++i) {
            threads_.emplace_back([this] { io_.run(); });
        }
    }

    ~ClientTest() override {
        client_->close();
        work_.reset();
        io_.stop();
        for (auto& thread : threads_) {
            thread.join();
        }
    }

    void make_client(ClientOptions options) {
        client_ = std::make_unique<Client>(io_.get_executor(), options);
    }

    std::future<CallResult> start_call(Upstream upstream,
                                       std::chrono::milliseconds timeout,
                                       std::string target = "/api/x") {
        auto call = [this, upstream, timeout, target]() -> net::awaitable<CallResult> {
            co_return co_await client_->get(upstream, target, {}, timeout);
        };
        return net::co_spawn(net::make_strand(io_), call, net::use_future);
    }

    CallResult call(Upstream upstream, std::chrono::milliseconds timeout = 2000ms) {
        auto future = start_call(std::move(upstream), timeout);
        if (future.wait_for(bound) != std::future_status::ready) {
            ADD_FAILURE() << "the call did not finish within " << bound.count() << " s";
            return CallResult{};
        }
        return future.get();
    }

    net::io_context io_;
    net::executor_work_guard<net::io_context::executor_type> work_ = net::make_work_guard(io_);
    std::unique_ptr<Client> client_ = std::make_unique<Client>(io_.get_executor(), ClientOptions{});
    FakeUpstream upstream_;
    std::vector<std::thread> threads_;
};

TEST_F(ClientTest, PassesA200AnswerThrough) {
    upstream_.set_fallback(Action::answer(200, R"({"hello":"world"})"));

    const CallResult result = call(upstream_.upstream());

    ASSERT_EQ(result.error, CallError::none) << result.detail;
    ASSERT_TRUE(result.response.has_value());
    EXPECT_EQ(result.response->result_int(), 200u);
    EXPECT_EQ(result.response->body(), R"({"hello":"world"})");
    EXPECT_EQ((*result.response)["Content-Type"], "application/json");
    EXPECT_FALSE(result.reused_connection);
}

TEST_F(ClientTest, TreatsA500AsAnAnswerNotAnError) {
    upstream_.set_fallback(Action::answer(500, R"({"error":"downstream failed"})"));

    const CallResult result = call(upstream_.upstream());

    ASSERT_EQ(result.error, CallError::none) << result.detail;
    EXPECT_EQ(result.response->result_int(), 500u);
    EXPECT_EQ(result.response->body(), R"({"error":"downstream failed"})");
}

TEST_F(ClientTest, SendsHostKeepAliveBasePathAndGivenHeaders) {
    Upstream upstream = upstream_.upstream();
    upstream.base_path = "/base";

    // Built outside the coroutine: GCC 12 cannot copy a string literal into its frame.
    const std::string target = "/api/x?a=1";
    const std::vector<std::pair<std::string, std::string>> headers = {{"X-Request-ID", "abc"}};
    auto call = [&]() -> net::awaitable<CallResult> {
        co_return co_await client_->get(upstream, target, headers, 2s);
    };
    auto future = net::co_spawn(net::make_strand(io_), call, net::use_future);
    ASSERT_EQ(future.wait_for(bound), std::future_status::ready);
    ASSERT_EQ(future.get().error, CallError::none);

    const auto request = upstream_.last_request();
    ASSERT_TRUE(request.has_value());
    EXPECT_EQ(request->target(), "/base/api/x?a=1");
    EXPECT_EQ((*request)["Host"], upstream.authority());
    EXPECT_EQ((*request)["Connection"], "keep-alive");
    EXPECT_EQ((*request)["X-Request-ID"], "abc");
}

TEST_F(ClientTest, TimesOutWhenUpstreamNeverAnswers) {
    upstream_.set_fallback(Action::never_answer());

    const CallResult result = call(upstream_.upstream(), 200ms);

    EXPECT_EQ(result.error, CallError::timeout);
    EXPECT_EQ(result.detail, "read: timed out");
    EXPECT_GE(result.elapsed, 200ms);
}

TEST_F(ClientTest, TimesOutWhenTheAnswerComesTooLate) {
    upstream_.set_fallback(Action::delayed(1000ms, 200, "late"));

    const CallResult result = call(upstream_.upstream(), 200ms);

    EXPECT_EQ(result.error, CallError::timeout);
    EXPECT_LT(result.elapsed, 1000ms);
}

TEST_F(ClientTest, ReportsConnectWhenThePortRefuses) {
    Upstream refused = upstream_.upstream();
    refused.port = std::to_string(testing::refused_port());

    const CallResult result = call(refused);

    EXPECT_EQ(result.error, CallError::connect);
    EXPECT_EQ(result.detail, "connect: Connection refused");
    EXPECT_FALSE(result.response.has_value());
}

TEST_F(ClientTest, ReportsConnectWhenTheHostDoesNotResolve) {
    Upstream nowhere;
    nowhere.host = "no-such-host.invalid";

    const CallResult result = call(nowhere);

    // A resolver that is slow to say no may hit the deadline first.
    EXPECT_TRUE(result.error == CallError::connect || result.error == CallError::timeout)
        << result.detail;
}

TEST_F(ClientTest, ReportsResetWhenUpstreamResets) {
    upstream_.set_fallback(Action::reset());

    const CallResult result = call(upstream_.upstream());

    EXPECT_EQ(result.error, CallError::reset) << result.detail;
}

TEST_F(ClientTest, ReportsResetWhenUpstreamClosesWithoutAnswer) {
    upstream_.set_fallback(Action::close_after_request());

    const CallResult result = call(upstream_.upstream());

    EXPECT_EQ(result.error, CallError::reset) << result.detail;
}

TEST_F(ClientTest, ReportsProtocolWhenUpstreamAnswersGarbage) {
    upstream_.set_fallback(Action::garbage());

    const CallResult result = call(upstream_.upstream());

    EXPECT_EQ(result.error, CallError::protocol) << result.detail;
}

TEST_F(ClientTest, ReportsResetOrProtocolWhenUpstreamClosesMidBody) {
    upstream_.set_fallback(Action::close_mid_body());

    const CallResult result = call(upstream_.upstream());

    EXPECT_TRUE(result.error == CallError::reset || result.error == CallError::protocol)
        << to_string(result.error) << ": " << result.detail;
}

TEST_F(ClientTest, ReportsProtocolWhenTheAnswerIsOverTheLimit) {
    ClientOptions options;
    options.answer_limit = 1024;
    make_client(options);
    upstream_.set_fallback(Action::answer(200, std::string(4096, 'x')));

    const CallResult result = call(upstream_.upstream());

    EXPECT_EQ(result.error, CallError::protocol) << result.detail;
}

TEST_F(ClientTest, ReusesOnePooledConnectionForTenSequentialCalls) {
    for (int i = 0; i < 10; ++i) {
        const CallResult result = call(upstream_.upstream());
        ASSERT_EQ(result.error, CallError::none) << result.detail;
        EXPECT_EQ(result.reused_connection, i > 0);
    }

    EXPECT_EQ(client_->stats().connections_opened, 1u);
    EXPECT_EQ(client_->stats().connections_reused, 9u);
    EXPECT_EQ(client_->stats().calls, 10u);
    EXPECT_EQ(upstream_.connections_accepted(), 1u);
}

TEST_F(ClientTest, DoesNotReuseAConnectionTheAnswerClosed) {
    Action no_keep_alive = Action::answer(200, "bye");
    no_keep_alive.keep_alive = false;
    upstream_.set_fallback(no_keep_alive);

    ASSERT_EQ(call(upstream_.upstream()).error, CallError::none);
    ASSERT_EQ(call(upstream_.upstream()).error, CallError::none);

    EXPECT_EQ(client_->stats().connections_opened, 2u);
    EXPECT_EQ(client_->stats().connections_reused, 0u);
}

TEST_F(ClientTest, RetriesOnAFreshConnectionWhenAReusedOneDiesBeforeAnswering) {
    upstream_.script({Action::answer(200, "first"),
                      Action::close_after_request(),
                      Action::answer(200, "second")});

    ASSERT_EQ(call(upstream_.upstream()).error, CallError::none);
    const CallResult result = call(upstream_.upstream());

    ASSERT_EQ(result.error, CallError::none) << result.detail;
    EXPECT_EQ(result.response->body(), "second");
    EXPECT_FALSE(result.reused_connection);
    EXPECT_EQ(client_->stats().connections_opened, 2u);
    EXPECT_EQ(upstream_.requests_served(), 3u);
}

TEST_F(ClientTest, RetriesOnANewConnectionNotOnAnotherIdleOne) {
    // Two calls at once leave two idle connections behind.
    upstream_.script({Action::delayed(300ms, 200, "a"), Action::delayed(300ms, 200, "b")});
    auto first = start_call(upstream_.upstream(), 2s);
    auto second = start_call(upstream_.upstream(), 2s);
    ASSERT_TRUE(upstream_.wait_for_requests(2, bound));
    ASSERT_EQ(first.wait_for(bound), std::future_status::ready);
    ASSERT_EQ(second.wait_for(bound), std::future_status::ready);
    ASSERT_EQ(client_->stats().connections_opened, 2u);

    upstream_.script({Action::close_after_request(), Action::answer(200, "fresh")});
    const CallResult result = call(upstream_.upstream());

    ASSERT_EQ(result.error, CallError::none) << result.detail;
    EXPECT_EQ(result.response->body(), "fresh");
    EXPECT_EQ(client_->stats().connections_opened, 3u);
}

TEST_F(ClientTest, RecoversTransparentlyWhenUpstreamClosedAPooledConnection) {
    upstream_.script({Action::answer_then_close(200, "first")});

    ASSERT_EQ(call(upstream_.upstream()).error, CallError::none);
    const CallResult result = call(upstream_.upstream());

    ASSERT_EQ(result.error, CallError::none) << result.detail;
    EXPECT_EQ(client_->stats().connections_opened, 2u);
    EXPECT_EQ(upstream_.connections_accepted(), 2u);
}

TEST_F(ClientTest, DoesNotRetryAFreshConnection) {
    upstream_.set_fallback(Action::close_after_request());

    const CallResult result = call(upstream_.upstream());

    EXPECT_EQ(result.error, CallError::reset);
    EXPECT_EQ(upstream_.requests_served(), 1u);
}

TEST_F(ClientTest, WaitsForABusyConnectionWhenAtTheLimit) {
    ClientOptions options;
    options.max_connections = 1;
    make_client(options);
    upstream_.script({Action::delayed(100ms, 200, "slow")});

    auto first = start_call(upstream_.upstream(), 2s);
    ASSERT_TRUE(upstream_.wait_for_requests(1, bound));
    auto second = start_call(upstream_.upstream(), 2s);

    ASSERT_EQ(first.wait_for(bound), std::future_status::ready);
    ASSERT_EQ(second.wait_for(bound), std::future_status::ready);
    EXPECT_EQ(first.get().error, CallError::none);
    EXPECT_EQ(second.get().error, CallError::none);
    EXPECT_EQ(client_->stats().connections_opened, 1u);
}

TEST_F(ClientTest, TimesOutWaitingForAConnectionWhenAllStayBusy) {
    ClientOptions options;
    options.max_connections = 1;
    make_client(options);
    upstream_.set_fallback(Action::never_answer());

    auto first = start_call(upstream_.upstream(), 5s);
    ASSERT_TRUE(upstream_.wait_for_requests(1, bound));
    const CallResult second = call(upstream_.upstream(), 200ms);

    EXPECT_EQ(second.error, CallError::timeout);
    EXPECT_EQ(second.detail, "pool: timeout");
    EXPECT_EQ(upstream_.connections_accepted(), 1u);
    client_->close();
}

TEST_F(ClientTest, CloseFailsCallsWaitingForAConnection) {
    ClientOptions options;
    options.max_connections = 1;
    make_client(options);
    upstream_.set_fallback(Action::never_answer());

    auto first = start_call(upstream_.upstream(), 5s);
    ASSERT_TRUE(upstream_.wait_for_requests(1, bound));
    auto second = start_call(upstream_.upstream(), 5s);
    // The second call may not be in line yet: a call after close fails the same way.
    client_->close();

    ASSERT_EQ(second.wait_for(bound), std::future_status::ready);
    EXPECT_EQ(second.get().error, CallError::cancelled);
}

TEST_F(ClientTest, DropsIdleConnectionsOlderThanTheIdleTimeout) {
    ClientOptions options;
    options.idle_timeout = 0ms;
    make_client(options);

    ASSERT_EQ(call(upstream_.upstream()).error, CallError::none);
    ASSERT_EQ(call(upstream_.upstream()).error, CallError::none);

    EXPECT_EQ(client_->stats().connections_opened, 2u);
}

TEST(UpstreamUrlTest, ParsesHostPortAndBasePath) {
    const auto upstream = parse_upstream_url("http://midline:8000/base/");

    ASSERT_TRUE(upstream.has_value());
    EXPECT_EQ(upstream->host, "midline");
    EXPECT_EQ(upstream->port, "8000");
    EXPECT_EQ(upstream->base_path, "/base");
    EXPECT_EQ(upstream->authority(), "midline:8000");
}

TEST(UpstreamUrlTest, DefaultsToPort80AndNoBasePath) {
    const auto upstream = parse_upstream_url("HTTP://backline");

    ASSERT_TRUE(upstream.has_value());
    EXPECT_EQ(upstream->port, "80");
    EXPECT_EQ(upstream->base_path, "");
}

TEST(UpstreamUrlTest, KeepsBracketsOfAnIpv6AuthorityOnly) {
    const auto upstream = parse_upstream_url("http://[::1]:9000");

    ASSERT_TRUE(upstream.has_value());
    EXPECT_EQ(upstream->host, "::1");
    EXPECT_EQ(upstream->authority(), "[::1]:9000");
}

TEST(UpstreamUrlTest, RejectsWhatIsNotPlainHttp) {
    const std::vector<std::string> bad = {
        "https://midline:8000",
        "midline:8000",
        "http://",
        "http://:80",
        "http://host:0",
        "http://host:65536",
        "http://host:8x",
        "http://user@host",
        "http://host/?q=1",
        "http://host/#top",
        "http://ho st",
        "http://host\n",
    };
    for (const auto& url : bad) {
        std::string error;
        EXPECT_FALSE(parse_upstream_url(url, &error).has_value()) << url;
        EXPECT_FALSE(error.empty()) << url;
    }
}

TEST(CallErrorTest, NamesMatchTheReasonsOfTheDesign) {
    EXPECT_EQ(to_string(CallError::timeout), "timeout");
    EXPECT_EQ(to_string(CallError::connect), "connect");
    EXPECT_EQ(to_string(CallError::reset), "reset");
    EXPECT_EQ(to_string(CallError::protocol), "protocol");
    EXPECT_EQ(to_string(CallError::cancelled), "cancelled");
}

}  // namespace
}  // namespace circuitlab::http
