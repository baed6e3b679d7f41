#pragma once

// Shared by the fuzz targets: writes an answer to bytes as the server would, so that any
// header or body the code under test built is also checked by the serializer.

#include <string>

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>

#include "circuitlab/http/router.hpp"

namespace circuitlab::fuzz {

/// The wire form of an answer (status line, headers, body).
inline std::string serialise(http::Response answer) {
    answer.prepare_payload();
    boost::beast::http::response_serializer<boost::beast::http::string_body> serializer(answer);
    std::string out;
    boost::beast::error_code ec;
    while (!serializer.is_done() && !ec) {
        serializer.next(ec, [&](boost::beast::error_code&, const auto& buffers) {
            out += boost::beast::buffers_to_string(buffers);
            serializer.consume(boost::asio::buffer_size(buffers));
        });
    }
    return out;
}

}  // namespace circuitlab::fuzz
