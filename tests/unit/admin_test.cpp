#include "circuitlab/ops/admin.hpp"

#include <string>

#include <gtest/gtest.h>
#include <boost/beast/http/field.hpp>
#include <nlohmann/json.hpp>

namespace circuitlab::ops {
namespace {

namespace bhttp = boost::beast::http;

http::Request post_with(const std::string& authorization) {
    http::Request request{bhttp::verb::post, "/api/breakers/x/state", 11};
    if (!authorization.empty()) {
        request.set(bhttp::field::authorization, authorization);
    }
    return request;
}

std::string error_of(const http::Response& answer) {
    return nlohmann::json::parse(answer.body()).at("error").get<std::string>();
}

TEST(AdminCheckTest, NoConfiguredTokenRefusesWith403AndAHintWhateverIsSent) {
    for (const std::string header : {"", "Bearer ", "Bearer anything"}) {
        const auto refused = check_admin(post_with(header), "");

        ASSERT_TRUE(refused) << header;
        EXPECT_EQ(refused->result(), bhttp::status::forbidden);
        EXPECT_EQ((*refused)[bhttp::field::content_type], "application/json");
        EXPECT_NE(error_of(*refused).find("ADMIN_TOKEN"), std::string::npos);
        // The hint names both ways to start the lab with a token.
        EXPECT_NE(error_of(*refused).find("./dockerc.sh"), std::string::npos);
        EXPECT_NE(error_of(*refused).find("scripts/lab-local.sh"), std::string::npos);
    }
}

TEST(AdminCheckTest, MissingHeaderIs401AskingForABearerToken) {
    const auto refused = check_admin(post_with(""), "s3cret");

    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->result(), bhttp::status::unauthorized);
    EXPECT_EQ((*refused)[bhttp::field::www_authenticate], "Bearer");
    EXPECT_NE(error_of(*refused).find("missing"), std::string::npos);
}

TEST(AdminCheckTest, WrongTokenIs401) {
    for (const std::string header :
         {"Bearer nope", "Bearer s3cre", "Bearer s3cretX", "Bearer ", "Basic s3cret", "s3cret"}) {
        const auto refused = check_admin(post_with(header), "s3cret");

        ASSERT_TRUE(refused) << header;
        EXPECT_EQ(refused->result(), bhttp::status::unauthorized) << header;
        EXPECT_EQ(error_of(*refused), "wrong admin token") << header;
    }
}

TEST(AdminCheckTest, RightTokenLetsTheRequestGoOn) {
    EXPECT_FALSE(check_admin(post_with("Bearer s3cret"), "s3cret"));
}

TEST(AdminCheckTest, SchemeIsCaseInsensitive) {
    // RFC 9110 11.1: the authentication scheme is matched without regard to case.
    EXPECT_FALSE(check_admin(post_with("bearer s3cret"), "s3cret"));
    EXPECT_FALSE(check_admin(post_with("BEARER s3cret"), "s3cret"));
}

TEST(ConstantTimeEqualTest, EqualOnlyForTheSameBytesAndLength) {
    EXPECT_TRUE(constant_time_equal("abc", "abc"));
    EXPECT_TRUE(constant_time_equal("", ""));
    EXPECT_FALSE(constant_time_equal("abc", "abd"));
    EXPECT_FALSE(constant_time_equal("abc", "ab"));
    EXPECT_FALSE(constant_time_equal("ab", "abc"));
    EXPECT_FALSE(constant_time_equal("", "a"));
    EXPECT_FALSE(constant_time_equal("a", ""));
    EXPECT_FALSE(constant_time_equal(std::string("a\0b", 3), std::string("a\0c", 3)));
}

}  // namespace
}  // namespace circuitlab::ops
