#include "circuitlab/lab/guarded_call.hpp"

#include <utility>
#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "circuitlab/http/log_line.hpp"
#include "circuitlab/http/query.hpp"
#include "circuitlab/lab/answers.hpp"
#include "circuitlab/lab/deadline.hpp"

namespace circuitlab::lab {

namespace {

namespace net = boost::asio;
using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

std::string outcome_text(const http::CallResult& result) {
    if (result.error == http::CallError::none) {
        return std::to_string(result.response->result_int());
    }
    return std::string(http::to_string(result.error));
}

}  // namespace

std::optional<bool> parse_bypass(const http::RequestContext& context) {
    const std::string* value = context.query_value(bypass_param);
    if (value == nullptr) {
        return false;
    }
    for (std::string_view yes : {"1", "true", "yes", "on"}) {
        if (*value == yes) {
            return true;
        }
    }
    for (std::string_view no : {"0", "false", "no", "off"}) {
        if (*value == no) {
            return false;
        }
    }
    return std::nullopt;
}

GuardedCall::GuardedCall(http::Client& client, HopOptions options)
    : client_(client),
      options_(std::move(options)),
      load_(options_.max_concurrent, options_.retry) {}

net::awaitable<http::Response> GuardedCall::call(const http::RequestContext& context,
                                                 breaker::CircuitBreaker& breaker,
                                                 bool bypass) {
    const Deadline deadline =
        request_deadline(context.request, SteadyClock::now(), options_.deadline_margin);
    HopLoad::Slot place = load_.enter();
    if (!place) {
        ++counters_.bulkhead_rejected;
        if (options_.log) {
            http::log_line(*options_.log,
                           spdlog::level::debug,
                           {.event = "bulkhead_full",
                            .request_id = context.request_id,
                            .fields = {{"hop", options_.name}, {"path", context.path}}},
                           fmt::format("bulkhead of {} full ({} in flight) {} id={}",
                                       options_.name,
                                       options_.max_concurrent,
                                       context.path,
                                       context.request_id));
        }
        co_return bulkhead_answer(
            options_.name, options_.max_concurrent, context.request.version());
    }
    if (bypass) {
        ++counters_.bypassed;
    }
    // TODO: a client that goes away does not cancel this call (the server does not watch
    // the connection while a handler waits); it would take a read on the idle socket that
    // emits the session's cancellation signal. The deadline header bounds the work meanwhile.
    co_return co_await attempts(context, breaker, bypass, deadline);
}

net::awaitable<http::Response> GuardedCall::attempts(const http::RequestContext& context,
                                                     breaker::CircuitBreaker& breaker,
                                                     bool bypass,
                                                     Deadline deadline) {
    const unsigned version = context.request.version();
    HopLoad::Slot retry_place;
    for (unsigned retry = 0;; ++retry) {
        const auto timeout = time_left(deadline);
        if (!timeout) {
            ++counters_.deadline_exceeded;
            co_return deadline_answer(options_.name, version);
        }
        const Attempt tried = co_await attempt(context, breaker, bypass, *timeout);
        retry_place = {};  // the retry just made is no longer in flight
        if (tried.rejection) {
            co_return rejected(context, breaker, *tried.rejection);
        }
        log_attempt(context, breaker, tried.result, retry + 1);

        if (!retryable(context, tried.result, retry)) {
            co_return relayed_answer(tried.result, version);
        }
        retry_place = load_.retry();
        if (!retry_place) {
            ++counters_.retries_denied;
            co_return relayed_answer(tried.result, version);
        }
        if (!co_await back_off(retry, deadline)) {
            co_return relayed_answer(tried.result, version);
        }
        ++counters_.retries;
    }
}

net::awaitable<GuardedCall::Attempt> GuardedCall::attempt(const http::RequestContext& context,
                                                          breaker::CircuitBreaker& breaker,
                                                          bool bypass,
                                                          milliseconds timeout) {
    Attempt tried;
    std::optional<breaker::Permit> permit;
    if (!bypass) {
        auto admission = breaker.try_acquire();
        if (auto* rejection = std::get_if<breaker::Rejection>(&admission)) {
            tried.rejection = *rejection;
            co_return tried;
        }
        permit.emplace(std::move(std::get<breaker::Permit>(admission)));
        ++counters_.permitted;
    }

    ++counters_.attempts;
    tried.result = co_await send(context, bypass, timeout);
    if (permit) {
        permit->complete(classify(tried.result, options_.policy));
    }
    if (tried.result.response && is_shed(*tried.result.response)) {
        ++counters_.shed;
    }
    record(
        breaker, bypass ? CallRecord::Kind::bypassed : CallRecord::Kind::permitted, &tried.result);
    co_return tried;
}

net::awaitable<http::CallResult> GuardedCall::send(const http::RequestContext& context,
                                                   bool bypass,
                                                   milliseconds timeout) {
    std::string target(context.path);
    if (bypass) {
        target += "?" + std::string(bypass_param) + "=1";
    }
    std::vector<std::pair<std::string, std::string>> headers;
    headers.emplace_back("X-Request-ID", context.request_id);
    headers.emplace_back(std::string(deadline_header), std::to_string(timeout.count()));
    co_return co_await client_.get(
        options_.upstream, std::move(target), std::move(headers), timeout);
}

net::awaitable<bool> GuardedCall::back_off(unsigned retry, Deadline deadline) {
    const milliseconds delay = backoff_delay(options_.retry, retry, random_draw());
    // A retry that could only start after the caller gave up is not worth waiting for.
    if (deadline && SteadyClock::now() + delay >= *deadline) {
        co_return false;
    }
    net::steady_timer timer(co_await net::this_coro::executor, delay);
    auto [ec] = co_await timer.async_wait(net::as_tuple(net::use_awaitable));
    co_return !ec;
}

bool GuardedCall::retryable(const http::RequestContext& context,
                            const http::CallResult& result,
                            unsigned retry) const {
    // Only an idempotent request may be sent twice; every route here is a GET.
    if (retry >= options_.retry.attempts ||
        context.request.method() != boost::beast::http::verb::get) {
        return false;
    }
    switch (result.error) {
        case http::CallError::connect:
        case http::CallError::reset:
        case http::CallError::timeout:
            return true;
        default:
            return false;
    }
}

std::optional<milliseconds> GuardedCall::time_left(Deadline deadline) const {
    if (!deadline) {
        return options_.timeout;
    }
    const auto left = std::chrono::duration_cast<milliseconds>(*deadline - SteadyClock::now());
    if (left.count() <= 0) {
        return std::nullopt;
    }
    return std::min(options_.timeout, left);
}

http::Response GuardedCall::rejected(const http::RequestContext& context,
                                     const breaker::CircuitBreaker& breaker,
                                     const breaker::Rejection& rejection) {
    ++counters_.rejected;
    record(breaker, CallRecord::Kind::rejected, nullptr);
    if (options_.log) {
        const auto state = breaker::to_string(rejection.state);
        http::log_line(*options_.log,
                       spdlog::level::debug,
                       {.event = "rejected",
                        .request_id = context.request_id,
                        .breaker = breaker.name(),
                        .fields = {{"state", state}, {"path", context.path}}},
                       fmt::format("rejected by {} ({}) {} id={}",
                                   breaker.name(),
                                   state,
                                   context.path,
                                   context.request_id));
    }
    return rejected_answer(breaker.name(), rejection, context.request.version());
}

void GuardedCall::log_attempt(const http::RequestContext& context,
                              const breaker::CircuitBreaker& breaker,
                              const http::CallResult& result,
                              unsigned number) const {
    if (!options_.log || !options_.log->should_log(spdlog::level::debug)) {
        return;
    }
    const auto took = std::chrono::duration_cast<milliseconds>(result.elapsed).count();
    const std::string outcome = outcome_text(result);
    http::log_line(*options_.log,
                   spdlog::level::debug,
                   {.event = "attempt",
                    .request_id = context.request_id,
                    .breaker = breaker.name(),
                    .fields = {{"attempt", number}, {"outcome", outcome}, {"ms", took}}},
                   fmt::format("attempt {} of {} {} -> {} in {}ms id={}",
                               number,
                               options_.name,
                               context.path,
                               outcome,
                               took,
                               context.request_id));
}

void GuardedCall::record(const breaker::CircuitBreaker& breaker,
                         CallRecord::Kind kind,
                         const http::CallResult* result) const {
    if (!options_.recorder) {
        return;
    }
    CallRecord record{breaker.name(), kind, breaker::Outcome::ignored, "rejected", {}};
    if (result != nullptr) {
        record.outcome = classify(*result, options_.policy);
        record.reason = call_reason(*result, options_.policy);
        record.elapsed = result->elapsed;
    }
    options_.recorder(record);
}

}  // namespace circuitlab::lab
