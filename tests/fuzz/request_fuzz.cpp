// libFuzzer target: one request as the server reads it. The bytes go through the same parser
// limits as a connection, then the path is routed through a table shaped like a role's, the
// query string is decoded, the bypass flag and the request id are read, and the answer the
// server would give is serialised. Any crash, leak or sanitizer report is a bug.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <nlohmann/json.hpp>

#include "circuitlab/http/query.hpp"
#include "circuitlab/http/router.hpp"
#include "circuitlab/http/server.hpp"
#include "circuitlab/lab/guarded_call.hpp"
#include "serialise.hpp"

namespace {

namespace beast = boost::beast;
using circuitlab::http::Request;
using circuitlab::http::Response;
using circuitlab::http::Verb;

boost::asio::awaitable<Response> never_called(circuitlab::http::RequestContext&) {
    co_return Response{};
}

circuitlab::http::Router make_router() {
    circuitlab::http::Router router;
    for (const char* pattern : {"/api/success-request",
                                "/api/timeout-request",
                                "/api/mustfail-request",
                                "/api/schema/",
                                "/api/schema/swagger-ui/*",
                                "/api/breakers/{name}",
                                "/healthz",
                                "/readyz"}) {
        router.add({Verb::get, pattern, never_called, {}});
    }
    router.add({Verb::post, "/api/breakers/{name}", never_called, {}});
    return router;
}

const circuitlab::http::Router& router() {
    static const circuitlab::http::Router table = make_router();
    return table;
}

// Parses like Session::read_request: default header and body limits of the server.
bool parse(std::string_view bytes, Request& out) {
    beast::http::request_parser<beast::http::string_body> parser;
    parser.header_limit(16 * 1024);
    parser.body_limit(64 * 1024);
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

void route(const Request& request) {
    const std::string id = circuitlab::http::sanitize_request_id(
        std::string_view(request["X-Request-ID"].data(), request["X-Request-ID"].size()));
    const auto [path, query_text] = circuitlab::http::split_target(
        std::string_view(request.target().data(), request.target().size()));
    circuitlab::http::Match match = router().match(request.method(), path);
    if (match.route == nullptr) {
        const nlohmann::json body = {{"error", "not found"}, {"path", path}};
        circuitlab::fuzz::serialise(circuitlab::http::json_response(
            beast::http::status::not_found,
            body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
        return;
    }

    auto query = circuitlab::http::parse_query(query_text);
    if (!query) {
        return;
    }
    circuitlab::http::RequestContext context{
        request, path, std::move(*query), std::move(match.path_params), id};
    const auto bypass = circuitlab::lab::parse_bypass(context);
    for (const auto& param : context.query) {
        // What a hop forwards must decode back to what it got.
        const std::string encoded = circuitlab::http::percent_encode(param.value);
        const auto decoded = circuitlab::http::percent_decode(encoded, false);
        if (!decoded || *decoded != param.value) {
            __builtin_trap();
        }
    }
    circuitlab::fuzz::serialise(circuitlab::http::json_error(
        beast::http::status::bad_request, bypass ? "ok" : "bad flag", request.version()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Request request;
    if (parse(std::string_view(reinterpret_cast<const char*>(data), size), request)) {
        route(request);
    }
    return 0;
}
