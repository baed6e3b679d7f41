#include "circuitlab/lab/answers.hpp"

#include <nlohmann/json.hpp>

#include "circuitlab/lab/outcome.hpp"

namespace circuitlab::lab {

namespace {

namespace bhttp = boost::beast::http;
using nlohmann::json;

std::string_view reason_of(http::CallError error) {
    switch (error) {
        case http::CallError::timeout:
            return "timeout";
        case http::CallError::connect:
            return "connect";
        case http::CallError::reset:
            return "reset";
        case http::CallError::cancelled:
            return "cancelled";
        default:
            return "protocol";
    }
}

// The upstream's body as JSON when it is JSON, else as a string (cut to stay small).
json upstream_error(const http::Response& response) {
    json body = json::parse(response.body(), nullptr, false);
    if (!body.is_discarded()) {
        return body;
    }
    return response.body().substr(0, 512);
}

http::Response failed_answer(const http::CallResult& result, unsigned version) {
    json body{{"error", "upstream call failed"}};
    if (result.error == http::CallError::none) {
        body["reason"] = "upstream_status";
        body["upstream_status"] = result.response->result_int();
        body["upstream_error"] = upstream_error(*result.response);
    } else {
        body["reason"] = reason_of(result.error);
        body["detail"] = result.detail;
    }
    return http::json_response(bhttp::status::bad_gateway,
                               body.dump(-1, ' ', false, json::error_handler_t::replace),
                               version);
}

http::Response passed_answer(const http::Response& upstream, unsigned version) {
    http::Response answer{upstream.result(), version};
    answer.body() = upstream.body();
    for (auto field : {bhttp::field::content_type, bhttp::field::retry_after}) {
        if (auto it = upstream.find(field); it != upstream.end()) {
            answer.set(field, it->value());
        }
    }
    for (std::string_view marker : {"X-Circuit-Open", "X-Bulkhead-Full"}) {
        if (auto it = upstream.find(marker); it != upstream.end()) {
            answer.set(marker, it->value());
        }
    }
    answer.prepare_payload();
    return answer;
}

}  // namespace

http::Response rejected_answer(std::string_view breaker,
                               const breaker::Rejection& rejection,
                               unsigned version) {
    const auto ms = rejection.retry_after.count();
    json body{{"error", "circuit breaker open: call not permitted"},
              {"breaker", breaker},
              {"state", breaker::to_string(rejection.state)},
              {"retry_after_ms", ms}};
    auto answer = http::json_response(bhttp::status::service_unavailable, body.dump(), version);
    answer.set(bhttp::field::retry_after, std::to_string(std::max<long>(1, (ms + 999) / 1000)));
    answer.set("X-Circuit-Open", std::string(breaker));
    return answer;
}

http::Response bulkhead_answer(std::string_view hop, std::size_t limit, unsigned version) {
    json body{{"error", "bulkhead full: too many calls in flight to the next hop"},
              {"reason", "bulkhead"},
              {"hop", hop},
              {"limit", limit}};
    auto answer = http::json_response(bhttp::status::service_unavailable, body.dump(), version);
    answer.set(bhttp::field::retry_after, "1");
    answer.set("X-Bulkhead-Full", std::string(hop));
    return answer;
}

http::Response relayed_answer(const http::CallResult& result, unsigned version) {
    if (result.error == http::CallError::none) {
        const http::Response& upstream = *result.response;
        if (upstream.result_int() < 500 || is_shed(upstream)) {
            return passed_answer(upstream, version);
        }
    }
    return failed_answer(result, version);
}

}  // namespace circuitlab::lab
