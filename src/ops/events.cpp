#include "circuitlab/ops/events.hpp"

#include <algorithm>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

namespace circuitlab::ops {

namespace net = boost::asio;

namespace {

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

std::string frame(std::string_view event, std::string_view data) {
    std::string text = "event: ";
    text += event;
    text += "\ndata: ";
    text += data;
    text += "\n\n";
    return text;
}

}  // namespace

/// One client's queue and its wake-up timer; the timer is touched on its strand only.
struct EventHub::Client {
    explicit Client(const net::any_io_executor& executor) : wake(executor) {}

    std::mutex mutex;  // Guards the queue and the flags.
    std::deque<std::shared_ptr<const std::string>> queue;
    bool dropped = false;
    bool closed = false;
    net::steady_timer wake;

    void poke(const std::shared_ptr<Client>& self) {
        net::post(wake.get_executor(), [self] { self->wake.cancel(); });
    }
};

EventHub::EventHub(std::size_t max_queued, std::chrono::milliseconds heartbeat)
    : max_queued_(max_queued), heartbeat_(heartbeat) {}

void EventHub::publish(std::string_view event, const std::string& data) {
    auto text = std::make_shared<const std::string>(frame(event, data));
    std::lock_guard lock(mutex_);
    for (const auto& client : clients_) {
        {
            std::lock_guard client_lock(client->mutex);
            if (client->dropped) {
                continue;
            }
            if (client->queue.size() >= max_queued_) {
                client->dropped = true;
                client->queue.clear();
                ++dropped_;
            } else {
                client->queue.push_back(text);
            }
        }
        client->poke(client);
    }
}

std::shared_ptr<EventHub::Client> EventHub::subscribe(const net::any_io_executor& executor) {
    auto client = std::make_shared<Client>(executor);
    std::lock_guard lock(mutex_);
    if (closed_) {
        return nullptr;
    }
    clients_.push_back(client);
    return client;
}

void EventHub::unsubscribe(const std::shared_ptr<Client>& client) {
    std::lock_guard lock(mutex_);
    std::erase(clients_, client);
}

std::size_t EventHub::clients() const {
    std::lock_guard lock(mutex_);
    return clients_.size();
}

void EventHub::close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    for (const auto& client : clients_) {
        {
            std::lock_guard client_lock(client->mutex);
            client->closed = true;
        }
        client->poke(client);
    }
}

net::awaitable<void> EventHub::serve(http::StreamWriter& writer) {
    auto client = subscribe(co_await net::this_coro::executor);
    if (!client) {
        co_return;
    }
    bool alive = co_await writer.write("retry: 2000\n: connected\n\n");
    while (alive) {
        std::deque<std::shared_ptr<const std::string>> batch;
        {
            std::lock_guard lock(client->mutex);
            if (client->dropped || client->closed) {
                break;
            }
            batch.swap(client->queue);
        }
        for (const auto& text : batch) {
            alive = alive && co_await writer.write(*text);
        }
        if (!batch.empty()) {
            continue;
        }

        client->wake.expires_after(heartbeat_);
        auto [ec] = co_await client->wake.async_wait(use_tuple);
        const auto cancelled = (co_await net::this_coro::cancellation_state).cancelled();
        if (cancelled != net::cancellation_type::none) {
            break;  // The connection is being closed by force.
        }
        if (!ec) {
            alive = co_await writer.write(": keep-alive\n\n");
        }
    }
    unsubscribe(client);
}

net::awaitable<void> publish_outcomes(EventHub& hub,
                                      const BreakerBoard& board,
                                      std::chrono::milliseconds period) {
    net::steady_timer timer(co_await net::this_coro::executor);
    OutcomeTotals last = board.totals();
    auto next = std::chrono::steady_clock::now();
    while (!hub.closed()) {
        next += period;
        timer.expires_at(next);
        auto [ec] = co_await timer.async_wait(use_tuple);
        if (ec || hub.closed()) {
            co_return;
        }
        const OutcomeTotals now = board.totals();
        const nlohmann::json counts{{"success", now.success - last.success},
                                    {"failure", now.failure - last.failure},
                                    {"rejected", now.rejected - last.rejected},
                                    {"bypassed", now.bypassed - last.bypassed}};
        last = now;
        if (hub.clients() > 0) {
            hub.publish("outcomes", counts.dump());
        }
    }
}

}  // namespace circuitlab::ops
