#include "circuitlab/breaker/in_flight.hpp"

#include <algorithm>

namespace circuitlab::breaker {

InFlight::InFlight(Clock::duration slow_after) : slow_after_(slow_after) {}

std::uint64_t InFlight::add(Clock::time_point start) {
    entries_.push_back(Entry{start});
    ++in_flight_;
    return front_ticket_ + entries_.size() - 1;
}

bool InFlight::remove(std::uint64_t ticket) {
    if (ticket < front_ticket_ || ticket - front_ticket_ >= entries_.size()) {
        return false;
    }
    const auto index = static_cast<std::size_t>(ticket - front_ticket_);
    Entry& entry = entries_[index];
    if (entry.done) {
        return false;
    }
    entry.done = true;
    --in_flight_;
    slow_ -= index < frontier_ ? 1 : 0;
    pop_finished();
    return true;
}

void InFlight::age(Clock::time_point now) {
    while (frontier_ < entries_.size() && entries_[frontier_].start + slow_after_ <= now) {
        slow_ += entries_[frontier_].done ? 0 : 1;
        ++frontier_;
    }
}

void InFlight::clear() {
    front_ticket_ += entries_.size();
    entries_.clear();
    frontier_ = 0;
    scan_ = 0;
    in_flight_ = 0;
    slow_ = 0;
}

std::optional<Clock::time_point> InFlight::next_slow_at() const {
    // A finished call never comes back, so the scan resumes where it stopped: amortised O(1).
    scan_ = std::max(scan_, frontier_);
    while (scan_ < entries_.size() && entries_[scan_].done) {
        ++scan_;
    }
    if (scan_ == entries_.size()) {
        return std::nullopt;
    }
    return entries_[scan_].start + slow_after_;
}

void InFlight::pop_finished() {
    // Finished calls behind an unfinished one stay until it finishes: tickets are indices.
    while (!entries_.empty() && entries_.front().done) {
        entries_.pop_front();
        ++front_ticket_;
        frontier_ -= frontier_ > 0 ? 1 : 0;
        scan_ -= scan_ > 0 ? 1 : 0;
    }
}

}  // namespace circuitlab::breaker
