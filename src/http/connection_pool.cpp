#include "connection_pool.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <utility>

#include <boost/asio/experimental/concurrent_channel.hpp>

#include "deadline.hpp"

namespace circuitlab::http {

namespace {

namespace net = boost::asio;

/// True when an idle socket still looks usable: the peer has neither closed it nor sent
/// bytes nobody asked for. Catches most stale connections before a request is wasted on
/// them; the retry in the client catches the rest.
bool looks_alive(net::ip::tcp::socket& socket) {
    char byte = 0;
    const auto received = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return received < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace

/// A checkout waiting in line for a slot. The channel is thread-safe and keeps a wake-up
/// sent before the waiter started listening, so none is lost.
struct PoolWaiter {
    explicit PoolWaiter(const net::any_io_executor& executor) : wakeup(executor, 1) {}

    net::experimental::concurrent_channel<void(boost::system::error_code)> wakeup;
    bool notified = false;  ///< Guarded by the pool mutex.
};

/// The pool of one upstream authority.
struct PoolGroup {
    std::deque<ConnectionPtr> idle;  ///< Oldest first.
    std::size_t open = 0;            ///< Slots taken: idle plus leased.
    std::deque<std::shared_ptr<PoolWaiter>> waiters;
};

/// What try_take found: a checkout (a lease or an error), or a place in line.
struct ConnectionPool::Take {
    Checkout checkout;
    std::shared_ptr<PoolWaiter> waiter;
};

namespace {

/// Takes the first waiter out of line and marks it woken. Call with the pool mutex held.
std::shared_ptr<PoolWaiter> pop_waiter(PoolGroup& group) {
    if (group.waiters.empty()) {
        return nullptr;
    }

    auto waiter = std::move(group.waiters.front());
    group.waiters.pop_front();
    waiter->notified = true;
    return waiter;
}

/// Wakes a waiter popped by pop_waiter. Call without the pool mutex.
void wake(const std::shared_ptr<PoolWaiter>& waiter) {
    if (waiter) {
        waiter->wakeup.try_send(boost::system::error_code{});
    }
}

}  // namespace

Lease::Lease(std::shared_ptr<ConnectionPool> pool, PoolGroup* group, ConnectionPtr connection)
    : pool_(std::move(pool)),
      group_(group),
      connection_(std::move(connection)),
      reused_(connection_ != nullptr) {}

Lease::Lease(Lease&& other) noexcept
    : pool_(std::move(other.pool_)),
      group_(std::exchange(other.group_, nullptr)),
      connection_(std::move(other.connection_)),
      reused_(other.reused_) {}

Lease& Lease::operator=(Lease&& other) noexcept {
    if (this != &other) {
        if (valid()) {
            release(false);
        }
        pool_ = std::move(other.pool_);
        group_ = std::exchange(other.group_, nullptr);
        connection_ = std::move(other.connection_);
        reused_ = other.reused_;
    }
    return *this;
}

Lease::~Lease() {
    if (valid()) {
        release(false);
    }
}

void Lease::give_back() {
    if (valid()) {
        release(true);
    }
}

void Lease::release(bool reusable) {
    auto pool = std::move(pool_);
    pool->release(*std::exchange(group_, nullptr), std::move(connection_), reusable);
}

ConnectionPool::ConnectionPool(ClientOptions options) : options_(options) {}

ConnectionPool::~ConnectionPool() = default;

net::awaitable<Checkout> ConnectionPool::checkout(const std::string& authority,
                                                  SteadyClock::time_point deadline,
                                                  net::steady_timer& timer,
                                                  bool fresh) {
    PoolGroup& group = group_for(authority);
    for (;;) {
        Take take = try_take(group, timer.get_executor(), fresh);
        if (take.waiter) {
            const CallError woken = co_await wait(group, *take.waiter, deadline, timer);
            if (woken != CallError::none) {
                co_return Checkout{Lease{}, woken};
            }
            continue;
        }

        // A dead idle connection is dropped (closed, slot freed) and the next one tried.
        Lease& lease = take.checkout.lease;
        if (lease.reused() && !looks_alive(lease.connection()->socket)) {
            continue;
        }
        reused_ += lease.reused() ? 1 : 0;
        co_return std::move(take.checkout);
    }
}

void ConnectionPool::close() {
    std::vector<ConnectionPtr> idle;
    std::vector<std::shared_ptr<PoolWaiter>> waiting;
    {
        std::lock_guard lock(mutex_);
        closed_ = true;
        for (auto& entry : groups_) {
            PoolGroup& group = *entry.second;
            group.open -= group.idle.size();
            std::move(group.idle.begin(), group.idle.end(), std::back_inserter(idle));
            group.idle.clear();
            while (auto waiter = pop_waiter(group)) {
                waiting.push_back(std::move(waiter));
            }
        }
    }

    for (const auto& waiter : waiting) {
        wake(waiter);
    }
}

PoolGroup& ConnectionPool::group_for(const std::string& authority) {
    std::lock_guard lock(mutex_);
    auto& group = groups_[authority];
    if (!group) {
        group = std::make_unique<PoolGroup>();
    }
    return *group;
}

ConnectionPool::Take ConnectionPool::try_take(PoolGroup& group,
                                              const net::any_io_executor& executor,
                                              bool fresh) {
    std::vector<ConnectionPtr> expired;  // Closed after the lock is released.
    std::lock_guard lock(mutex_);
    Take take;
    if (closed_) {
        take.checkout.error = CallError::cancelled;
        return take;
    }

    drop_expired(group, expired);
    if (!group.idle.empty()) {
        ConnectionPtr connection = std::move(group.idle.back());
        group.idle.pop_back();
        if (fresh) {
            expired.push_back(std::move(connection));  // Its slot is reused, not the socket.
        }
        take.checkout.lease = Lease(shared_from_this(), &group, std::move(connection));
    } else if (group.open < options_.max_connections) {
        ++group.open;
        take.checkout.lease = Lease(shared_from_this(), &group, nullptr);
    } else {
        take.waiter = std::make_shared<PoolWaiter>(executor);
        group.waiters.push_back(take.waiter);
    }
    return take;
}

void ConnectionPool::drop_expired(PoolGroup& group, std::vector<ConnectionPtr>& expired) {
    const auto now = SteadyClock::now();
    while (!group.idle.empty() && now - group.idle.front()->idle_since >= options_.idle_timeout) {
        expired.push_back(std::move(group.idle.front()));
        group.idle.pop_front();
        --group.open;
    }
}

net::awaitable<CallError> ConnectionPool::wait(PoolGroup& group,
                                               PoolWaiter& waiter,
                                               SteadyClock::time_point deadline,
                                               net::steady_timer& timer) {
    using namespace net::experimental::awaitable_operators;
    timer.expires_at(deadline);
    auto winner = co_await (waiter.wakeup.async_receive(detail::use_tuple) ||
                            timer.async_wait(detail::use_tuple));

    CallError outcome = CallError::none;
    if (winner.index() == 1) {
        outcome = std::get<0>(std::get<1>(winner)) ? CallError::cancelled : CallError::timeout;
    } else if (std::get<0>(std::get<0>(winner))) {
        outcome = CallError::cancelled;
    }
    leave_line(group, waiter, outcome != CallError::none);
    co_return outcome;
}

void ConnectionPool::leave_line(PoolGroup& group, PoolWaiter& waiter, bool giving_up) {
    std::shared_ptr<PoolWaiter> next;
    {
        std::lock_guard lock(mutex_);
        auto& line = group.waiters;
        line.erase(std::remove_if(line.begin(),
                                  line.end(),
                                  [&](const auto& queued) { return queued.get() == &waiter; }),
                   line.end());
        // A wake-up that came too late must not be lost: hand it to the next in line.
        if (giving_up && waiter.notified) {
            next = pop_waiter(group);
        }
    }
    wake(next);
}

void ConnectionPool::release(PoolGroup& group, ConnectionPtr connection, bool reusable) {
    std::shared_ptr<PoolWaiter> next;
    {
        std::lock_guard lock(mutex_);
        const bool keep =
            reusable && connection && !closed_ && group.idle.size() < options_.max_idle;
        if (keep) {
            connection->idle_since = SteadyClock::now();
            group.idle.push_back(std::move(connection));
        } else {
            --group.open;
        }
        next = pop_waiter(group);
    }
    wake(next);
}

}  // namespace circuitlab::http
