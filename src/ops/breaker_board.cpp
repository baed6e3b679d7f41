#include "circuitlab/ops/breaker_board.hpp"

#include <nlohmann/json.hpp>

#include "circuitlab/ops/event_json.hpp"

namespace circuitlab::ops {

namespace {

using breaker::State;
using nlohmann::json;

constexpr std::array<State, 6> all_states{State::closed,
                                          State::open,
                                          State::half_open,
                                          State::disabled,
                                          State::forced_open,
                                          State::metrics_only};

// The moves a breaker makes on its own: their counters are written from the start, at 0, so
// that the first trip is an increase a query sees rather than a series that appears at 1.
constexpr std::array<std::pair<State, State>, 4> automatic_moves{
    {{State::closed, State::open},
     {State::open, State::half_open},
     {State::half_open, State::open},
     {State::half_open, State::closed}}};

constexpr std::array<const char*, 3> call_kinds{"successful", "failed", "ignored"};

std::size_t index_of(State state) {
    return static_cast<std::size_t>(state);
}

json optional_number(const std::optional<double>& value) {
    return value ? json(*value) : json(nullptr);
}

long long millis(std::chrono::milliseconds value) {
    return value.count();
}

json window_json(const breaker::WindowCounts& counts, std::size_t minimum_calls) {
    const bool evaluated = counts.calls >= minimum_calls;
    return {
        {"calls", counts.calls},
        {"failures", counts.failures},
        {"slow_calls", counts.slow_calls},
        {"evaluated", evaluated},
        {"failure_rate", evaluated ? optional_number(counts.failure_rate()) : json(nullptr)},
        {"slow_call_rate", evaluated ? optional_number(counts.slow_call_rate()) : json(nullptr)}};
}

json config_json(const breaker::BreakerConfig& config) {
    return {{"window_size", config.window_size},
            {"minimum_calls", config.minimum_calls},
            {"failure_rate_threshold", config.failure_rate_threshold},
            {"slow_call_rate_threshold", config.slow_call_rate_threshold},
            {"slow_call_duration_ms", millis(config.slow_call_duration)},
            {"consecutive_failures", config.consecutive_failures},
            {"wait_in_open_ms", millis(config.wait_in_open)},
            {"half_open_calls", config.half_open_calls},
            {"max_wait_in_half_open_ms", millis(config.max_wait_in_half_open)}};
}

double seconds(breaker::Clock::duration value) {
    return std::chrono::duration<double>(value).count();
}

}  // namespace

BreakerBoard::BreakerBoard(const breaker::Clock& clock) : clock_(clock) {}

breaker::TransitionObserver BreakerBoard::track(const std::string& name,
                                                breaker::TransitionObserver next) {
    auto tracked = std::make_shared<Entry>();
    tracked->name = name;
    tracked->since = clock_.now();
    {
        std::lock_guard lock(mutex_);
        entries_.push_back(tracked);
    }
    // The entry holds the breaker and the breaker holds this observer: a weak reference here
    // keeps that from being a cycle. The board's list owns the entry.
    std::weak_ptr<Entry> weak = tracked;
    return [this, weak, next = std::move(next)](const breaker::Transition& transition) {
        if (auto entry = weak.lock()) {
            on_transition(*entry, transition);
        }
        if (next) {
            next(transition);
        }
    };
}

void BreakerBoard::attach(std::shared_ptr<breaker::CircuitBreaker> breaker) {
    if (auto found = entry(breaker->name())) {
        std::lock_guard lock(found->mutex);
        found->breaker = std::move(breaker);
    }
}

std::shared_ptr<breaker::CircuitBreaker> BreakerBoard::find(std::string_view name) const {
    auto found = entry(name);
    if (!found) {
        return nullptr;
    }
    std::lock_guard lock(found->mutex);
    return found->breaker;
}

void BreakerBoard::on_transition(Entry& entry, const breaker::Transition& transition) {
    const auto now = clock_.now();
    std::lock_guard lock(entry.mutex);
    entry.time_in_state[index_of(entry.state)] += now - entry.since;
    entry.since = now;
    entry.state = transition.to;
    ++entry.transitions[{transition.from, transition.to}];
    entry.history.push_front({transition, std::chrono::system_clock::now()});
    if (entry.history.size() > history_size) {
        entry.history.pop_back();
    }
}

void BreakerBoard::record(const lab::CallRecord& call) {
    auto found = entry(call.breaker);
    const bool shed = call.reason == "shed";
    if (call.kind == lab::CallRecord::Kind::rejected || shed) {
        ++rejected_;
    } else if (call.kind == lab::CallRecord::Kind::bypassed) {
        ++bypassed_;
    } else if (call.outcome == breaker::Outcome::success) {
        ++success_;
    } else if (call.outcome == breaker::Outcome::failure) {
        ++failure_;
    }
    if (!found) {
        return;
    }

    std::lock_guard lock(found->mutex);
    Calls& calls = found->calls;
    if (call.kind == lab::CallRecord::Kind::rejected) {
        ++calls.not_permitted;
        return;
    }
    ++found->reasons[std::string(call.reason)];
    if (call.kind == lab::CallRecord::Kind::bypassed) {
        ++calls.bypassed;
        return;
    }
    const auto kind = static_cast<std::size_t>(call.outcome);
    ++(kind == 0 ? calls.successful : kind == 1 ? calls.failed : calls.ignored);
    found->durations[kind].observe(call.elapsed);
}

OutcomeTotals BreakerBoard::totals() const {
    return {success_.load(), failure_.load(), rejected_.load(), bypassed_.load()};
}

std::vector<std::shared_ptr<BreakerBoard::Entry>> BreakerBoard::entries() const {
    std::lock_guard lock(mutex_);
    return entries_;
}

std::shared_ptr<BreakerBoard::Entry> BreakerBoard::entry(std::string_view name) const {
    std::lock_guard lock(mutex_);
    for (const auto& candidate : entries_) {
        if (candidate->name == name) {
            return candidate;
        }
    }
    return nullptr;
}

json BreakerBoard::transition_json(const TransitionRecord& record) {
    json fields = transition_fields(record.transition);
    fields["at"] = iso_time(record.at);
    return fields;
}

json BreakerBoard::entry_status(const Entry& entry) const {
    std::shared_ptr<breaker::CircuitBreaker> breaker;
    {
        std::lock_guard lock(entry.mutex);
        breaker = entry.breaker;
    }
    if (!breaker) {
        return nullptr;
    }
    // Taken without our lock: a snapshot may apply a deadline and call on_transition.
    const breaker::Snapshot view = breaker->snapshot();
    const breaker::BreakerConfig& config = breaker->config();

    json status{{"name", entry.name},
                {"state", breaker::to_string(view.state)},
                {"generation", view.generation},
                {"window",
                 window_json(view.window,
                             view.state == State::half_open ? config.half_open_calls
                                                            : config.minimum_calls)},
                {"window_kind", view.state == State::half_open ? "trials" : "sliding"},
                {"consecutive_failures", view.consecutive_failures},
                {"trials_in_flight", view.trials_in_flight},
                {"next_probe_in_ms", nullptr},
                {"probe_due", false},
                {"config", config_json(config)}};
    if (view.next_probe_in) {
        status["next_probe_in_ms"] = view.next_probe_in->count();
        status["probe_due"] = view.next_probe_in->count() == 0;
    }

    std::lock_guard lock(entry.mutex);
    status["calls"] = {{"successful", entry.calls.successful},
                       {"failed", entry.calls.failed},
                       {"ignored", entry.calls.ignored},
                       {"not_permitted", entry.calls.not_permitted},
                       {"bypassed", entry.calls.bypassed}};
    json history = json::array();
    for (const TransitionRecord& record : entry.history) {
        history.push_back(transition_json(record));
    }
    status["transitions"] = std::move(history);
    return status;
}

json BreakerBoard::status() const {
    json list = json::array();
    for (const auto& tracked : entries()) {
        json status = entry_status(*tracked);
        if (!status.is_null()) {
            list.push_back(std::move(status));
        }
    }
    return list;
}

void BreakerBoard::write_metrics(PromText& out) const {
    std::vector<std::shared_ptr<Entry>> all;
    for (const auto& tracked : entries()) {
        std::lock_guard lock(tracked->mutex);
        if (tracked->breaker) {
            all.push_back(tracked);
        }
    }
    write_state_metrics(out, all);
    write_window_metrics(out, all);
    write_call_metrics(out, all);
}

void BreakerBoard::write_state_metrics(PromText& out,
                                       const std::vector<std::shared_ptr<Entry>>& all) const {
    std::vector<State> states;
    states.reserve(all.size());
    for (const auto& tracked : all) {
        states.push_back(tracked->breaker->state());  // May apply a deadline: no lock held.
    }
    out.family("resilience4j_circuitbreaker_state",
               "gauge",
               "The state of the circuit breaker: 1 for the current state, else 0");
    for (std::size_t i = 0; i < all.size(); ++i) {
        for (State state : all_states) {
            out.sample("resilience4j_circuitbreaker_state",
                       {{"name", all[i]->name}, {"state", std::string(to_string(state))}},
                       states[i] == state ? 1 : 0);
        }
    }

    const auto now = clock_.now();
    out.family("circuitlab_breaker_state_seconds_total",
               "counter",
               "Seconds the circuit breaker has spent in each state since start");
    for (const auto& tracked : all) {
        std::lock_guard lock(tracked->mutex);
        for (State state : all_states) {
            auto spent = tracked->time_in_state[index_of(state)];
            if (state == tracked->state) {
                spent += now - tracked->since;
            }
            out.sample("circuitlab_breaker_state_seconds_total",
                       {{"name", tracked->name}, {"state", std::string(to_string(state))}},
                       seconds(spent));
        }
    }

    out.family("circuitlab_breaker_transitions_total",
               "counter",
               "State transitions of the circuit breaker since start, by from and to");
    for (const auto& tracked : all) {
        std::lock_guard lock(tracked->mutex);
        auto moves = tracked->transitions;
        for (const auto& move : automatic_moves) {
            moves.try_emplace(move, 0);
        }
        for (const auto& [move, count] : moves) {
            out.sample("circuitlab_breaker_transitions_total",
                       {{"name", tracked->name},
                        {"from", std::string(to_string(move.first))},
                        {"to", std::string(to_string(move.second))}},
                       static_cast<double>(count));
        }
    }
}

void BreakerBoard::write_window_metrics(PromText& out,
                                        const std::vector<std::shared_ptr<Entry>>& all) const {
    std::vector<breaker::Snapshot> views;
    views.reserve(all.size());
    for (const auto& tracked : all) {
        views.push_back(tracked->breaker->snapshot());
    }
    auto is_evaluated = [&](std::size_t i) {
        const auto& config = all[i]->breaker->config();
        const std::size_t minimum =
            views[i].state == State::half_open ? config.half_open_calls : config.minimum_calls;
        return views[i].window.calls >= minimum && views[i].window.calls > 0;
    };

    out.family("resilience4j_circuitbreaker_buffered_calls",
               "gauge",
               "The number of buffered calls stored in the sliding window");
    for (std::size_t i = 0; i < all.size(); ++i) {
        const auto& counts = views[i].window;
        out.sample("resilience4j_circuitbreaker_buffered_calls",
                   {{"name", all[i]->name}, {"kind", "successful"}},
                   static_cast<double>(counts.calls - counts.failures));
        out.sample("resilience4j_circuitbreaker_buffered_calls",
                   {{"name", all[i]->name}, {"kind", "failed"}},
                   static_cast<double>(counts.failures));
    }
    out.family("resilience4j_circuitbreaker_max_buffered_calls",
               "gauge",
               "The maximum number of buffered calls the sliding window holds");
    for (const auto& tracked : all) {
        out.sample("resilience4j_circuitbreaker_max_buffered_calls",
                   {{"name", tracked->name}},
                   static_cast<double>(tracked->breaker->config().window_size));
    }
    out.family("resilience4j_circuitbreaker_slow_calls",
               "gauge",
               "The number of slow calls stored in the sliding window");
    for (std::size_t i = 0; i < all.size(); ++i) {
        const breaker::WindowCounts& window = views[i].window;
        out.sample("resilience4j_circuitbreaker_slow_calls",
                   {{"name", all[i]->name}, {"kind", "successful"}},
                   static_cast<double>(window.slow_calls - window.slow_failures));
        out.sample("resilience4j_circuitbreaker_slow_calls",
                   {{"name", all[i]->name}, {"kind", "failed"}},
                   static_cast<double>(window.slow_failures));
    }

    // Rates are left out, not -1, until the window holds minimum_calls.
    out.family("resilience4j_circuitbreaker_failure_rate",
               "gauge",
               "The failure rate of the circuit breaker in percent (absent before "
               "minimum_calls)");
    for (std::size_t i = 0; i < all.size(); ++i) {
        if (is_evaluated(i)) {
            out.sample("resilience4j_circuitbreaker_failure_rate",
                       {{"name", all[i]->name}},
                       *views[i].window.failure_rate());
        }
    }
    out.family("resilience4j_circuitbreaker_slow_call_rate",
               "gauge",
               "The slow-call rate of the circuit breaker in percent (absent before "
               "minimum_calls)");
    for (std::size_t i = 0; i < all.size(); ++i) {
        if (is_evaluated(i)) {
            out.sample("resilience4j_circuitbreaker_slow_call_rate",
                       {{"name", all[i]->name}},
                       *views[i].window.slow_call_rate());
        }
    }
}

void BreakerBoard::write_call_metrics(PromText& out,
                                      const std::vector<std::shared_ptr<Entry>>& all) const {
    out.family("resilience4j_circuitbreaker_calls_seconds",
               "histogram",
               "Duration of the calls the circuit breaker let through, by kind");
    for (const auto& tracked : all) {
        for (std::size_t kind = 0; kind < call_kinds.size(); ++kind) {
            tracked->durations[kind].write(out,
                                           "resilience4j_circuitbreaker_calls_seconds",
                                           {{"name", tracked->name}, {"kind", call_kinds[kind]}});
        }
    }

    out.family("resilience4j_circuitbreaker_not_permitted_calls_total",
               "counter",
               "The number of calls the circuit breaker did not permit");
    for (const auto& tracked : all) {
        std::lock_guard lock(tracked->mutex);
        out.sample("resilience4j_circuitbreaker_not_permitted_calls_total",
                   {{"name", tracked->name}, {"kind", "not_permitted"}},
                   static_cast<double>(tracked->calls.not_permitted));
    }

    out.family("circuitlab_breaker_bypassed_calls_total",
               "counter",
               "Calls sent past the circuit breaker with non_circuit_breaker");
    for (const auto& tracked : all) {
        std::lock_guard lock(tracked->mutex);
        out.sample("circuitlab_breaker_bypassed_calls_total",
                   {{"name", tracked->name}},
                   static_cast<double>(tracked->calls.bypassed));
    }

    out.family("circuitlab_upstream_calls_total",
               "counter",
               "Calls to the next hop by how they ended (ok, shed, upstream_status, timeout, "
               "connect, reset, protocol, cancelled)");
    for (const auto& tracked : all) {
        std::lock_guard lock(tracked->mutex);
        for (const auto& [reason, count] : tracked->reasons) {
            out.sample("circuitlab_upstream_calls_total",
                       {{"name", tracked->name}, {"reason", reason}},
                       static_cast<double>(count));
        }
    }
}

}  // namespace circuitlab::ops
