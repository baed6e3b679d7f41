#include "circuitlab/ops/openapi.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace circuitlab::ops {
namespace {

boost::asio::awaitable<http::Response> unused(http::RequestContext&) {
    co_return http::Response{};
}

TEST(OpenApiTest, DocumentsEveryVisibleRouteWithItsParametersAndAnswers) {
    http::Router router;
    http::RouteDoc doc{"Forecast",
                       "",
                       "scenarios",
                       {{"non_circuit_breaker", "Bypass", {"1", "0"}}},
                       {{200, "ok", R"({"a":1})"}, {503, "open", ""}}};
    router.add({http::Verb::get, "/api/success-request", unused, doc});
    http::RouteDoc hidden;
    hidden.hidden = true;
    router.add({http::Verb::get, "/static/*", unused, hidden});

    const auto json = nlohmann::json::parse(openapi_document(router, {"Lab", "1", "d"}));

    EXPECT_EQ(json["openapi"], "3.1.0");
    ASSERT_EQ(json["paths"].size(), 1u);
    const auto& op = json["paths"]["/api/success-request"]["get"];
    EXPECT_EQ(op["summary"], "Forecast");
    EXPECT_EQ(op["parameters"][0]["name"], "non_circuit_breaker");
    EXPECT_EQ(op["parameters"][0]["schema"]["enum"].size(), 2u);
    EXPECT_EQ(op["responses"]["200"]["content"]["application/json"]["example"]["a"], 1);
    EXPECT_TRUE(op["responses"].contains("503"));
}

TEST(OpenApiTest, PathParametersAreDocumented) {
    http::Router router;
    router.add({http::Verb::post, "/api/breakers/{name}/state", unused, {"Force", "", "", {}, {}}});

    const auto json = nlohmann::json::parse(openapi_document(router, {"Lab", "1", "d"}));

    const auto& param = json["paths"]["/api/breakers/{name}/state"]["post"]["parameters"][0];
    EXPECT_EQ(param["name"], "name");
    EXPECT_EQ(param["in"], "path");
}

}  // namespace
}  // namespace circuitlab::ops
