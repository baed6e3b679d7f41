#include "circuitlab/lab/retry.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <utility>

namespace circuitlab::lab {

std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, unsigned retry, double draw) {
    // Past 2^30 the cap has long been reached; the bound keeps the shift defined.
    const double growth = std::ldexp(1.0, static_cast<int>(std::min(retry, 30u)));
    const double ceiling = std::min(static_cast<double>(policy.backoff_cap.count()),
                                    static_cast<double>(policy.backoff_base.count()) * growth);
    return std::chrono::milliseconds{static_cast<long>(std::floor(ceiling * draw))};
}

double random_draw() {
    thread_local std::mt19937_64 engine{std::random_device{}()};
    return std::uniform_real_distribution<double>{0.0, 1.0}(engine);
}

HopLoad::Slot::Slot(Slot&& other) noexcept
    : load_(std::exchange(other.load_, nullptr)), retry_(other.retry_) {}

HopLoad::Slot& HopLoad::Slot::operator=(Slot&& other) noexcept {
    if (this != &other) {
        release();
        load_ = std::exchange(other.load_, nullptr);
        retry_ = other.retry_;
    }
    return *this;
}

HopLoad::Slot::~Slot() {
    release();
}

void HopLoad::Slot::release() {
    if (load_ != nullptr) {
        std::exchange(load_, nullptr)->leave(retry_);
    }
}

HopLoad::HopLoad(std::size_t max_requests, RetryPolicy policy)
    : max_requests_(max_requests), policy_(policy) {}

HopLoad::Slot HopLoad::enter() {
    std::lock_guard lock(mutex_);
    if (max_requests_ != 0 && requests_ >= max_requests_) {
        return {};
    }
    ++requests_;
    return Slot{this, false};
}

HopLoad::Slot HopLoad::retry() {
    std::lock_guard lock(mutex_);
    if (retries_ >= retry_allowance()) {
        return {};
    }
    ++retries_;
    peak_retries_ = std::max(peak_retries_, retries_);
    return Slot{this, true};
}

std::size_t HopLoad::retry_allowance() const {
    if (!policy_.budget_percent) {
        return static_cast<std::size_t>(-1);
    }
    const auto share = static_cast<std::size_t>(
        std::floor(static_cast<double>(requests_) * *policy_.budget_percent / 100.0));
    return std::max(policy_.budget_min, share);
}

void HopLoad::leave(bool retry) {
    std::lock_guard lock(mutex_);
    if (retry) {
        --retries_;
    } else {
        --requests_;
    }
}

std::size_t HopLoad::requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
}

std::size_t HopLoad::retries() const {
    std::lock_guard lock(mutex_);
    return retries_;
}

std::size_t HopLoad::peak_retries() const {
    std::lock_guard lock(mutex_);
    return peak_retries_;
}

}  // namespace circuitlab::lab
