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

std::optional<double> WindowCounts::failure_rate() const { return percent(failures, calls); }

std::optional<double> WindowCounts::slow_call_rate() const { return percent(slow_calls, calls); }

CountWindow::CountWindow(std::size_t size) : slots_(std::max<std::size_t>(size, 1)) {}

void CountWindow::record(bool failure, bool slow) {
    Slot& slot = slots_[next_];
    if (counts_.calls == slots_.size()) {
        // Full: the slot being overwritten holds the oldest result.
        counts_.failures -= slot.failure ? 1 : 0;
        counts_.slow_calls -= slot.slow ? 1 : 0;
    } else {
        ++counts_.calls;
    }

    slot = Slot{failure, slow};
    counts_.failures += failure ? 1 : 0;
    counts_.slow_calls += slow ? 1 : 0;
    next_ = (next_ + 1) % slots_.size();
}

void CountWindow::clear() {
    std::fill(slots_.begin(), slots_.end(), Slot{});
    next_ = 0;
    counts_ = WindowCounts{};
}

}  // namespace circuitlab::breaker
