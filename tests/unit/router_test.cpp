#include "circuitlab/http/router.hpp"

#include <stdexcept>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace circuitlab::http {
namespace {

namespace bhttp = boost::beast::http;

/// A handler that is never called: these tests only look routes up.
Handler unused_handler() {
    return [](RequestContext&) -> boost::asio::awaitable<Response> {
        co_return json_error(bhttp::status::ok, "unused");
    };
}

Route route(Verb method, std::string pattern) {
    return Route{method, std::move(pattern), unused_handler(), {}};
}

TEST(RouterTest, MatchesAnExactPath) {
    Router router;
    router.add(route(Verb::get, "/api/success-request"));

    const Match match = router.match(Verb::get, "/api/success-request");

    ASSERT_NE(match.route, nullptr);
    EXPECT_EQ(match.route->pattern, "/api/success-request");
    EXPECT_TRUE(match.allowed.empty());
}

TEST(RouterTest, TreatsATrailingSlashAsPartOfThePath) {
    Router router;
    router.add(route(Verb::get, "/api/schema/"));

    EXPECT_NE(router.match(Verb::get, "/api/schema/").route, nullptr);
    EXPECT_EQ(router.match(Verb::get, "/api/schema").route, nullptr);
}

TEST(RouterTest, CapturesNamedSegments) {
    Router router;
    router.add(route(Verb::get, "/api/breakers/{name}/state"));

    const Match match = router.match(Verb::get, "/api/breakers/midline/state");

    ASSERT_NE(match.route, nullptr);
    EXPECT_EQ(match.path_params.at("name"), "midline");
}

TEST(RouterTest, NamedSegmentDoesNotMatchAnEmptySegment) {
    Router router;
    router.add(route(Verb::get, "/items/{id}"));

    EXPECT_EQ(router.match(Verb::get, "/items/").route, nullptr);
}

TEST(RouterTest, NamedSegmentMatchesOneSegmentOnly) {
    Router router;
    router.add(route(Verb::get, "/items/{id}"));

    EXPECT_EQ(router.match(Verb::get, "/items/1/2").route, nullptr);
}

TEST(RouterTest, TrailingStarMatchesAnyRestAndKeepsIt) {
    Router router;
    router.add(route(Verb::get, "/static/*"));

    const Match match = router.match(Verb::get, "/static/css/site.css");

    ASSERT_NE(match.route, nullptr);
    EXPECT_EQ(match.path_params.at("*"), "css/site.css");
}

TEST(RouterTest, TrailingStarDoesNotMatchThePrefixWithoutItsSlash) {
    Router router;
    router.add(route(Verb::get, "/static/*"));

    EXPECT_EQ(router.match(Verb::get, "/static").route, nullptr);
    EXPECT_NE(router.match(Verb::get, "/static/").route, nullptr);
}

TEST(RouterTest, PrefersAnExactRouteOverAStarRoute) {
    Router router;
    router.add(route(Verb::get, "/api/schema/swagger-ui/*"));
    router.add(route(Verb::get, "/api/schema/swagger-ui/"));

    const Match match = router.match(Verb::get, "/api/schema/swagger-ui/");

    ASSERT_NE(match.route, nullptr);
    EXPECT_EQ(match.route->pattern, "/api/schema/swagger-ui/");
}

TEST(RouterTest, PrefersLiteralSegmentsOverNamedOnes) {
    Router router;
    router.add(route(Verb::get, "/items/{id}"));
    router.add(route(Verb::get, "/items/latest"));

    const Match match = router.match(Verb::get, "/items/latest");

    ASSERT_NE(match.route, nullptr);
    EXPECT_EQ(match.route->pattern, "/items/latest");
}

TEST(RouterTest, UnknownPathGivesNoRouteAndNoAllowedMethods) {
    Router router;
    router.add(route(Verb::get, "/healthz"));

    const Match match = router.match(Verb::get, "/nope");

    EXPECT_EQ(match.route, nullptr);
    EXPECT_TRUE(match.allowed.empty());
}

TEST(RouterTest, WrongMethodListsTheAllowedOnes) {
    Router router;
    router.add(route(Verb::get, "/items/{id}"));
    router.add(route(Verb::put, "/items/{id}"));

    const Match match = router.match(Verb::delete_, "/items/7");

    EXPECT_EQ(match.route, nullptr);
    EXPECT_EQ(match.allowed, (std::vector<Verb>{Verb::get, Verb::put}));
}

TEST(RouterTest, RejectsADuplicateRoute) {
    Router router;
    router.add(route(Verb::get, "/healthz"));

    EXPECT_THROW(router.add(route(Verb::get, "/healthz")), std::invalid_argument);
}

TEST(RouterTest, AcceptsTheSamePatternWithAnotherMethod) {
    Router router;
    router.add(route(Verb::get, "/healthz"));

    EXPECT_NO_THROW(router.add(route(Verb::post, "/healthz")));
    EXPECT_EQ(router.routes().size(), 2u);
}

TEST(RouterTest, RejectsAPatternWithoutLeadingSlash) {
    Router router;

    EXPECT_THROW(router.add(route(Verb::get, "healthz")), std::invalid_argument);
}

TEST(RouterTest, QueryValueReturnsTheFirstValueOrNull) {
    const Request request;
    RequestContext context{request, "/", {{"a", "1"}, {"a", "2"}}, {}, "id"};

    ASSERT_NE(context.query_value("a"), nullptr);
    EXPECT_EQ(*context.query_value("a"), "1");
    EXPECT_EQ(context.query_value("b"), nullptr);
}

TEST(JsonAnswerTest, ErrorAnswerIsJsonWithTheMessage) {
    const Response answer = json_error(bhttp::status::bad_request, "malformed query string");

    EXPECT_EQ(answer.result(), bhttp::status::bad_request);
    EXPECT_EQ(answer[bhttp::field::content_type], "application/json");
    EXPECT_EQ(nlohmann::json::parse(answer.body()),
              (nlohmann::json{{"error", "malformed query string"}}));
    EXPECT_EQ(answer[bhttp::field::content_length], std::to_string(answer.body().size()));
}

TEST(JsonAnswerTest, ErrorAnswerSurvivesInvalidUtf8) {
    const Response answer = json_error(bhttp::status::not_found, "bad \xff byte");

    const auto body = nlohmann::json::parse(answer.body());
    EXPECT_EQ(body.at("error"), "bad \xef\xbf\xbd byte");  // U+FFFD replaces the bad byte.
}

TEST(JsonAnswerTest, ResponseKeepsTheBodyAndVersion) {
    const Response answer = json_response(bhttp::status::ok, R"({"a":1})", 10);

    EXPECT_EQ(answer.version(), 10u);
    EXPECT_EQ(answer.body(), R"({"a":1})");
    EXPECT_EQ(answer[bhttp::field::content_type], "application/json");
}

}  // namespace
}  // namespace circuitlab::http
