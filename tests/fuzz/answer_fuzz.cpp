// libFuzzer target: one answer from the hop below as the client reads it. The bytes go
// through the client's parser limits, then the hop judges the outcome for its breaker and
// builds the answer it relays (upstream JSON error bodies are parsed and nested), and that
// answer is serialised. Any crash, leak or sanitizer report is a bug.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "circuitlab/http/client.hpp"
#include "circuitlab/lab/answers.hpp"
#include "circuitlab/lab/outcome.hpp"
#include "serialise.hpp"

namespace {

namespace beast = boost::beast;

// Parses like the client: ClientOptions' default answer limit for headers and body.
bool parse(std::string_view bytes, circuitlab::http::Response& out) {
    beast::http::response_parser<beast::http::string_body> parser;
    const circuitlab::http::ClientOptions options;
    parser.header_limit(static_cast<std::uint32_t>(options.answer_limit));
    parser.body_limit(options.answer_limit);
    parser.eager(true);

    beast::error_code ec;
    std::size_t used = 0;
    while (used < bytes.size() && !parser.is_done()) {
        const std::size_t n =
            parser.put(boost::asio::buffer(bytes.data() + used, bytes.size() - used), ec);
        if (ec || n == 0) {
            break;
        }
        used += n;
    }
    if (!parser.is_done()) {
        return false;
    }
    out = parser.release();
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    circuitlab::http::CallResult result;
    result.response.emplace();
    if (!parse(std::string_view(reinterpret_cast<const char*>(data), size), *result.response)) {
        return 0;
    }

    for (const bool shed_is_failure : {false, true}) {
        circuitlab::lab::OutcomePolicy policy;
        policy.shed_is_failure = shed_is_failure;
        (void)circuitlab::lab::classify(result, policy);
    }
    circuitlab::fuzz::serialise(circuitlab::lab::relayed_answer(result, 11));
    circuitlab::fuzz::serialise(circuitlab::lab::relayed_answer(result, 10));
    return 0;
}
