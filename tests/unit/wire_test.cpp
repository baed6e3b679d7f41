#include "wire.hpp"

#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <boost/beast/http/write.hpp>

namespace circuitlab::http {
namespace {

namespace bhttp = boost::beast::http;

/// What Beast's own serializer writes for the message.
template <typename Message>
std::string beast_bytes(const Message& message) {
    std::ostringstream out;
    out << message;
    return out.str();
}

TEST(WireTest, RequestIsByteForByteWhatBeastWrites) {
    Request request{Verb::get, "/api/success-request?non_circuit_breaker=1", 11};
    request.set(bhttp::field::host, "127.0.0.1:8000");
    request.set(bhttp::field::connection, "keep-alive");
    request.set("X-Request-ID", "abc-123");

    EXPECT_EQ(to_wire(request), beast_bytes(request));
    EXPECT_EQ(
        to_wire(request).rfind("GET /api/success-request?non_circuit_breaker=1 HTTP/1.1\r\n", 0),
        0u);
}

TEST(WireTest, AnswerWithBodyIsByteForByteWhatBeastWrites) {
    Response answer = json_response(bhttp::status::ok, R"([{"date":"04/12/2026"}])", 11);
    answer.set(bhttp::field::server, "circuitlab");
    answer.set("X-Request-ID", "abc-123");
    answer.keep_alive(true);
    answer.prepare_payload();

    EXPECT_EQ(to_wire(answer), beast_bytes(answer));
}

TEST(WireTest, ErrorStatusesAndHttp10KeepTheirReasonAndVersion) {
    Response rejected = json_error(bhttp::status::service_unavailable, "open", 10);
    rejected.set(bhttp::field::retry_after, "9");
    rejected.keep_alive(false);
    rejected.prepare_payload();
    EXPECT_EQ(to_wire(rejected), beast_bytes(rejected));
    EXPECT_EQ(to_wire(rejected).substr(0, 33), "HTTP/1.0 503 Service Unavailable\r");

    Response custom{bhttp::status::ok, 11};
    custom.reason("Fine");
    EXPECT_EQ(to_wire(custom), beast_bytes(custom));
}

TEST(WireTest, HeadAnswerKeepsContentLengthWithoutBody) {
    Response answer = json_response(bhttp::status::ok, "{}", 11);
    answer.body().clear();  // as the server does for HEAD

    const std::string bytes = to_wire(answer);
    EXPECT_NE(bytes.find("Content-Length: 2\r\n"), std::string::npos);
    EXPECT_EQ(bytes.substr(bytes.size() - 4), "\r\n\r\n");
}

}  // namespace
}  // namespace circuitlab::http
