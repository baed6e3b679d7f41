#include "circuitlab/lab/backline_scenarios.hpp"

#include <array>
#include <chrono>
#include <ctime>
#include <random>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

namespace circuitlab::lab {

namespace {

namespace net = boost::asio;
namespace bhttp = boost::beast::http;

constexpr std::array<const char*, 10> summaries{
    "Freezing", "Bracing", "Chilly", "Cool", "Mild",
    "Warm", "Balmy", "Hot", "Sweltering", "Scorching",
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

http::Response failed(unsigned version) {
    return http::json_response(bhttp::status::internal_server_error,
                               R"({"error":"downstream failed"})", version);
}

http::Response forecast(unsigned version) {
    return http::json_response(bhttp::status::ok, forecast_json(), version);
}

}  // namespace

std::string forecast_json() {
    std::uniform_int_distribution<int> temperature(-20, 55);
    std::uniform_int_distribution<std::size_t> summary(0, summaries.size() - 1);
    const std::time_t now = std::time(nullptr);

    nlohmann::json days = nlohmann::json::array();
    for (int day = 1; day <= 5; ++day) {
        days.push_back({{"date", day_text(now + day * 86'400)},
                        {"temperatureC", temperature(random_engine())},
                        {"summary", summaries[summary(random_engine())]}});
    }
    return days.dump();
}

net::awaitable<http::Response> Backline::success(const http::RequestContext& context) {
    co_return forecast(context.request.version());
}

net::awaitable<http::Response> Backline::timeout(const http::RequestContext& context) {
    if (chance(chaos_.slow_rate) && chaos_.sleep.count() > 0) {
        net::steady_timer timer(co_await net::this_coro::executor, chaos_.sleep);
        // Cancelled at shutdown: answer anyway, the client may still be waiting.
        co_await timer.async_wait(net::as_tuple(net::use_awaitable));
    }
    if (chance(chaos_.fail_rate)) {
        co_return failed(context.request.version());
    }
    co_return forecast(context.request.version());
}

net::awaitable<http::Response> Backline::mustfail(const http::RequestContext& context) {
    co_return failed(context.request.version());
}

}  // namespace circuitlab::lab
