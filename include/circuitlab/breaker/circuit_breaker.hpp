#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "circuitlab/breaker/breaker_config.hpp"
#include "circuitlab/breaker/clock.hpp"
#include "circuitlab/breaker/in_flight.hpp"
#include "circuitlab/breaker/state.hpp"
#include "circuitlab/breaker/window.hpp"

namespace circuitlab::breaker {

/// How a finished call counts. Classification lives outside the core (lab/outcome.hpp).
enum class Outcome {
    success,
    failure,
    ignored,  ///< Neither: frees a trial slot, touches no count.
};

/// One state change, with its cause and the window as it was just before the change.
struct Transition {
    std::string breaker;
    State from = State::closed;
    State to = State::closed;
    std::string reason;
    WindowCounts window;       ///< Counts the decision was taken on (before clearing).
    std::uint64_t generation;  ///< Generation entered by this transition.
};

/// The one-line text of a transition:
/// `breaker midline->backline: closed -> open (failure rate 60.0% >= 50.0% over 10 calls)`.
std::string describe(const Transition& transition);

/// Called once per transition, after the breaker's lock is released, on the thread that
/// caused it. Must not throw.
using TransitionObserver = std::function<void(const Transition&)>;

/// A call was not let through.
struct Rejection {
    State state = State::open;
    std::chrono::milliseconds retry_after{0};  ///< When asking again may succeed (>= 0).
};

/// A point-in-time view of a breaker, for status pages.
struct Snapshot {
    State state = State::closed;
    WindowCounts window;
    std::uint64_t generation = 0;
    std::size_t consecutive_failures = 0;
    std::size_t trials_in_flight = 0;
    /// Time left before an open breaker lets a probe through; 0 when a probe is due.
    std::optional<std::chrono::milliseconds> next_probe_in;
    /// Calls let through in a free state (closed, disabled, metrics_only) of this
    /// generation and not yet completed; trial calls are in trials_in_flight.
    std::size_t in_flight = 0;
    /// Of in_flight, those already older than slow_call_duration; ages are tracked only
    /// with inflight_trip on, so 0 without it.
    std::size_t slow_in_flight = 0;
    /// The wait drawn for the current (or, when not open, the last) open period, backoff
    /// and jitter included; nullopt before the first opening.
    std::optional<std::chrono::milliseconds> open_wait;
    /// Failed probes (half-open -> open) since the breaker last closed: the backoff exponent.
    std::size_t failed_probes = 0;
};

/// Source of randomness for the open-wait jitter: returns a number uniform in [0, 1).
/// Called under the breaker's lock; must be quick and must not call the breaker.
using RandomSource = std::function<double()>;

class CircuitBreaker;

/// The right to make one call. Complete it exactly once with the outcome; a permit
/// destroyed without an outcome counts as ignored (frees its trial slot). Move-only.
class Permit {
  public:
    Permit(Permit&& other) noexcept;
    Permit& operator=(Permit&& other) noexcept;
    Permit(const Permit&) = delete;
    Permit& operator=(const Permit&) = delete;
    ~Permit();

    /// Records the outcome; the duration is measured on the breaker's clock since the
    /// permit was given. A second call does nothing.
    void complete(Outcome outcome);

    /// Generation of the breaker when the permit was given.
    std::uint64_t generation() const { return generation_; }

    /// Whether this is one of the trial calls of a half-open breaker.
    bool trial() const { return trial_; }

    /// When the permit was given, on the breaker's clock.
    Clock::time_point started() const { return started_; }

  private:
    friend class CircuitBreaker;
    Permit(std::shared_ptr<CircuitBreaker> breaker,
           std::uint64_t generation,
           Clock::time_point started,
           bool trial,
           std::uint64_t ticket);

    std::shared_ptr<CircuitBreaker> breaker_;
    std::uint64_t generation_ = 0;
    Clock::time_point started_;
    bool trial_ = false;
    std::uint64_t ticket_ = 0;  ///< Place among the calls in flight whose age is tracked.
};

/// The breaker: state machine, window and generation. Thread-safe; one mutex guards the
/// bookkeeping, observers are called outside it. Deadlines (half-open timing out, open ->
/// half-open with auto_half_open, the in-flight trip) are evaluated lazily against the
/// clock on every call, read and poll(): the breaker has no timer of its own.
class CircuitBreaker : public std::enable_shared_from_this<CircuitBreaker> {
  public:
    /// The config must be valid (see validate); the clock must outlive the breaker.
    /// `random` draws the open-wait jitter; empty: a generator seeded at random.
    static std::shared_ptr<CircuitBreaker> create(std::string name,
                                                  BreakerConfig config,
                                                  const Clock& clock,
                                                  TransitionObserver observer = {},
                                                  RandomSource random = {});

    /// Asks to make a call: a permit, or a rejection saying why and for how long.
    std::variant<Permit, Rejection> try_acquire();

    /// Current state, after applying any deadline that has passed.
    State state();

    /// State, counts and timers, after applying any deadline that has passed.
    Snapshot snapshot();

    /// Applies every deadline that has passed (half-open timeout; open -> half-open when
    /// auto_half_open is on; the in-flight trip when inflight_trip is on) and returns when
    /// the next one falls: poll again then. nullopt: nothing will change without a call or an
    /// operator. Meant for a timer in the layer above; new calls can bring a deadline forward,
    /// so that timer should also poll now and then (e.g. every 100 ms).
    std::optional<Clock::time_point> poll();

    /// Operator action: moves to any state (forced ones included), as a transition with
    /// the given reason. Moving to closed starts a fresh window. Returns false (and does
    /// nothing) when the move is illegal, e.g. open -> metrics_only is fine but
    /// closed -> half_open is not.
    bool force(State to, const std::string& reason = "forced by operator");

    const std::string& name() const { return name_; }
    const BreakerConfig& config() const { return config_; }

  private:
    struct Private {};

  public:
    CircuitBreaker(Private,
                   std::string name,
                   BreakerConfig config,
                   const Clock& clock,
                   TransitionObserver observer,
                   RandomSource random);

  private:
    friend class Permit;

    using Events = std::vector<Transition>;

    Permit free_permit(Clock::time_point now);
    Permit trial_permit(Clock::time_point now);
    void on_complete(const Permit& permit, Outcome outcome);
    void record_closed(Clock::time_point now, bool failure, bool slow, Events& events);
    void record_trial(bool failure, bool slow, Events& events);
    void apply_deadlines(Clock::time_point now, Events& events);
    void check_in_flight(Clock::time_point now, Events& events);
    std::optional<Clock::time_point> next_deadline() const;
    std::optional<std::string> trip_reason() const;
    std::string trial_verdict(bool& reopen) const;
    void transition_to(State to, std::string reason, Events& events);
    std::chrono::milliseconds draw_open_wait();
    std::chrono::milliseconds retry_after(Clock::time_point now) const;
    void notify(const Events& events) const;

    const std::string name_;
    const BreakerConfig config_;
    const Clock& clock_;
    const TransitionObserver observer_;

    std::mutex mutex_;
    RandomSource random_;
    State state_ = State::closed;
    std::uint64_t generation_ = 0;
    SlidingWindow window_;
    std::size_t calls_in_flight_ = 0;  ///< Free-state permits of this generation not back yet.
    InFlight in_flight_;               ///< Their ages, with inflight_trip on only.
    std::size_t failed_probes_ = 0;
    std::optional<std::chrono::milliseconds> open_wait_;
    std::size_t consecutive_failures_ = 0;
    Clock::time_point open_until_{};
    Clock::time_point half_open_until_{};  ///< Set by the first trial of a half-open period.
    std::size_t trials_taken_ = 0;         ///< Trials let through in this half-open period.
    std::size_t trials_in_flight_ = 0;
    CountWindow trials_;
};

}  // namespace circuitlab::breaker
