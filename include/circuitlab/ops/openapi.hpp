#pragma once

#include <string>

#include "circuitlab/http/router.hpp"

namespace circuitlab::ops {

/// Title, version and description of the generated document.
struct ApiInfo {
    std::string title;
    std::string version;
    std::string description;
};

/// Builds the OpenAPI 3.1 document (JSON) of every route in the table that is not hidden,
/// from the routes' own documentation: a route cannot exist without being documented.
std::string openapi_document(const http::Router& router, const ApiInfo& info);

}  // namespace circuitlab::ops
