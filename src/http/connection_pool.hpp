#pragma once

// Internal to circuitlab_http: the idle connections and connection slots of a Client.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "circuitlab/http/client.hpp"

namespace circuitlab::http {

using SteadyClock = std::chrono::steady_clock;

/// One connection to an upstream and when it last went idle.
struct PooledConnection {
    explicit PooledConnection(boost::asio::ip::tcp::socket connected)
        : socket(std::move(connected)) {}

    boost::asio::ip::tcp::socket socket;
    SteadyClock::time_point idle_since{};
};

using ConnectionPtr = std::unique_ptr<PooledConnection>;

class ConnectionPool;
struct PoolGroup;
struct PoolWaiter;

/// One connection slot of an upstream, held by one call: with an idle connection taken from
/// the pool, or empty when the caller still has to connect. Destroying a lease closes its
/// connection and frees the slot; `give_back` keeps the connection for the next call.
class Lease {
  public:
    Lease() = default;
    Lease(std::shared_ptr<ConnectionPool> pool, PoolGroup* group, ConnectionPtr connection);
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    ~Lease();

    /// True when the lease holds a slot.
    bool valid() const { return pool_ != nullptr; }

    /// True when the connection came from the pool rather than from `attach`.
    bool reused() const { return reused_; }

    /// The connection, or null before `attach`.
    PooledConnection* connection() const { return connection_.get(); }

    /// Puts a freshly connected socket in the slot.
    void attach(ConnectionPtr connection) { connection_ = std::move(connection); }

    /// Returns the connection to the pool as idle; the lease is empty afterwards.
    void give_back();

  private:
    void release(bool reusable);

    std::shared_ptr<ConnectionPool> pool_;
    PoolGroup* group_ = nullptr;
    ConnectionPtr connection_;
    bool reused_ = false;
};

/// What a checkout got: a lease, or why there is none (timeout or cancelled).
struct Checkout {
    Lease lease;
    CallError error = CallError::none;
};

/// Idle connections and slot counts per upstream authority. At most `max_connections`
/// slots per upstream exist at once; a checkout past that waits in line for a slot.
///
/// Thread-safety: every member may be called from any thread; one mutex guards the
/// bookkeeping and is never held across I/O or while waking a waiter.
class ConnectionPool : public std::enable_shared_from_this<ConnectionPool> {
  public:
    explicit ConnectionPool(ClientOptions options);
    ~ConnectionPool();

    /// Takes the most recently idle connection of `authority`, or a free slot to connect
    /// on, waiting for one until `deadline`. With `fresh`, an idle connection is closed and
    /// only its slot is handed out. `timer` belongs to the caller's executor.
    boost::asio::awaitable<Checkout> checkout(const std::string& authority,
                                              SteadyClock::time_point deadline,
                                              boost::asio::steady_timer& timer,
                                              bool fresh);

    /// Closes every idle connection and fails waiting checkouts; later checkouts fail.
    void close();

    /// Checkouts served by an idle connection so far.
    std::uint64_t reused() const { return reused_.load(); }

  private:
    friend class Lease;
    struct Take;

    PoolGroup& group_for(const std::string& authority);
    Take try_take(PoolGroup& group, const boost::asio::any_io_executor& executor, bool fresh);
    void drop_expired(PoolGroup& group, std::vector<ConnectionPtr>& expired);
    boost::asio::awaitable<CallError> wait(PoolGroup& group,
                                           PoolWaiter& waiter,
                                           SteadyClock::time_point deadline,
                                           boost::asio::steady_timer& timer);
    void leave_line(PoolGroup& group, PoolWaiter& waiter, bool giving_up);
    void release(PoolGroup& group, ConnectionPtr connection, bool reusable);

    const ClientOptions options_;
    std::atomic<std::uint64_t> reused_{0};

    std::mutex mutex_;
    bool closed_ = false;
    std::unordered_map<std::string, std::unique_ptr<PoolGroup>> groups_;
};

}  // namespace circuitlab::http
