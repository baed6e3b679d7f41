#pragma once

#include <string_view>

#include "circuitlab/breaker/circuit_breaker.hpp"
#include "circuitlab/http/client.hpp"

namespace circuitlab::lab {

/// The 503 of a rejected call: `Retry-After` (whole seconds, at least 1), `X-Circuit-Open`
/// naming the breaker, and a JSON body with error, breaker, state and retry_after_ms.
http::Response rejected_answer(std::string_view breaker,
                               const breaker::Rejection& rejection,
                               unsigned version);

/// The 503 of a request the bulkhead turned away: `Retry-After: 1`, `X-Bulkhead-Full`
/// naming the hop, and a JSON body with error, `reason: bulkhead`, hop and limit.
http::Response bulkhead_answer(std::string_view hop, std::size_t limit, unsigned version);

/// The answer a proxying hop gives for a finished call: the upstream's own answer when
/// it is below 500 or a shed 503 (headers kept), else a 502 whose JSON body gives the
/// reason, the upstream status and the upstream's error body, so causes chain.
http::Response relayed_answer(const http::CallResult& result, unsigned version);

}  // namespace circuitlab::lab
