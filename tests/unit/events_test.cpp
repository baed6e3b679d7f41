#include "circuitlab/ops/events.hpp"

#include <exception>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "support/fake_clock.hpp"

namespace circuitlab::ops {
namespace {

namespace net = boost::asio;
using namespace std::chrono_literals;

constexpr const char* greeting = "retry: 2000\n: connected\n\n";

// A client connection that keeps what it is sent; a stalled one blocks in write (a reader
// that does not read) until released.
class RecordingWriter final : public http::StreamWriter {
  public:
    explicit RecordingWriter(net::io_context& io, bool stalled = false)
        : gate_(io), stalled_(stalled) {}

    net::awaitable<bool> write(std::string_view chunk) override {
        if (stalled_) {
            gate_.expires_at(net::steady_timer::time_point::max());
            co_await gate_.async_wait(net::as_tuple(net::use_awaitable));
        }
        chunks.emplace_back(chunk);
        co_return true;
    }

    void release() {
        stalled_ = false;
        gate_.cancel();
    }

    std::vector<std::string> events(std::string_view name) const {
        std::vector<std::string> found;
        const std::string head = "event: " + std::string(name) + "\ndata: ";
        for (const std::string& chunk : chunks) {
            if (chunk.starts_with(head)) {
                found.push_back(chunk.substr(head.size(), chunk.size() - head.size() - 2));
            }
        }
        return found;
    }

    std::vector<std::string> chunks;

  private:
    net::steady_timer gate_;
    bool stalled_;
};

// Each test ends every stream it started before its hub and writers go out of scope.
class EventHubTest : public ::testing::Test {
  protected:
    // Starts serving one client; `done` is set when its stream ends.
    void serve(EventHub& hub, RecordingWriter& writer, bool& done) {
        net::co_spawn(io_, hub.serve(writer), [&done](const std::exception_ptr&) { done = true; });
    }

    // Runs every handler that is ready, without waiting for any timer.
    void settle() {
        io_.restart();
        io_.poll();
    }

    net::io_context io_;
};

TEST_F(EventHubTest, SubscriberGetsEveryEventInOrderAsAnSseFrame) {
    EventHub hub(8, 1h);
    RecordingWriter writer(io_);
    bool done = false;
    serve(hub, writer, done);
    settle();
    hub.publish("transition", R"({"to":"open"})");
    hub.publish("outcomes", R"({"success":1})");
    settle();

    EXPECT_EQ(hub.clients(), 1u);
    ASSERT_EQ(writer.chunks.size(), 3u);
    EXPECT_EQ(writer.chunks[0], greeting);
    EXPECT_EQ(writer.chunks[1], "event: transition\ndata: {\"to\":\"open\"}\n\n");
    EXPECT_EQ(writer.chunks[2], "event: outcomes\ndata: {\"success\":1}\n\n");
    EXPECT_FALSE(done);
    hub.close();
    settle();
    EXPECT_TRUE(done);
}

TEST_F(EventHubTest, CloseEndsEveryStreamAndRefusesNewOnes) {
    EventHub hub(8, 1h);
    RecordingWriter first(io_);
    RecordingWriter late(io_);
    bool first_done = false;
    bool late_done = false;
    serve(hub, first, first_done);
    settle();
    hub.close();
    settle();
    serve(hub, late, late_done);
    settle();

    EXPECT_TRUE(first_done);
    EXPECT_TRUE(late_done);
    EXPECT_TRUE(late.chunks.empty());
    EXPECT_EQ(hub.clients(), 0u);
}

TEST_F(EventHubTest, SlowSubscriberIsDroppedWhileOthersGetEverything) {
    EventHub hub(4, 1h);
    RecordingWriter fast(io_);
    RecordingWriter slow(io_, true);  // never gets past its first write
    bool fast_done = false;
    bool slow_done = false;
    serve(hub, fast, fast_done);
    serve(hub, slow, slow_done);
    settle();
    for (int i = 0; i < 5; ++i) {  // the fifth finds the slow queue full
        hub.publish("outcomes", std::to_string(i));
        settle();  // the fast one drains its queue
    }

    EXPECT_EQ(hub.dropped(), 1u);
    EXPECT_EQ(fast.events("outcomes").size(), 5u);
    slow.release();
    settle();
    EXPECT_TRUE(slow_done);
    EXPECT_EQ(slow.chunks, std::vector<std::string>{greeting});  // nothing queued is sent
    EXPECT_EQ(hub.clients(), 1u);
    EXPECT_FALSE(fast_done);
    hub.close();
    settle();
    EXPECT_TRUE(fast_done);
}

TEST_F(EventHubTest, DroppedSubscriberHoldsNoMoreEventsAndIsCountedOnce) {
    EventHub hub(2, 1h);
    RecordingWriter slow(io_, true);
    bool slow_done = false;
    serve(hub, slow, slow_done);
    settle();
    for (int i = 0; i < 1000; ++i) {
        hub.publish("outcomes", std::string(1000, 'x'));
    }
    slow.release();
    settle();

    EXPECT_EQ(hub.dropped(), 1u);
    EXPECT_TRUE(slow_done);
    EXPECT_EQ(slow.chunks.size(), 1u);
    EXPECT_EQ(hub.clients(), 0u);
}

TEST_F(EventHubTest, OutcomesEventCountsTheCallsOfEachPeriod) {
    testing::FakeClock clock;
    BreakerBoard board(clock);
    EventHub hub(64, 1h);
    RecordingWriter writer(io_);
    bool done = false;
    serve(hub, writer, done);
    net::co_spawn(io_, publish_outcomes(hub, board, 1ms), net::detached);
    settle();
    using Kind = lab::CallRecord::Kind;
    board.record({"a", Kind::permitted, breaker::Outcome::success, "ok"});
    board.record({"a", Kind::permitted, breaker::Outcome::success, "ok"});
    board.record({"a", Kind::permitted, breaker::Outcome::failure, "timeout"});
    board.record({"a", Kind::rejected, breaker::Outcome::ignored, "rejected"});
    board.record({"a", Kind::bypassed, breaker::Outcome::success, "ok"});
    // Each period ends on a timer: run until three have been published (bounded).
    const auto give_up = std::chrono::steady_clock::now() + 10s;
    while (writer.events("outcomes").size() < 3 && std::chrono::steady_clock::now() < give_up) {
        io_.restart();
        io_.run_one_for(100ms);
    }
    hub.close();
    io_.restart();
    io_.run_for(1s);

    // Per period, not since start: summed over the periods, each call counts once.
    const auto outcomes = writer.events("outcomes");
    ASSERT_GE(outcomes.size(), 3u);
    nlohmann::json sum{{"success", 0}, {"failure", 0}, {"rejected", 0}, {"bypassed", 0}};
    for (const std::string& data : outcomes) {
        const auto counts = nlohmann::json::parse(data);
        ASSERT_EQ(counts.size(), 4u) << data;
        for (auto& [kind, total] : sum.items()) {
            total = total.get<int>() + counts.at(kind).get<int>();
        }
    }
    EXPECT_EQ(sum, nlohmann::json::parse(R"({"success":2,"failure":1,"rejected":1,"bypassed":1})"));
    EXPECT_TRUE(done);
}

}  // namespace
}  // namespace circuitlab::ops
