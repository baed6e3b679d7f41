#include "circuitlab/lab/backline_scenarios.hpp"

#include <array>
#include <charconv>
#include <chrono>
#include <ctime>
#include <iterator>
#include <random>
#include <string>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "circuitlab/lab/deadline.hpp"

namespace circuitlab::lab {

namespace {

namespace net = boost::asio;
namespace bhttp = boost::beast::http;

// The simulated wait ends this long after the caller's budget: by then the caller has
// surely given up, so it sees its own timeout rather than a race with our 504.
constexpr std::chrono::milliseconds caller_gone_grace{50};

constexpr std::array<const char*, 10> summaries{
    "Freezing",
    "Bracing",
    "Chilly",
    "Cool",
    "Mild",
    "Warm",
    "Balmy",
    "Hot",
    "Sweltering",
    "Scorching",
};

std::mt19937_64& random_engine() {
    thread_local std::mt19937_64 engine{std::random_device{}()};
    return engine;
}

bool chance(double probability) {
    return std::bernoulli_distribution{probability}(random_engine());
}

std::string day_text(std::time_t when) {
    std::tm local{};
    localtime_r(&when, &local);
    char text[16];
    std::strftime(text, sizeof text, "%d/%m/%Y", &local);
    return text;
}

/// The dates of the next five days, worked out again only when the second changes.
const std::array<std::string, 5>& next_days(std::time_t now) {
    thread_local std::time_t cached_at = -1;
    thread_local std::array<std::string, 5> days;
    if (now != cached_at) {
        for (std::size_t day = 0; day < days.size(); ++day) {
            days[day] = day_text(now + static_cast<std::time_t>(day + 1) * 86'400);
        }
        cached_at = now;
    }
    return days;
}

void append_int(std::string& out, int value) {
    char digits[16];
    const auto end = std::to_chars(std::begin(digits), std::end(digits), value).ptr;
    out.append(digits, end);
}

http::Response failed(unsigned version) {
    return http::json_response(
        bhttp::status::internal_server_error, R"({"error":"downstream failed"})", version);
}

http::Response forecast(unsigned version) {
    return http::json_response(bhttp::status::ok, forecast_json(), version);
}

}  // namespace

// Written by hand rather than through nlohmann::json: it is backline's whole work on the
// hot path. Keys in the order nlohmann::json would print them; no value needs escaping.
std::string forecast_json() {
    std::uniform_int_distribution<int> temperature(-20, 55);
    std::uniform_int_distribution<std::size_t> summary(0, summaries.size() - 1);
    const auto& days = next_days(std::time(nullptr));

    std::string out;
    out.reserve(320);
    out += '[';
    for (const std::string& date : days) {
        out += out.size() > 1 ? ",{\"date\":\"" : "{\"date\":\"";
        out += date;
        out += "\",\"summary\":\"";
        out += summaries[summary(random_engine())];
        out += "\",\"temperatureC\":";
        append_int(out, temperature(random_engine()));
        out += '}';
    }
    out += ']';
    return out;
}

net::awaitable<http::Response> Backline::success(const http::RequestContext& context) {
    co_return forecast(context.request.version());
}

net::awaitable<http::Response> Backline::timeout(const http::RequestContext& context) {
    const Chaos chaos = this->chaos();  // One consistent set for the whole request.
    const auto now = std::chrono::steady_clock::now();
    const auto deadline = request_deadline(context.request, now, -caller_gone_grace);
    if (chance(chaos.slow_rate) && chaos.sleep.count() > 0) {
        // Nobody waits for an answer past the caller's deadline: stop working there.
        const bool cut = deadline && *deadline < now + chaos.sleep;
        net::steady_timer timer(co_await net::this_coro::executor);
        timer.expires_at(cut ? *deadline : now + chaos.sleep);
        // Cancelled at shutdown: answer anyway, the client may still be waiting.
        co_await timer.async_wait(net::as_tuple(net::use_awaitable));
        if (cut) {
            co_return deadline_answer("backline", context.request.version());
        }
    }
    if (chance(chaos.fail_rate)) {
        co_return failed(context.request.version());
    }
    co_return forecast(context.request.version());
}

net::awaitable<http::Response> Backline::mustfail(const http::RequestContext& context) {
    co_return failed(context.request.version());
}

Chaos Backline::chaos() const {
    std::lock_guard lock(mutex_);
    return chaos_;
}

void Backline::set_chaos(const Chaos& chaos) {
    std::lock_guard lock(mutex_);
    chaos_ = chaos;
}

}  // namespace circuitlab::lab
