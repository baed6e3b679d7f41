#include "circuitlab/lab/outcome.hpp"

namespace circuitlab::lab {

bool is_shed(const http::Response& response) {
    return response.result_int() == 503 && (response.find("X-Circuit-Open") != response.end() ||
                                            response.find("X-Bulkhead-Full") != response.end());
}

breaker::Outcome classify(const http::CallResult& result, const OutcomePolicy& policy) {
    using breaker::Outcome;
    switch (result.error) {
        case http::CallError::none:
            break;
        case http::CallError::cancelled:
            return Outcome::ignored;
        default:
            return Outcome::failure;
    }
    const http::Response& response = *result.response;
    if (is_shed(response)) {
        return policy.shed_is_failure ? Outcome::failure : Outcome::ignored;
    }
    const int status = static_cast<int>(response.result_int());
    if (policy.ignore_statuses.contains(status)) {
        return Outcome::ignored;
    }
    return policy.failure_statuses.contains(status) ? Outcome::failure : Outcome::success;
}

std::string_view call_reason(const http::CallResult& result, const OutcomePolicy& policy) {
    if (result.error != http::CallError::none) {
        return http::to_string(result.error);
    }
    const http::Response& response = *result.response;
    if (is_shed(response)) {
        return "shed";
    }
    if (classify(result, policy) == breaker::Outcome::failure) {
        return "upstream_status";
    }
    return "ok";
}

}  // namespace circuitlab::lab
