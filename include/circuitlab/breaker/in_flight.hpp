#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>

#include "circuitlab/breaker/clock.hpp"

namespace circuitlab::breaker {

/// The calls a breaker has let through and not yet heard back from, in the order they were
/// let through, with how many of them are already slow (older than a given duration).
/// Each operation is amortised O(1): start times arrive in order, so the slow ones are a
/// prefix that only grows as time passes. Memory holds every call since the oldest one
/// still in flight. Not thread-safe; the breaker guards it. Time must not go backwards.
class InFlight {
  public:
    /// Tracks calls that become slow once they are `slow_after` old.
    explicit InFlight(Clock::duration slow_after);

    /// Adds a call started at `start` (not earlier than the last one); returns its ticket.
    std::uint64_t add(Clock::time_point start);

    /// Removes the call with this ticket. Returns false (and does nothing) for a ticket
    /// already removed or forgotten by clear().
    bool remove(std::uint64_t ticket);

    /// Counts as slow every call started at least `slow_after` before `now`.
    void age(Clock::time_point now);

    /// Forgets every call; their tickets become unknown.
    void clear();

    /// Calls in flight.
    std::size_t size() const { return in_flight_; }

    /// Calls in flight that were slow at the last age().
    std::size_t slow() const { return slow_; }

    /// When the next call in flight becomes slow; nullopt when none is left to.
    std::optional<Clock::time_point> next_slow_at() const;

  private:
    struct Entry {
        Clock::time_point start;
        bool done = false;
    };

    void pop_finished();

    Clock::duration slow_after_;
    std::deque<Entry> entries_;
    std::uint64_t front_ticket_ = 0;  ///< Ticket of entries_.front().
    std::size_t frontier_ = 0;        ///< entries_[0, frontier_) are slow.
    mutable std::size_t scan_ = 0;    ///< entries_[frontier_, scan_) are all finished.
    std::size_t in_flight_ = 0;
    std::size_t slow_ = 0;
};

}  // namespace circuitlab::breaker
