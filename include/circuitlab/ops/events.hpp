#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "circuitlab/http/router.hpp"
#include "circuitlab/ops/breaker_board.hpp"

namespace circuitlab::ops {

/// Fans Server-Sent Events out to the clients of `/api/events`. Publishing never blocks:
/// each client has a bounded queue, and a client whose queue is full (a slow reader) is
/// dropped rather than allowed to grow memory. Thread-safe.
class EventHub {
  public:
    /// At most `max_queued` events wait for one client; `heartbeat` is the idle time after
    /// which a comment line keeps proxies from closing the stream.
    explicit EventHub(std::size_t max_queued = 256,
                      std::chrono::milliseconds heartbeat = std::chrono::seconds(15));

    /// Sends `event: <event>` with one `data:` line (JSON, no newlines) to every client.
    void publish(std::string_view event, const std::string& data);

    /// Serves one client until it goes away, is dropped, or the hub closes. Runs on the
    /// connection's strand; never blocks a thread.
    boost::asio::awaitable<void> serve(http::StreamWriter& writer);

    /// Ends every stream and refuses new ones (shutdown). Idempotent.
    void close();

    /// Whether close was called.
    bool closed() const { return closed_.load(); }

    /// Clients streaming now.
    std::size_t clients() const;

    /// Clients dropped for reading too slowly, since start.
    std::uint64_t dropped() const { return dropped_.load(); }

    struct Client;

  private:
    std::shared_ptr<Client> subscribe(const boost::asio::any_io_executor& executor);
    void unsubscribe(const std::shared_ptr<Client>& client);

    const std::size_t max_queued_;
    const std::chrono::milliseconds heartbeat_;
    mutable std::mutex mutex_;
    std::vector<std::shared_ptr<Client>> clients_;
    std::atomic<bool> closed_{false};
    std::atomic<std::uint64_t> dropped_{0};
};

/// Publishes an `outcomes` event every `period` (one second for `/api/events`), with the
/// calls of that period by how they ended:
/// `{"success":..,"failure":..,"rejected":..,"bypassed":..}`, while clients listen, until the
/// hub closes. Spawn it on the io_context.
boost::asio::awaitable<void> publish_outcomes(
    EventHub& hub,
    const BreakerBoard& board,
    std::chrono::milliseconds period = std::chrono::seconds(1));

}  // namespace circuitlab::ops
