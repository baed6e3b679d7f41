#include "circuitlab/ops/prometheus.hpp"

#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace circuitlab::ops {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
    }
    return lines;
}

// The value of the sample line that starts with `series` (name and labels), or NaN.
double value_of(const std::string& text, const std::string& series) {
    for (const std::string& line : lines_of(text)) {
        if (line.starts_with(series + " ")) {
            return std::stod(line.substr(series.size() + 1));
        }
    }
    return std::numeric_limits<double>::quiet_NaN();
}

TEST(PromTextTest, FamilyWritesHelpThenType) {
    PromText out;
    out.family("lab_calls_total", "counter", "Calls made");

    EXPECT_EQ(out.text(), "# HELP lab_calls_total Calls made\n# TYPE lab_calls_total counter\n");
}

TEST(PromTextTest, SampleWithoutLabelsIsNameAndValue) {
    PromText out;
    out.sample("lab_up", {}, 1);

    EXPECT_EQ(out.text(), "lab_up 1\n");
}

TEST(PromTextTest, SampleWritesLabelsInTheOrderGiven) {
    PromText out;
    out.sample("lab_calls_total", {{"name", "a->b"}, {"kind", "failed"}}, 3);

    EXPECT_EQ(out.text(), "lab_calls_total{name=\"a->b\",kind=\"failed\"} 3\n");
}

TEST(PromTextTest, LabelValuesEscapeBackslashQuoteAndNewline) {
    PromText out;
    out.sample("lab_x", {{"path", "a\\b\"c\nd"}}, 0);

    EXPECT_EQ(out.text(), "lab_x{path=\"a\\\\b\\\"c\\nd\"} 0\n");
}

TEST(PromTextTest, NumbersAreWrittenAsPrometheusParsesThem) {
    PromText out;
    out.sample("a", {}, 0.25);
    out.sample("b", {}, 1234567890123.0);
    out.sample("c", {}, std::numeric_limits<double>::infinity());
    out.sample("d", {}, -std::numeric_limits<double>::infinity());
    out.sample("e", {}, std::numeric_limits<double>::quiet_NaN());

    EXPECT_EQ(out.text(), "a 0.25\nb 1234567890123\nc +Inf\nd -Inf\ne NaN\n");
}

TEST(HistogramTest, BucketsAreCumulativeWithInfEqualToCount) {
    Histogram histogram;
    histogram.observe(500us);  // 0.0005 s: first bucket
    histogram.observe(5ms);    // exactly on the 0.005 bound: counted in it
    histogram.observe(2s);     // 2.5 bucket
    histogram.observe(20s);    // past the last bound: +Inf only
    PromText out;
    histogram.write(out, "lab_seconds", {{"name", "x"}});
    const std::string& text = out.text();

    EXPECT_EQ(value_of(text, "lab_seconds_bucket{name=\"x\",le=\"0.001\"}"), 1);
    EXPECT_EQ(value_of(text, "lab_seconds_bucket{name=\"x\",le=\"0.005\"}"), 2);
    EXPECT_EQ(value_of(text, "lab_seconds_bucket{name=\"x\",le=\"1\"}"), 2);
    EXPECT_EQ(value_of(text, "lab_seconds_bucket{name=\"x\",le=\"2.5\"}"), 3);
    EXPECT_EQ(value_of(text, "lab_seconds_bucket{name=\"x\",le=\"10\"}"), 3);
    EXPECT_EQ(value_of(text, "lab_seconds_bucket{name=\"x\",le=\"+Inf\"}"), 4);
    EXPECT_EQ(value_of(text, "lab_seconds_count{name=\"x\"}"), 4);
    EXPECT_NEAR(value_of(text, "lab_seconds_sum{name=\"x\"}"), 22.0055, 1e-9);
    EXPECT_EQ(histogram.count(), 4u);
}

TEST(HistogramTest, WritesEveryBoundInRisingOrderThenSumAndCount) {
    Histogram histogram;
    PromText out;
    histogram.write(out, "h", {});
    const auto lines = lines_of(out.text());

    ASSERT_EQ(lines.size(), latency_buckets.size() + 3);
    double previous = 0;
    for (std::size_t i = 0; i < latency_buckets.size(); ++i) {
        const auto start = lines[i].find("le=\"") + 4;
        const double bound = std::stod(lines[i].substr(start));
        EXPECT_GT(bound, previous) << lines[i];
        EXPECT_TRUE(lines[i].ends_with("} 0")) << lines[i];
        previous = bound;
    }
    EXPECT_EQ(lines[latency_buckets.size()], "h_bucket{le=\"+Inf\"} 0");
    EXPECT_EQ(lines[latency_buckets.size() + 1], "h_sum 0");
    EXPECT_EQ(lines[latency_buckets.size() + 2], "h_count 0");
}

TEST(HistogramFamilyTest, KeepsOneHistogramPerLabelSet) {
    HistogramFamily family;
    family.observe({{"status", "200"}}, 1ms);
    family.observe({{"status", "200"}}, 1ms);
    family.observe({{"status", "502"}}, 1ms);
    PromText out;
    family.write(out, "req_seconds");

    EXPECT_EQ(value_of(out.text(), "req_seconds_count{status=\"200\"}"), 2);
    EXPECT_EQ(value_of(out.text(), "req_seconds_count{status=\"502\"}"), 1);
}

TEST(CounterFamilyTest, AddsPerLabelSetAndReadsZeroForUnseenLabels) {
    CounterFamily family;
    family.add({{"reason", "timeout"}});
    family.add({{"reason", "timeout"}}, 4);
    family.add({{"reason", "ok"}});
    PromText out;
    family.write(out, "calls_total");

    EXPECT_EQ(family.value({{"reason", "timeout"}}), 5u);
    EXPECT_EQ(family.value({{"reason", "reset"}}), 0u);
    EXPECT_EQ(out.text(), "calls_total{reason=\"ok\"} 1\ncalls_total{reason=\"timeout\"} 5\n");
}

}  // namespace
}  // namespace circuitlab::ops
