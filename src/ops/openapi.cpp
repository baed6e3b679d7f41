#include "circuitlab/ops/openapi.hpp"

#include <boost/beast/http/verb.hpp>
#include <nlohmann/json.hpp>

namespace circuitlab::ops {

namespace {

using nlohmann::json;

std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

std::string operation_id(const http::Route& route) {
    std::string id = lower(boost::beast::http::to_string(route.method));
    for (char c : route.pattern) {
        id += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    }
    return id;
}

json parameters(const http::Route& route) {
    json list = json::array();
    std::size_t at = 0;
    while ((at = route.pattern.find('{', at)) != std::string::npos) {
        const auto end = route.pattern.find('}', at);
        list.push_back({{"name", route.pattern.substr(at + 1, end - at - 1)},
                        {"in", "path"},
                        {"required", true},
                        {"schema", {{"type", "string"}}}});
        at = end;
    }
    for (const http::ParamDoc& param : route.doc.query) {
        json schema{{"type", "string"}};
        if (!param.allowed.empty()) {
            schema["enum"] = param.allowed;
        }
        list.push_back({{"name", param.name},
                        {"in", "query"},
                        {"required", false},
                        {"description", param.description},
                        {"schema", schema}});
    }
    return list;
}

json answers(const http::Route& route) {
    json list = json::object();
    for (const http::AnswerDoc& answer : route.doc.answers) {
        json entry{{"description", answer.description}};
        if (!answer.example_json.empty()) {
            const json example = json::parse(answer.example_json, nullptr, false);
            entry["content"][answer.content_type]["example"] =
                example.is_discarded() ? json(answer.example_json) : example;
        } else if (answer.content_type != "application/json") {
            entry["content"][answer.content_type] = json::object();
        }
        list[std::to_string(answer.status)] = entry;
    }
    return list;
}

json operation(const http::Route& route) {
    json op{{"operationId", operation_id(route)},
            {"summary", route.doc.summary},
            {"responses", answers(route)}};
    if (!route.doc.description.empty()) {
        op["description"] = route.doc.description;
    }
    if (!route.doc.tag.empty()) {
        op["tags"] = json::array({route.doc.tag});
    }
    if (auto params = parameters(route); !params.empty()) {
        op["parameters"] = params;
    }
    if (!route.doc.body_example.empty()) {
        op["requestBody"] = {
            {"required", true},
            {"content",
             {{"application/json", {{"example", json::parse(route.doc.body_example)}}}}}};
    }
    if (route.doc.admin) {
        op["security"] = json::array({{{"bearerAuth", json::array()}}});
    }
    return op;
}

}  // namespace

std::string openapi_document(const http::Router& router, const ApiInfo& info) {
    json doc{
        {"openapi", "3.1.0"},
        {"info",
         {{"title", info.title}, {"version", info.version}, {"description", info.description}}}};
    doc["components"]["securitySchemes"]["bearerAuth"] = {
        {"type", "http"},
        {"scheme", "bearer"},
        {"description", "The ADMIN_TOKEN of the lab (./dockerc.sh prints it)"}};
    doc["paths"] = json::object();
    for (const http::Route& route : router.routes()) {
        if (route.doc.hidden) {
            continue;
        }
        doc["paths"][route.pattern][lower(boost::beast::http::to_string(route.method))] =
            operation(route);
    }
    return doc.dump(2);
}

}  // namespace circuitlab::ops
