#include "circuitlab/http/query.hpp"

#include <gtest/gtest.h>

namespace circuitlab::http {
namespace {

TEST(SplitTargetTest, SeparatesPathAndQuery) {
    const auto [path, query] = split_target("/api/x?non_circuit_breaker=1&a=b");

    EXPECT_EQ(path, "/api/x");
    EXPECT_EQ(query, "non_circuit_breaker=1&a=b");
}

TEST(SplitTargetTest, GivesAnEmptyQueryWithoutQuestionMark) {
    const auto [path, query] = split_target("/api/x");

    EXPECT_EQ(path, "/api/x");
    EXPECT_TRUE(query.empty());
}

TEST(PercentDecodeTest, DecodesEscapesInBothCases) {
    EXPECT_EQ(percent_decode("a%2Fb%2fc", false), "a/b/c");
}

TEST(PercentDecodeTest, DecodesPlusAsSpaceOnlyWhenAsked) {
    EXPECT_EQ(percent_decode("a+b", true), "a b");
    EXPECT_EQ(percent_decode("a+b", false), "a+b");
}

TEST(PercentDecodeTest, RejectsANonHexEscape) {
    EXPECT_EQ(percent_decode("a%zzb", false), std::nullopt);
}

TEST(PercentDecodeTest, RejectsATruncatedEscape) {
    EXPECT_EQ(percent_decode("a%a", false), std::nullopt);
    EXPECT_EQ(percent_decode("a%", false), std::nullopt);
}

TEST(PercentDecodeTest, DecodesAnEscapeAtTheVeryEnd) {
    EXPECT_EQ(percent_decode("a%41", false), "aA");
}

TEST(ParseQueryTest, ParsesParametersInOrder) {
    const auto params = parse_query("b=2&a=1&b=3");

    ASSERT_TRUE(params.has_value());
    ASSERT_EQ(params->size(), 3u);
    EXPECT_EQ((*params)[0].name, "b");
    EXPECT_EQ((*params)[0].value, "2");
    EXPECT_EQ((*params)[2].value, "3");
}

TEST(ParseQueryTest, KeyWithoutEqualsHasAnEmptyValue) {
    const auto params = parse_query("flag&x=");

    ASSERT_TRUE(params.has_value());
    ASSERT_EQ(params->size(), 2u);
    EXPECT_EQ((*params)[0].name, "flag");
    EXPECT_EQ((*params)[0].value, "");
    EXPECT_EQ((*params)[1].value, "");
}

TEST(ParseQueryTest, DecodesNamesAndValues) {
    const auto params = parse_query("na%6De=a+b%26c");

    ASSERT_TRUE(params.has_value());
    EXPECT_EQ((*params)[0].name, "name");
    EXPECT_EQ((*params)[0].value, "a b&c");
}

TEST(ParseQueryTest, SkipsEmptyParts) {
    const auto params = parse_query("&a=1&&");

    ASSERT_TRUE(params.has_value());
    EXPECT_EQ(params->size(), 1u);
}

TEST(ParseQueryTest, EmptyQueryHasNoParameters) {
    const auto params = parse_query("");

    ASSERT_TRUE(params.has_value());
    EXPECT_TRUE(params->empty());
}

TEST(ParseQueryTest, RejectsABadEscapeAnywhere) {
    EXPECT_EQ(parse_query("a=1&b=%zz"), std::nullopt);
    EXPECT_EQ(parse_query("%g1=1"), std::nullopt);
}

TEST(PercentEncodeTest, KeepsUnreservedCharacters) {
    EXPECT_EQ(percent_encode("AZaz09-._~"), "AZaz09-._~");
}

TEST(PercentEncodeTest, EscapesEverythingElseInUpperCaseHex) {
    EXPECT_EQ(percent_encode("a b/c&d=\xff"), "a%20b%2Fc%26d%3D%FF");
}

TEST(PercentEncodeTest, RoundTripsThroughDecode) {
    const std::string text = "x=1&y=a b+c/%";

    EXPECT_EQ(percent_decode(percent_encode(text), true), text);
}

}  // namespace
}  // namespace circuitlab::http
