#include "circuitlab/ops/prometheus.hpp"

#include <cmath>
#include <cstdio>

namespace circuitlab::ops {

namespace {

std::string escape(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        if (c == '\\' || c == '"') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

std::string number(double value) {
    if (std::isinf(value)) {
        return value > 0 ? "+Inf" : "-Inf";
    }
    if (std::isnan(value)) {
        return "NaN";
    }
    char text[40];
    std::snprintf(text, sizeof text, "%.15g", value);
    return text;
}

double seconds(std::chrono::nanoseconds elapsed) {
    return std::chrono::duration<double>(elapsed).count();
}

}  // namespace

void PromText::family(std::string_view name, std::string_view type, std::string_view help) {
    text_ += "# HELP ";
    text_ += name;
    text_ += ' ';
    text_ += help;
    text_ += "\n# TYPE ";
    text_ += name;
    text_ += ' ';
    text_ += type;
    text_ += '\n';
}

void PromText::sample(std::string_view name, const Labels& labels, double value) {
    text_ += name;
    if (!labels.empty()) {
        text_ += '{';
        for (std::size_t i = 0; i < labels.size(); ++i) {
            text_ += (i == 0 ? "" : ",") + labels[i].first + "=\"" + escape(labels[i].second);
            text_ += '"';
        }
        text_ += '}';
    }
    text_ += ' ' + number(value) + '\n';
}

void Histogram::observe(std::chrono::nanoseconds elapsed) {
    const double value = seconds(elapsed);
    std::lock_guard lock(mutex_);
    ++count_;
    sum_ += value;
    for (std::size_t i = 0; i < latency_buckets.size(); ++i) {
        if (value <= latency_buckets[i]) {
            ++buckets_[i];
            break;
        }
    }
}

void Histogram::write(PromText& out, std::string_view name, const Labels& labels) const {
    std::lock_guard lock(mutex_);
    const std::string bucket = std::string(name) + "_bucket";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < latency_buckets.size(); ++i) {
        cumulative += buckets_[i];
        Labels with_le = labels;
        with_le.emplace_back("le", number(latency_buckets[i]));
        out.sample(bucket, with_le, static_cast<double>(cumulative));
    }
    Labels with_inf = labels;
    with_inf.emplace_back("le", "+Inf");
    out.sample(bucket, with_inf, static_cast<double>(count_));
    out.sample(std::string(name) + "_sum", labels, sum_);
    out.sample(std::string(name) + "_count", labels, static_cast<double>(count_));
}

std::uint64_t Histogram::count() const {
    std::lock_guard lock(mutex_);
    return count_;
}

void HistogramFamily::observe(const Labels& labels, std::chrono::nanoseconds elapsed) {
    Histogram* histogram = nullptr;
    {
        std::lock_guard lock(mutex_);
        histogram = &histograms_[labels];  // std::map nodes never move.
    }
    histogram->observe(elapsed);
}

void HistogramFamily::write(PromText& out, std::string_view name) const {
    std::lock_guard lock(mutex_);
    for (const auto& [labels, histogram] : histograms_) {
        histogram.write(out, name, labels);
    }
}

void CounterFamily::add(const Labels& labels, std::uint64_t amount) {
    std::lock_guard lock(mutex_);
    counters_[labels] += amount;
}

void CounterFamily::write(PromText& out, std::string_view name) const {
    std::lock_guard lock(mutex_);
    for (const auto& [labels, value] : counters_) {
        out.sample(name, labels, static_cast<double>(value));
    }
}

std::uint64_t CounterFamily::value(const Labels& labels) const {
    std::lock_guard lock(mutex_);
    const auto found = counters_.find(labels);
    return found == counters_.end() ? 0 : found->second;
}

}  // namespace circuitlab::ops
