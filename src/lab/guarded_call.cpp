#include "circuitlab/lab/guarded_call.hpp"

#include <utility>
#include <variant>

#include "circuitlab/http/query.hpp"
#include "circuitlab/lab/answers.hpp"

namespace circuitlab::lab {

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
    : client_(client), options_(std::move(options)) {}

boost::asio::awaitable<http::CallResult> GuardedCall::send(const http::RequestContext& context,
                                                           bool bypass) {
    std::string target(context.path);
    if (bypass) {
        target += "?" + std::string(bypass_param) + "=1";
    }
    std::vector<std::pair<std::string, std::string>> headers;
    headers.emplace_back("X-Request-ID", context.request_id);
    co_return co_await client_.get(options_.upstream, std::move(target), std::move(headers),
                                   options_.timeout);
}

boost::asio::awaitable<http::Response> GuardedCall::call(const http::RequestContext& context,
                                                         breaker::CircuitBreaker& breaker,
                                                         bool bypass) {
    const unsigned version = context.request.version();
    if (bypass) {
        ++counters_.bypassed;
        co_return relayed_answer(co_await send(context, true), version);
    }

    auto admission = breaker.try_acquire();
    if (auto* rejection = std::get_if<breaker::Rejection>(&admission)) {
        ++counters_.rejected;
        if (options_.log) {
            options_.log->debug("rejected by {} ({}) {} id={}", breaker.name(),
                                breaker::to_string(rejection->state), context.path,
                                context.request_id);
        }
        co_return rejected_answer(breaker.name(), *rejection, version);
    }

    ++counters_.permitted;
    auto permit = std::move(std::get<breaker::Permit>(admission));
    const http::CallResult result = co_await send(context, false);
    const breaker::Outcome outcome = classify(result, options_.policy);
    permit.complete(outcome);
    if (result.response && is_shed(*result.response)) {
        ++counters_.shed;
    }
    co_return relayed_answer(result, version);
}

}  // namespace circuitlab::lab
