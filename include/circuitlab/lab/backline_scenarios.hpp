#pragma once

#include <chrono>
#include <mutex>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "circuitlab/http/router.hpp"

namespace circuitlab::lab {

/// The settings that make backline misbehave.
struct Chaos {
    double fail_rate = 0.7;  ///< Chance of a 500 on timeout-request.
    double slow_rate = 0.7;  ///< Chance of waiting `sleep` first.
    std::chrono::milliseconds sleep{1000};
};

/// A 5-day forecast as a JSON list of {date (dd/mm/YYYY), temperatureC, summary},
/// starting tomorrow, with random temperatures. Thread-safe.
std::string forecast_json();

/// The three scenarios of backline. Delays are timers: no thread ever blocks.
class Backline {
  public:
    explicit Backline(Chaos chaos) : chaos_(chaos) {}

    /// 200 with the forecast.
    boost::asio::awaitable<http::Response> success(const http::RequestContext& context);

    /// With chance slow_rate waits `sleep`; then with chance fail_rate answers 500
    /// `{"error":"downstream failed"}`; else the forecast. A wait that would outlast the
    /// caller's X-Request-Deadline-Ms budget stops 50 ms after the budget ends (the caller has
    /// given up by then and sees its own timeout) and answers 504 `reason: deadline`.
    boost::asio::awaitable<http::Response> timeout(const http::RequestContext& context);

    /// Always 500 `{"error":"downstream failed"}`.
    boost::asio::awaitable<http::Response> mustfail(const http::RequestContext& context);

    /// The settings now. Thread-safe.
    Chaos chaos() const;

    /// Replaces all three settings at once; requests that already started keep the old
    /// ones. The caller validates them. Thread-safe.
    void set_chaos(const Chaos& chaos);

  private:
    mutable std::mutex mutex_;
    Chaos chaos_;
};

}  // namespace circuitlab::lab
