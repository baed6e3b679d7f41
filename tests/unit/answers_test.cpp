#include "circuitlab/lab/answers.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "circuitlab/lab/outcome.hpp"

namespace circuitlab::lab {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

http::CallResult answered(int status, std::string body) {
    http::Response response{static_cast<boost::beast::http::status>(status), 11};
    response.set(boost::beast::http::field::content_type, "application/json");
    response.body() = std::move(body);
    response.prepare_payload();
    http::CallResult result;
    result.response = std::move(response);
    return result;
}

http::CallResult failed(http::CallError error) {
    http::CallResult result;
    result.error = error;
    result.detail = "read: timed out";
    return result;
}

TEST(AnswersTest, RejectionIs503WithRetryAfterAndBreakerName) {
    const auto answer = rejected_answer("midline->backline", {breaker::State::open, 8'400ms}, 11);

    EXPECT_EQ(answer.result_int(), 503);
    EXPECT_EQ(answer["Retry-After"], "9");
    EXPECT_EQ(answer["X-Circuit-Open"], "midline->backline");
    const auto body = json::parse(answer.body());
    EXPECT_EQ(body["breaker"], "midline->backline");
    EXPECT_EQ(body["state"], "open");
    EXPECT_EQ(body["retry_after_ms"], 8400);
}

TEST(AnswersTest, RetryAfterIsAtLeastOneSecond) {
    const auto answer = rejected_answer("b", {breaker::State::half_open, 0ms}, 11);

    EXPECT_EQ(answer["Retry-After"], "1");
}

TEST(AnswersTest, SuccessPassesThroughUnchanged) {
    const auto answer = relayed_answer(answered(200, R"([{"summary":"Mild"}])"), 11);

    EXPECT_EQ(answer.result_int(), 200);
    EXPECT_EQ(answer.body(), R"([{"summary":"Mild"}])");
    EXPECT_EQ(answer["Content-Type"], "application/json");
}

TEST(AnswersTest, ClientErrorsPassThrough) {
    EXPECT_EQ(relayed_answer(answered(404, R"({"error":"not found"})"), 11).result_int(), 404);
}

TEST(AnswersTest, UpstreamFailureBecomes502WithTheUpstreamError) {
    const auto answer = relayed_answer(answered(500, R"({"error":"downstream failed"})"), 11);

    EXPECT_EQ(answer.result_int(), 502);
    const auto body = json::parse(answer.body());
    EXPECT_EQ(body["reason"], "upstream_status");
    EXPECT_EQ(body["upstream_status"], 500);
    EXPECT_EQ(body["upstream_error"]["error"], "downstream failed");
}

TEST(AnswersTest, NonJsonUpstreamErrorIsKeptAsText) {
    const auto answer = relayed_answer(answered(500, "oops"), 11);

    EXPECT_EQ(json::parse(answer.body())["upstream_error"], "oops");
}

TEST(AnswersTest, TimeoutBecomes502WithReason) {
    const auto answer = relayed_answer(failed(http::CallError::timeout), 11);

    EXPECT_EQ(answer.result_int(), 502);
    EXPECT_EQ(json::parse(answer.body())["reason"], "timeout");
}

TEST(AnswersTest, EveryNetworkErrorHasItsReason) {
    EXPECT_EQ(json::parse(relayed_answer(failed(http::CallError::connect), 11).body())["reason"],
              "connect");
    EXPECT_EQ(json::parse(relayed_answer(failed(http::CallError::reset), 11).body())["reason"],
              "reset");
    EXPECT_EQ(json::parse(relayed_answer(failed(http::CallError::protocol), 11).body())["reason"],
              "protocol");
}

TEST(AnswersTest, ShedAnswerFromBelowIsPassedUpWithItsHeaders) {
    auto shed = answered(503, R"({"breaker":"midline->backline"})");
    shed.response->set("X-Circuit-Open", "midline->backline");
    shed.response->set("Retry-After", "7");

    const auto answer = relayed_answer(shed, 11);

    EXPECT_EQ(answer.result_int(), 503);
    EXPECT_EQ(answer["X-Circuit-Open"], "midline->backline");
    EXPECT_EQ(answer["Retry-After"], "7");
    EXPECT_EQ(json::parse(answer.body())["breaker"], "midline->backline");
}

TEST(AnswersTest, Unmarked503IsAFailure) {
    EXPECT_EQ(relayed_answer(answered(503, "{}"), 11).result_int(), 502);
}

TEST(OutcomeTest, ClassifiesEachKindOfResult) {
    const OutcomePolicy policy;

    EXPECT_EQ(classify(answered(200, ""), policy), breaker::Outcome::success);
    EXPECT_EQ(classify(answered(404, ""), policy), breaker::Outcome::success);
    EXPECT_EQ(classify(answered(500, ""), policy), breaker::Outcome::failure);
    EXPECT_EQ(classify(answered(503, ""), policy), breaker::Outcome::failure);
    EXPECT_EQ(classify(failed(http::CallError::timeout), policy), breaker::Outcome::failure);
    EXPECT_EQ(classify(failed(http::CallError::connect), policy), breaker::Outcome::failure);
    EXPECT_EQ(classify(failed(http::CallError::cancelled), policy), breaker::Outcome::ignored);
}

TEST(OutcomeTest, ShedIsIgnoredUnlessTheCascadeIsAskedFor) {
    auto shed = answered(503, "{}");
    shed.response->set("X-Circuit-Open", "midline->backline");

    EXPECT_EQ(classify(shed, OutcomePolicy{}), breaker::Outcome::ignored);
    OutcomePolicy cascade;
    cascade.shed_is_failure = true;
    EXPECT_EQ(classify(shed, cascade), breaker::Outcome::failure);
}

TEST(AnswersTest, BulkheadIs503WithReasonAndMarker) {
    const auto answer = bulkhead_answer("midline->backline", 200, 11);

    EXPECT_EQ(answer.result_int(), 503);
    EXPECT_EQ(answer["X-Bulkhead-Full"], "midline->backline");
    EXPECT_EQ(answer["Retry-After"], "1");
    const auto body = json::parse(answer.body());
    EXPECT_EQ(body["reason"], "bulkhead");
    EXPECT_EQ(body["limit"], 200);
}

TEST(OutcomeTest, BulkheadFullBelowIsShedNotAFailure) {
    auto full = answered(503, "{}");
    full.response->set("X-Bulkhead-Full", "midline->backline");

    EXPECT_TRUE(is_shed(*full.response));
    EXPECT_EQ(classify(full, OutcomePolicy{}), breaker::Outcome::ignored);
    const auto relayed = relayed_answer(full, 11);
    EXPECT_EQ(relayed.result_int(), 503);
    EXPECT_EQ(relayed["X-Bulkhead-Full"], "midline->backline");
}

TEST(OutcomeTest, StatusesOutsideTheFailureSetAreSuccesses) {
    OutcomePolicy policy;
    policy.failure_statuses = *StatusSet::parse("429,500-502");

    EXPECT_EQ(classify(answered(429, ""), policy), breaker::Outcome::failure);
    EXPECT_EQ(classify(answered(502, ""), policy), breaker::Outcome::failure);
    EXPECT_EQ(classify(answered(503, ""), policy), breaker::Outcome::success);
}

TEST(OutcomeTest, AnIgnoredStatusIsNeitherSuccessNorFailure) {
    OutcomePolicy policy;
    policy.ignore_statuses = *StatusSet::parse("404");

    EXPECT_EQ(classify(answered(404, ""), policy), breaker::Outcome::ignored);
    EXPECT_EQ(classify(answered(200, ""), policy), breaker::Outcome::success);
}

TEST(OutcomeTest, AStatusInBothSetsIsIgnored) {
    OutcomePolicy policy;
    policy.ignore_statuses = *StatusSet::parse("503");

    EXPECT_EQ(classify(answered(503, ""), policy), breaker::Outcome::ignored);
    EXPECT_EQ(classify(answered(500, ""), policy), breaker::Outcome::failure);
}

TEST(StatusSetTest, ReadsCodesAndRangesWithSpaces) {
    const auto set = StatusSet::parse(" 404 , 500-503,599");

    ASSERT_TRUE(set);
    EXPECT_TRUE(set->contains(404));
    EXPECT_TRUE(set->contains(500));
    EXPECT_TRUE(set->contains(503));
    EXPECT_TRUE(set->contains(599));
    EXPECT_FALSE(set->contains(504));
    EXPECT_FALSE(set->contains(405));
    EXPECT_EQ(set->to_string(), "404,500-503,599");
}

TEST(StatusSetTest, NoneAndEmptyAreTheEmptySet) {
    EXPECT_TRUE(StatusSet::parse("none")->empty());
    EXPECT_TRUE(StatusSet::parse("")->empty());
    EXPECT_EQ(StatusSet{}.to_string(), "none");
}

TEST(StatusSetTest, RejectsWhatIsNotAStatusOrRange) {
    for (const char* bad : {"5xx", "600", "99", "503-500", "500-", ",500", "500,,501", "-1"}) {
        std::string error;
        EXPECT_FALSE(StatusSet::parse(bad, &error)) << bad;
        EXPECT_NE(error.find("100 to 599"), std::string::npos) << bad;
    }
}

}  // namespace
}  // namespace circuitlab::lab
