#include "circuitlab/breaker/window.hpp"

#include <algorithm>

namespace circuitlab::breaker {

namespace {

std::optional<double> percent(std::size_t part, std::size_t whole) {
    if (whole == 0) {
        return std::nullopt;
    }
    return 100.0 * static_cast<double>(part) / static_cast<double>(whole);
}

}  // namespace

std::optional<double> WindowCounts::failure_rate() const {
    return percent(failures, calls);
}

std::optional<double> WindowCounts::slow_call_rate() const {
    return percent(slow_calls, calls);
}

CountWindow::CountWindow(std::size_t size) : slots_(std::max<std::size_t>(size, 1)) {}

void CountWindow::record(bool failure, bool slow) {
    Slot& slot = slots_[next_];
    if (counts_.calls == slots_.size()) {
        // Full: the slot being overwritten holds the oldest result.
        counts_.failures -= slot.failure ? 1 : 0;
        counts_.slow_calls -= slot.slow ? 1 : 0;
        counts_.slow_failures -= slot.slow && slot.failure ? 1 : 0;
    } else {
        ++counts_.calls;
    }

    slot = Slot{failure, slow};
    counts_.failures += failure ? 1 : 0;
    counts_.slow_calls += slow ? 1 : 0;
    counts_.slow_failures += slow && failure ? 1 : 0;
    next_ = (next_ + 1) % slots_.size();
}

void CountWindow::clear() {
    std::fill(slots_.begin(), slots_.end(), Slot{});
    next_ = 0;
    counts_ = WindowCounts{};
}

// --- TimeWindow -----------------------------------------------------------------------

TimeWindow::TimeWindow(std::size_t seconds) : buckets_(std::max<std::size_t>(seconds, 1)) {}

void TimeWindow::record(Clock::time_point now, bool failure, bool slow) {
    age(now);
    WindowCounts& bucket = buckets_[static_cast<std::size_t>(head_second_) % buckets_.size()];
    for (WindowCounts* counts : {&bucket, &counts_}) {
        ++counts->calls;
        counts->failures += failure ? 1 : 0;
        counts->slow_calls += slow ? 1 : 0;
        counts->slow_failures += slow && failure ? 1 : 0;
    }
}

void TimeWindow::age(Clock::time_point now) {
    const auto second = std::chrono::floor<std::chrono::seconds>(now.time_since_epoch()).count();
    if (!started_) {
        started_ = true;
        head_second_ = second;
        return;
    }
    if (second <= head_second_) {
        return;
    }
    // Each second that starts empties the bucket it reuses; past a whole turn all are empty.
    const auto size = static_cast<std::int64_t>(buckets_.size());
    const std::int64_t steps = std::min(second - head_second_, size);
    for (std::int64_t s = second - steps + 1; s <= second; ++s) {
        drop(buckets_[static_cast<std::size_t>(s % size)]);
    }
    head_second_ = second;
}

void TimeWindow::drop(WindowCounts& bucket) {
    counts_.calls -= bucket.calls;
    counts_.failures -= bucket.failures;
    counts_.slow_calls -= bucket.slow_calls;
    counts_.slow_failures -= bucket.slow_failures;
    bucket = WindowCounts{};
}

void TimeWindow::clear() {
    std::fill(buckets_.begin(), buckets_.end(), WindowCounts{});
    counts_ = WindowCounts{};
}

// --- SlidingWindow --------------------------------------------------------------------

namespace {

std::variant<CountWindow, TimeWindow> make_window(WindowType type, std::size_t size) {
    if (type == WindowType::time) {
        return TimeWindow(size);
    }
    return CountWindow(size);
}

}  // namespace

SlidingWindow::SlidingWindow(WindowType type, std::size_t size)
    : window_(make_window(type, size)) {}

void SlidingWindow::record(Clock::time_point now, bool failure, bool slow) {
    if (auto* time = std::get_if<TimeWindow>(&window_)) {
        time->record(now, failure, slow);
    } else {
        std::get<CountWindow>(window_).record(failure, slow);
    }
}

const WindowCounts& SlidingWindow::counts(Clock::time_point now) {
    if (auto* time = std::get_if<TimeWindow>(&window_)) {
        time->age(now);
    }
    return counts();
}

const WindowCounts& SlidingWindow::counts() const {
    return std::visit([](const auto& window) -> const WindowCounts& { return window.counts(); },
                      window_);
}

void SlidingWindow::clear() {
    std::visit([](auto& window) { window.clear(); }, window_);
}

}  // namespace circuitlab::breaker
