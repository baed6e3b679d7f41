#pragma once

// Internal to circuitlab_http: a message as the bytes that go on the wire.

#include <string>

#include "circuitlab/http/router.hpp"

namespace circuitlab::http {

/// The request line, the headers, a blank line and the body, in one string. Writing one
/// buffer costs a fraction of Beast's serializer, which walks a chain of buffer views on
/// every write; the bytes are the same for the messages we send (a set Content-Length or
/// none, never chunked).
std::string to_wire(const Request& request);

/// The status line, the headers, a blank line and the body, in one string.
std::string to_wire(const Response& answer);

}  // namespace circuitlab::http
