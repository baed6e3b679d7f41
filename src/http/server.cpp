#include "circuitlab/http/server.hpp"

#include <cstdint>
#include <random>
#include <sstream>
#include <system_error>
#include <utility>

#include <spdlog/fmt/fmt.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "server_impl.hpp"
#include "session.hpp"

namespace circuitlab::http {

namespace {

namespace beast = boost::beast;
namespace net = boost::asio;

using tcp = net::ip::tcp;

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

/// Pause after a failed accept (out of descriptors): retrying at once would spin.
constexpr std::chrono::milliseconds accept_backoff{50};

/// Longest accepted X-Request-ID.
constexpr std::size_t max_request_id = 128;

// The coroutines take their owner by value: a coroutine starts later, when the executor
// runs it, and its frame must keep the owner alive until then.
net::awaitable<void> run_session(std::shared_ptr<Session> session) {
    co_await session->run();
}

net::awaitable<void> run_acceptor(std::shared_ptr<Server::Impl> impl) {
    co_await impl->accept_loop();
}

std::string describe(const tcp::endpoint& endpoint) {
    std::ostringstream out;
    out << endpoint;
    return out.str();
}

void bind_and_listen(tcp::acceptor& acceptor, const tcp::endpoint& endpoint) {
    beast::error_code ec;
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) {
        acceptor.set_option(net::socket_base::reuse_address(true), ec);
    }
    if (!ec) {
        acceptor.bind(endpoint, ec);
    }
    if (!ec) {
        acceptor.listen(net::socket_base::max_listen_connections, ec);
    }
    if (ec) {
        throw std::system_error(std::error_code(ec), "listen on " + describe(endpoint));
    }
}

}  // namespace

Server::Impl::Impl(net::io_context& io, const Router& router, ServerOptions options)
    : io(io),
      router(router),
      options(std::move(options)),
      strand(net::make_strand(io)),
      acceptor(strand),
      grace_timer_(strand) {}

net::awaitable<void> Server::Impl::accept_loop() {
    net::steady_timer backoff(strand);
    while (!stopping_) {
        const net::any_io_executor session_strand = net::make_strand(io);
        auto [ec, socket] = co_await acceptor.async_accept(session_strand, use_tuple);
        if (stopping_ || ec == net::error::operation_aborted) {
            co_return;
        }
        if (!ec) {
            admit(std::move(socket));
            continue;
        }

        if (options.log) {
            options.log->warn("accept failed: {}", ec.message());
        }
        backoff.expires_after(accept_backoff);
        co_await backoff.async_wait(use_tuple);
    }
}

void Server::Impl::admit(tcp::socket socket) {
    if (open_connections.load() >= options.max_connections) {
        beast::error_code ignored;
        socket.close(ignored);
        return;
    }

    ++open_connections;
    auto session = std::make_shared<Session>(shared_from_this(), std::move(socket));
    {
        std::lock_guard lock(sessions_mutex_);
        sessions_.emplace(session.get(), session);
    }

    auto slot = session->cancellation_slot();
    net::co_spawn(session->executor(),
                  run_session(session),
                  net::bind_cancellation_slot(slot, net::detached));
}

void Server::Impl::begin_shutdown(std::chrono::milliseconds grace, std::function<void()> done) {
    if (finished_) {
        if (done) {
            done();
        }
        return;
    }
    if (done) {
        done_.push_back(std::move(done));
    }
    if (stopping_.exchange(true)) {
        return;
    }

    beast::error_code ignored;
    acceptor.close(ignored);
    for_each_session(&Session::stop);

    grace_timer_.expires_after(grace);
    grace_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
        if (!ec) {
            self->for_each_session(&Session::force_close);
        }
    });
    maybe_finish();
}

void Server::Impl::abort() {
    net::post(strand, [self = shared_from_this()] {
        self->stopping_ = true;
        beast::error_code ignored;
        self->acceptor.close(ignored);
        self->for_each_session(&Session::force_close);
    });
}

void Server::Impl::session_ended(Session* session) {
    {
        std::lock_guard lock(sessions_mutex_);
        sessions_.erase(session);
    }
    --open_connections;
    maybe_finish();
}

void Server::Impl::for_each_session(void (Session::*action)()) {
    std::vector<std::shared_ptr<Session>> alive;
    {
        std::lock_guard lock(sessions_mutex_);
        for (const auto& entry : sessions_) {
            if (auto session = entry.second.lock()) {
                alive.push_back(std::move(session));
            }
        }
    }

    for (const auto& session : alive) {
        ((*session).*action)();
    }
}

void Server::Impl::maybe_finish() {
    // Sessions end on their own strands while shutdown runs on ours: whoever sees the last
    // connection gone first wins the exchange and finishes, once.
    if (!stopping_ || open_connections.load() != 0 || finishing_.exchange(true)) {
        return;
    }
    net::post(strand, [self = shared_from_this()] { self->finish(); });
}

void Server::Impl::finish() {
    finished_ = true;
    grace_timer_.cancel();
    auto callbacks = std::exchange(done_, {});
    for (auto& callback : callbacks) {
        callback();
    }
}

Server::Server(net::io_context& io, const Router& router, ServerOptions options)
    : impl_(std::make_shared<Impl>(io, router, std::move(options))) {}

Server::~Server() {
    impl_->abort();
}

void Server::listen(const tcp::endpoint& endpoint) {
    bind_and_listen(impl_->acceptor, endpoint);
    impl_->bound = impl_->acceptor.local_endpoint();
}

tcp::endpoint Server::local_endpoint() const {
    return impl_->bound;
}

void Server::start() {
    net::co_spawn(impl_->strand, run_acceptor(impl_), net::detached);
}

void Server::shutdown(std::chrono::milliseconds grace, std::function<void()> done) {
    net::post(impl_->strand, [impl = impl_, grace, done = std::move(done)]() mutable {
        impl->begin_shutdown(grace, std::move(done));
    });
}

std::size_t Server::active_requests() const {
    return impl_->active_requests.load();
}

std::size_t Server::open_connections() const {
    return impl_->open_connections.load();
}

std::string make_request_id() {
    thread_local std::mt19937_64 engine{[] {
        std::random_device device;
        return (std::uint64_t{device()} << 32) ^ device();
    }()};
    return fmt::format("{:016x}", engine());
}

std::string sanitize_request_id(std::string_view id) {
    if (id.empty() || id.size() > max_request_id) {
        return {};
    }
    for (const char c : id) {
        if (c < 0x21 || c > 0x7e) {
            return {};
        }
    }
    return std::string(id);
}

}  // namespace circuitlab::http
