#include "circuitlab/breaker/circuit_breaker.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <utility>

namespace circuitlab::breaker {

namespace {

using std::chrono::milliseconds;

std::string format(const char* pattern, auto... args) {
    char text[160];
    std::snprintf(text, sizeof text, pattern, args...);
    return text;
}

double seconds(milliseconds value) {
    return static_cast<double>(value.count()) / 1000.0;
}

milliseconds ceil_ms(Clock::duration value) {
    if (value <= Clock::duration::zero()) {
        return milliseconds{0};
    }
    return std::chrono::ceil<milliseconds>(value);
}

std::string rate_reason(
    const char* what, double rate, const char* op, double threshold, std::size_t calls) {
    return format("%s %.1f%% %s %.1f%% over %zu calls", what, rate, op, threshold, calls);
}

/// Ticket of a permit whose age is not tracked (a trial call, or the in-flight trip is off).
constexpr std::uint64_t no_ticket = std::numeric_limits<std::uint64_t>::max();

RandomSource default_random(const BreakerConfig& config) {
    if (config.open_jitter <= 0.0) {
        return [] { return 0.5; };
    }
    return [engine = std::mt19937_64(std::random_device{}())]() mutable {
        return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
    };
}

}  // namespace

std::string describe(const Transition& transition) {
    std::string text = "breaker " + transition.breaker + ": ";
    text += to_string(transition.from);
    text += " -> ";
    text += to_string(transition.to);
    return text + " (" + transition.reason + ")";
}

// --- Permit ---------------------------------------------------------------------------

Permit::Permit(std::shared_ptr<CircuitBreaker> breaker,
               std::uint64_t generation,
               Clock::time_point started,
               bool trial,
               std::uint64_t ticket)
    : breaker_(std::move(breaker)),
      generation_(generation),
      started_(started),
      trial_(trial),
      ticket_(ticket) {}

Permit::Permit(Permit&& other) noexcept
    : breaker_(std::move(other.breaker_)),
      generation_(other.generation_),
      started_(other.started_),
      trial_(other.trial_),
      ticket_(other.ticket_) {}

Permit& Permit::operator=(Permit&& other) noexcept {
    if (this != &other) {
        complete(Outcome::ignored);
        breaker_ = std::move(other.breaker_);
        generation_ = other.generation_;
        started_ = other.started_;
        trial_ = other.trial_;
        ticket_ = other.ticket_;
    }
    return *this;
}

Permit::~Permit() {
    complete(Outcome::ignored);
}

void Permit::complete(Outcome outcome) {
    if (!breaker_) {
        return;
    }
    auto breaker = std::move(breaker_);
    breaker->on_complete(*this, outcome);
}

// --- CircuitBreaker -------------------------------------------------------------------

std::shared_ptr<CircuitBreaker> CircuitBreaker::create(std::string name,
                                                       BreakerConfig config,
                                                       const Clock& clock,
                                                       TransitionObserver observer,
                                                       RandomSource random) {
    return std::make_shared<CircuitBreaker>(
        Private{}, std::move(name), config, clock, std::move(observer), std::move(random));
}

CircuitBreaker::CircuitBreaker(Private,
                               std::string name,
                               BreakerConfig config,
                               const Clock& clock,
                               TransitionObserver observer,
                               RandomSource random)
    : name_(std::move(name)),
      config_(config),
      clock_(clock),
      observer_(std::move(observer)),
      random_(random ? std::move(random) : default_random(config)),
      window_(config.window_type, config.window_size),
      in_flight_(config.slow_call_duration),
      trials_(config.half_open_calls) {}

std::variant<Permit, Rejection> CircuitBreaker::try_acquire() {
    Events events;
    std::variant<Permit, Rejection> result = Rejection{};
    {
        std::lock_guard lock(mutex_);
        const auto now = clock_.now();
        apply_deadlines(now, events);

        if (state_ == State::open && now >= open_until_) {
            transition_to(
                State::half_open, format("wait of %.1f s over", seconds(*open_wait_)), events);
        }

        if (permits_freely(state_)) {
            result = free_permit(now);
        } else if (state_ == State::half_open &&
                   trials_in_flight_ + trials_.counts().calls < config_.half_open_calls) {
            result = trial_permit(now);
        } else {
            result = Rejection{state_, retry_after(now)};
        }
    }
    notify(events);
    return result;
}

Permit CircuitBreaker::free_permit(Clock::time_point now) {
    // Ages are kept only for the in-flight trip: the list costs a sixth of a call.
    ++calls_in_flight_;
    const std::uint64_t ticket = config_.inflight_trip ? in_flight_.add(now) : no_ticket;
    return Permit(shared_from_this(), generation_, now, false, ticket);
}

Permit CircuitBreaker::trial_permit(Clock::time_point now) {
    // The half-open wait runs from the first trial: an automatic half-open with no traffic
    // waits for its first call rather than timing out with nothing tried.
    if (trials_taken_ == 0) {
        half_open_until_ = now + config_.max_wait_in_half_open;
    }
    ++trials_taken_;
    ++trials_in_flight_;
    return Permit(shared_from_this(), generation_, now, true, no_ticket);
}

State CircuitBreaker::state() {
    return snapshot().state;
}

Snapshot CircuitBreaker::snapshot() {
    Events events;
    Snapshot view;
    {
        std::lock_guard lock(mutex_);
        const auto now = clock_.now();
        apply_deadlines(now, events);

        view.state = state_;
        view.window = state_ == State::half_open ? trials_.counts() : window_.counts(now);
        view.generation = generation_;
        view.consecutive_failures = consecutive_failures_;
        view.trials_in_flight = trials_in_flight_;
        if (state_ == State::open) {
            view.next_probe_in = ceil_ms(open_until_ - now);
        }
        in_flight_.age(now);
        view.in_flight = calls_in_flight_;
        view.slow_in_flight = in_flight_.slow();
        view.open_wait = open_wait_;
        view.failed_probes = failed_probes_;
    }
    notify(events);
    return view;
}

std::optional<Clock::time_point> CircuitBreaker::poll() {
    Events events;
    std::optional<Clock::time_point> next;
    {
        std::lock_guard lock(mutex_);
        apply_deadlines(clock_.now(), events);
        next = next_deadline();
    }
    notify(events);
    return next;
}

bool CircuitBreaker::force(State to, const std::string& reason) {
    Events events;
    {
        std::lock_guard lock(mutex_);
        if (!is_legal_transition(state_, to)) {
            return false;
        }
        transition_to(to, reason, events);
    }
    notify(events);
    return true;
}

void CircuitBreaker::on_complete(const Permit& permit, Outcome outcome) {
    Events events;
    {
        std::lock_guard lock(mutex_);
        const auto now = clock_.now();
        // The call is back: it no longer counts as in flight when the deadlines are judged.
        if (!permit.trial_ && permit.generation_ == generation_) {
            --calls_in_flight_;
            in_flight_.remove(permit.ticket_);
        }
        apply_deadlines(now, events);

        // A result from an earlier generation says nothing about the current state.
        if (permit.generation_ == generation_) {
            const bool slow = now - permit.started_ >= config_.slow_call_duration;
            const bool failure = outcome == Outcome::failure;
            if (permit.trial_) {
                --trials_in_flight_;
            }
            if (outcome != Outcome::ignored) {
                if (permit.trial_) {
                    record_trial(failure, slow, events);
                } else {
                    record_closed(now, failure, slow, events);
                }
            }
        }
    }
    notify(events);
}

void CircuitBreaker::record_closed(Clock::time_point now, bool failure, bool slow, Events& events) {
    if (state_ == State::disabled) {
        return;
    }
    window_.record(now, failure, slow);
    consecutive_failures_ = failure ? consecutive_failures_ + 1 : 0;
    if (state_ != State::closed) {
        return;  // metrics_only records but never trips.
    }
    if (auto reason = trip_reason()) {
        transition_to(State::open, std::move(*reason), events);
    }
}

void CircuitBreaker::record_trial(bool failure, bool slow, Events& events) {
    trials_.record(failure, slow);
    if (trials_.counts().calls < config_.half_open_calls) {
        return;
    }
    bool reopen = false;
    std::string reason = trial_verdict(reopen);
    transition_to(reopen ? State::open : State::closed, std::move(reason), events);
}

std::optional<std::string> CircuitBreaker::trip_reason() const {
    const std::size_t limit = config_.consecutive_failures;
    if (limit > 0 && consecutive_failures_ >= limit) {
        return format("%zu consecutive failures", consecutive_failures_);
    }

    const WindowCounts& counts = window_.counts();
    if (counts.calls < config_.minimum_calls) {
        return std::nullopt;
    }
    const double failure_rate = *counts.failure_rate();
    if (failure_rate >= config_.failure_rate_threshold) {
        return rate_reason(
            "failure rate", failure_rate, ">=", config_.failure_rate_threshold, counts.calls);
    }
    const double slow_rate = *counts.slow_call_rate();
    if (slow_rate >= config_.slow_call_rate_threshold) {
        return rate_reason(
            "slow-call rate", slow_rate, ">=", config_.slow_call_rate_threshold, counts.calls);
    }
    return std::nullopt;
}

std::string CircuitBreaker::trial_verdict(bool& reopen) const {
    const WindowCounts& counts = trials_.counts();
    const double failure_rate = *counts.failure_rate();
    const double slow_rate = *counts.slow_call_rate();
    reopen = true;
    if (failure_rate >= config_.failure_rate_threshold) {
        return rate_reason(
            "trial failure rate", failure_rate, ">=", config_.failure_rate_threshold, counts.calls);
    }
    if (slow_rate >= config_.slow_call_rate_threshold) {
        return rate_reason("trial slow-call rate",
                           slow_rate,
                           ">=",
                           config_.slow_call_rate_threshold,
                           counts.calls);
    }
    reopen = false;
    return rate_reason(
        "trial failure rate", failure_rate, "<", config_.failure_rate_threshold, counts.calls);
}

void CircuitBreaker::apply_deadlines(Clock::time_point now, Events& events) {
    if (state_ == State::half_open && trials_taken_ > 0 && now >= half_open_until_) {
        const std::size_t finished = trials_.counts().calls;
        transition_to(State::open,
                      format("%zu of %zu trial calls unfinished after %.1f s",
                             config_.half_open_calls - finished,
                             config_.half_open_calls,
                             seconds(config_.max_wait_in_half_open)),
                      events);
    }
    if (state_ == State::open && config_.auto_half_open && now >= open_until_) {
        transition_to(
            State::half_open, format("wait of %.1f s over", seconds(*open_wait_)), events);
    }
    if (state_ == State::closed && config_.inflight_trip) {
        check_in_flight(now, events);
    }
}

void CircuitBreaker::check_in_flight(Clock::time_point now, Events& events) {
    in_flight_.age(now);
    const std::size_t calls = in_flight_.size();
    if (calls == 0 || calls < config_.minimum_calls) {
        return;
    }
    const double rate = 100.0 * static_cast<double>(in_flight_.slow()) / static_cast<double>(calls);
    if (rate >= config_.slow_call_rate_threshold) {
        transition_to(State::open,
                      format("in-flight slow-call rate %.1f%% >= %.1f%% over %zu calls in flight",
                             rate,
                             config_.slow_call_rate_threshold,
                             calls),
                      events);
    }
}

std::optional<Clock::time_point> CircuitBreaker::next_deadline() const {
    if (state_ == State::half_open && trials_taken_ > 0) {
        return half_open_until_;
    }
    if (state_ == State::open && config_.auto_half_open) {
        return open_until_;
    }
    if (state_ == State::closed && config_.inflight_trip &&
        in_flight_.size() >= config_.minimum_calls) {
        return in_flight_.next_slow_at();
    }
    return std::nullopt;
}

void CircuitBreaker::transition_to(State to, std::string reason, Events& events) {
    const State from = state_;
    const WindowCounts before = from == State::half_open ? trials_.counts() : window_.counts();

    state_ = to;
    ++generation_;
    window_.clear();
    trials_.clear();
    consecutive_failures_ = 0;
    trials_in_flight_ = 0;
    calls_in_flight_ = 0;
    in_flight_.clear();

    // The wait grows with each failed probe and starts over once the breaker closes.
    if (to == State::closed) {
        failed_probes_ = 0;
    }
    if (from == State::half_open && to == State::open && trials_taken_ > 0) {
        ++failed_probes_;
    }
    trials_taken_ = 0;

    const auto now = clock_.now();
    if (to == State::open) {
        open_wait_ = draw_open_wait();
        open_until_ = now + *open_wait_;
    }
    events.push_back(Transition{name_, from, to, std::move(reason), before, generation_});
}

milliseconds CircuitBreaker::draw_open_wait() {
    const auto base = static_cast<double>(config_.wait_in_open.count());
    double wait = base * std::pow(config_.open_backoff, static_cast<double>(failed_probes_));
    if (config_.open_backoff > 1.0) {
        wait = std::min(wait, static_cast<double>(config_.max_wait_in_open.count()));
    }
    if (config_.open_jitter > 0.0) {
        wait *= 1.0 + config_.open_jitter * (2.0 * random_() - 1.0);
    }
    return milliseconds{std::max<long long>(1, std::llround(wait))};
}

milliseconds CircuitBreaker::retry_after(Clock::time_point now) const {
    switch (state_) {
        case State::open:
            return ceil_ms(open_until_ - now);
        case State::half_open:
            return ceil_ms(half_open_until_ - now);
        default:
            return config_.wait_in_open;
    }
}

void CircuitBreaker::notify(const Events& events) const {
    if (!observer_) {
        return;
    }
    for (const Transition& transition : events) {
        observer_(transition);
    }
}

}  // namespace circuitlab::breaker
