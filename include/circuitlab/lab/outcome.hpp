#pragma once

#include "circuitlab/breaker/circuit_breaker.hpp"
#include "circuitlab/http/client.hpp"

namespace circuitlab::lab {

/// How a hop judges the answers of the hop below.
struct OutcomePolicy {
    int failure_status_min = 500;  ///< Statuses at or above count as failures.
    bool shed_is_failure = false;  ///< Count a shed 503 (X-Circuit-Open) as a failure.
};

/// Whether the answer is a 503 marked `X-Circuit-Open`: a breaker below shed the call.
bool is_shed(const http::Response& response);

/// The one place a finished call is judged for the breaker. Failure: timeout, connect,
/// reset or protocol error, or a status in the failure set. Ignored: the call was
/// cancelled, or a breaker below shed it (unless the policy says otherwise). Else success.
breaker::Outcome classify(const http::CallResult& result, const OutcomePolicy& policy);

}  // namespace circuitlab::lab
