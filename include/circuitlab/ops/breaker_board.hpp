#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "circuitlab/breaker/circuit_breaker.hpp"
#include "circuitlab/lab/guarded_call.hpp"
#include "circuitlab/ops/prometheus.hpp"

namespace circuitlab::ops {

/// A transition as kept for status pages: the event and the wall-clock time it was seen.
struct TransitionRecord {
    breaker::Transition transition;
    std::chrono::system_clock::time_point at;
};

/// Calls of this process by how they ended, summed over every breaker. Monotonic.
struct OutcomeTotals {
    std::uint64_t success = 0;   ///< Counted as a success by the breaker.
    std::uint64_t failure = 0;   ///< Counted as a failure by the breaker.
    std::uint64_t rejected = 0;  ///< Rejected by a breaker here, or shed by one below.
    std::uint64_t bypassed = 0;  ///< Sent with `non_circuit_breaker`.
};

/// Everything this process knows about its breakers, for `/api/breakers`, `/metrics` and
/// the event stream: the breakers themselves, their last transitions, how long each spent
/// in each state and what became of their calls. Thread-safe.
class BreakerBoard {
  public:
    /// Transitions kept per breaker for `/api/breakers`.
    static constexpr std::size_t history_size = 20;

    /// `clock` (the breakers' clock) must outlive the board.
    explicit BreakerBoard(const breaker::Clock& clock);

    /// Starts tracking the breaker called `name` and returns the observer to create it
    /// with: it records each transition, then calls `next` (e.g. logging). Call before
    /// creating the breaker, then hand it over with attach.
    breaker::TransitionObserver track(const std::string& name, breaker::TransitionObserver next);

    /// Hands over a breaker whose name was tracked.
    void attach(std::shared_ptr<breaker::CircuitBreaker> breaker);

    /// The breaker with this name, or null.
    std::shared_ptr<breaker::CircuitBreaker> find(std::string_view name) const;

    /// Counts one call of a guarded hop (the hop's CallRecorder).
    void record(const lab::CallRecord& call);

    /// Totals since start, for per-second rates.
    OutcomeTotals totals() const;

    /// JSON list of every breaker: state, window, rates (null with `evaluated: false` before
    /// minimum_calls), next probe, generation, config, counts and last transitions (newest
    /// first).
    nlohmann::json status() const;

    /// Writes the breaker metric families (resilience4j names and circuitlab extras).
    void write_metrics(PromText& out) const;

    /// The JSON of one transition, as in `status()` and the event stream.
    static nlohmann::json transition_json(const TransitionRecord& record);

  private:
    struct Calls {
        std::uint64_t successful = 0;
        std::uint64_t failed = 0;
        std::uint64_t ignored = 0;
        std::uint64_t not_permitted = 0;
        std::uint64_t bypassed = 0;
    };

    struct Entry {
        std::string name;
        std::shared_ptr<breaker::CircuitBreaker> breaker;
        mutable std::mutex mutex;  // Guards what follows; never held while calling a breaker.
        std::deque<TransitionRecord> history;
        std::map<std::pair<breaker::State, breaker::State>, std::uint64_t> transitions;
        std::array<breaker::Clock::duration, 6> time_in_state{};
        breaker::State state = breaker::State::closed;
        breaker::Clock::time_point since;
        Calls calls;
        std::map<std::string, std::uint64_t> reasons;
        std::array<Histogram, 3> durations;  // successful, failed, ignored
    };

    void on_transition(Entry& entry, const breaker::Transition& transition);
    std::vector<std::shared_ptr<Entry>> entries() const;
    std::shared_ptr<Entry> entry(std::string_view name) const;
    nlohmann::json entry_status(const Entry& entry) const;
    void write_state_metrics(PromText& out, const std::vector<std::shared_ptr<Entry>>& all) const;
    void write_window_metrics(PromText& out, const std::vector<std::shared_ptr<Entry>>& all) const;
    void write_call_metrics(PromText& out, const std::vector<std::shared_ptr<Entry>>& all) const;

    const breaker::Clock& clock_;
    mutable std::mutex mutex_;  // Guards the list only.
    std::vector<std::shared_ptr<Entry>> entries_;

    std::atomic<std::uint64_t> success_{0};
    std::atomic<std::uint64_t> failure_{0};
    std::atomic<std::uint64_t> rejected_{0};
    std::atomic<std::uint64_t> bypassed_{0};
};

}  // namespace circuitlab::ops
