#pragma once

#include <string_view>

#include "circuitlab/breaker/circuit_breaker.hpp"
#include "circuitlab/http/client.hpp"
#include "circuitlab/lab/status_set.hpp"

namespace circuitlab::lab {

/// How a hop judges the answers of the hop below.
struct OutcomePolicy {
    /// Statuses that count as failures (CB_FAILURE_STATUSES).
    StatusSet failure_statuses = StatusSet::range(500, 599);
    /// Statuses that count as neither success nor failure (CB_IGNORE_STATUSES). A status in
    /// both sets is ignored.
    StatusSet ignore_statuses;
    bool shed_is_failure = false;  ///< Count a shed 503 (X-Circuit-Open) as a failure.
};

/// Whether the answer is a 503 marked `X-Circuit-Open` or `X-Bulkhead-Full`: a breaker or a
/// bulkhead below shed the call to protect itself.
bool is_shed(const http::Response& response);

/// The one place a finished call is judged for the breaker. Failure: timeout, connect,
/// reset or protocol error, or a status in the failure set. Ignored: the call was
/// cancelled, a breaker below shed it (unless the policy says otherwise), or its status is
/// in the ignore set (which wins over the failure set). Else success.
breaker::Outcome classify(const http::CallResult& result, const OutcomePolicy& policy);

/// Why a finished call counted as it did, for metrics: `ok`, `shed`, `upstream_status`, or
/// the error name (`timeout`, `connect`, `reset`, `protocol`, `cancelled`).
std::string_view call_reason(const http::CallResult& result, const OutcomePolicy& policy);

}  // namespace circuitlab::lab
