#include "circuitlab/replay/replay.hpp"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <numeric>
#include <random>
#include <utility>
#include <variant>

namespace circuitlab::replay {

namespace {

using breaker::Outcome;
using breaker::State;
using std::chrono::milliseconds;

std::size_t index_of(State state) {
    return static_cast<std::size_t>(state);
}

/// Time as the replay says it is. Single-threaded: the replay drives it between events.
class VirtualClock final : public breaker::Clock {
  public:
    explicit VirtualClock(milliseconds begin) : begin_(begin) {}

    time_point now() const override { return origin_ + (now_ - begin_); }

    void set(milliseconds at) { now_ = at; }

    /// The trace time of a point on this clock, rounded up to the millisecond.
    milliseconds trace_time(time_point at) const {
        return begin_ + std::chrono::ceil<milliseconds>(at - origin_);
    }

  private:
    // Away from zero, as a real steady clock would be; the trace's first line maps onto it.
    static constexpr time_point origin_{std::chrono::hours(1)};
    milliseconds begin_;
    milliseconds now_{begin_};
};

/// A state the breaker was in from `start`, and for open ones when the probe fell due.
struct Segment {
    milliseconds start{0};
    State state = State::closed;
    std::optional<milliseconds> probe_due;
};

/// A call in flight: the permit it holds and how it will end.
struct InFlight {
    std::optional<breaker::Permit> permit;
    Outcome outcome = Outcome::success;
};

/// When a call in flight finishes; ordered by time, then by start order.
struct Finish {
    milliseconds at{0};
    std::uint64_t sequence = 0;
    std::size_t slot = 0;

    bool operator>(const Finish& other) const {
        return at != other.at ? at > other.at : sequence > other.sequence;
    }
};

/// One breaker driven through a trace on a virtual clock: calls start and finish, operators
/// force states, and (when a timer would) deadlines are polled, each at its time.
class Engine {
  public:
    Engine(const ReplaySettings& settings, milliseconds begin)
        : settings_(settings),
          clock_(begin),
          now_(begin),
          polls_(settings.breaker.auto_half_open || settings.breaker.inflight_trip) {
        result_.summary.begin = begin;
        segments_.push_back({begin, State::closed, std::nullopt});
        breaker_ = breaker::CircuitBreaker::create(
            "replay",
            settings.breaker,
            clock_,
            [this](const breaker::Transition& transition) { on_transition(transition); },
            [this] { return std::uniform_real_distribution<double>(0.0, 1.0)(random_); });
        if (settings.forced_state) {
            breaker_->force(*settings.forced_state, "CB_FORCED_STATE");
        }
        after_event();
    }

    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    // Runs the finishes and polls due up to `limit` (inclusive), in time order; polls first
    // at equal times. Without a limit, runs until no call is in flight.
    void advance_to(std::optional<milliseconds> limit) {
        while (true) {
            const auto finish =
                finishes_.empty() ? std::nullopt : std::optional(finishes_.front().at);
            const auto bound = limit ? limit : finish;
            if (next_poll_ && bound && *next_poll_ <= *bound) {
                set_time(*next_poll_);
                after_event();
            } else if (finish && (!limit || *finish <= *limit)) {
                finish_next();
            } else {
                return;
            }
        }
    }

    void step(const TraceEntry& entry) {
        set_time(entry.at);
        if (entry.kind == TraceEntry::Kind::force) {
            force(entry);
        } else {
            start_call(entry);
        }
        after_event();
    }

    ReplayResult conclude() {
        result_.summary.end = now_;
        add_times();
        return std::move(result_);
    }

  private:
    void finish_next() {
        std::pop_heap(finishes_.begin(), finishes_.end(), std::greater<>{});
        const Finish finish = finishes_.back();
        finishes_.pop_back();
        set_time(finish.at);
        complete(in_flight_[finish.slot]);
        free_slots_.push_back(finish.slot);
        after_event();
    }

    void set_time(milliseconds at) {
        now_ = at;
        clock_.set(at);
    }

    void on_transition(const breaker::Transition& transition) {
        result_.transitions.push_back({now_, transition});
        segments_.push_back({now_, transition.to, std::nullopt});
        changed_ = true;
    }

    // Polls when a timer would (auto half-open, in-flight trip), then learns when an open
    // breaker that just opened will let a probe through.
    void after_event() {
        if (polls_) {
            schedule_poll(breaker_->poll());
        }
        if (!changed_) {
            return;
        }
        changed_ = false;
        Segment& last = segments_.back();
        if (last.state == State::open) {
            const auto next_probe_in = breaker_->snapshot().next_probe_in;
            last.probe_due = now_ + next_probe_in.value_or(milliseconds{0});
        }
    }

    void schedule_poll(std::optional<breaker::Clock::time_point> deadline) {
        next_poll_.reset();
        if (deadline) {
            next_poll_ = std::max(clock_.trace_time(*deadline), now_ + milliseconds{1});
        }
    }

    void force(const TraceEntry& entry) {
        const State from = segments_.back().state;
        const std::string reason = "forced by trace line " + std::to_string(entry.line);
        if (!breaker_->force(entry.forced, reason)) {
            result_.refused.push_back({now_, entry.line, from, entry.forced});
        }
    }

    void start_call(const TraceEntry& entry) {
        ReplaySummary& summary = result_.summary;
        ++summary.calls;
        auto admission = breaker_->try_acquire();
        if (auto* rejection = std::get_if<breaker::Rejection>(&admission)) {
            ++summary.rejected[index_of(rejection->state)];
            return;
        }
        ++summary.permitted[index_of(segments_.back().state)];
        count_outcome(entry);
        track(std::move(std::get<breaker::Permit>(admission)), entry);
    }

    void count_outcome(const TraceEntry& entry) {
        ReplaySummary& summary = result_.summary;
        switch (classify(entry, settings_)) {
            case Outcome::success:
                ++summary.successes;
                break;
            case Outcome::failure:
                ++summary.failures;
                break;
            case Outcome::ignored:
                ++summary.ignored;
                break;
        }
        if (entry.latency >= settings_.breaker.slow_call_duration) {
            ++summary.slow;
        }
    }

    void track(breaker::Permit permit, const TraceEntry& entry) {
        std::size_t slot = in_flight_.size();
        if (free_slots_.empty()) {
            in_flight_.emplace_back();
        } else {
            slot = free_slots_.back();
            free_slots_.pop_back();
        }
        in_flight_[slot].permit.emplace(std::move(permit));
        in_flight_[slot].outcome = classify(entry, settings_);
        finishes_.push_back({entry.at + entry.latency, sequence_++, slot});
        std::push_heap(finishes_.begin(), finishes_.end(), std::greater<>{});
    }

    void complete(InFlight& call) {
        // A result from an earlier generation is dropped by the breaker: count it as late.
        if (call.permit->generation() != breaker_->snapshot().generation) {
            ++result_.summary.late;
        }
        call.permit->complete(call.outcome);
        call.permit.reset();
    }

    void add_times() {
        ReplaySummary& summary = result_.summary;
        for (std::size_t i = 0; i < segments_.size(); ++i) {
            const Segment& segment = segments_[i];
            const milliseconds end = i + 1 < segments_.size() ? segments_[i + 1].start : now_;
            summary.time_in_state[index_of(segment.state)] += end - segment.start;
            if (segment.probe_due && *segment.probe_due < end) {
                summary.open_probe_due += end - *segment.probe_due;
            }
        }
    }

    const ReplaySettings& settings_;
    VirtualClock clock_;
    milliseconds now_;
    std::shared_ptr<breaker::CircuitBreaker> breaker_;
    ReplayResult result_;
    std::vector<Segment> segments_;
    bool changed_ = false;
    const bool polls_;
    std::optional<milliseconds> next_poll_;
    std::mt19937_64 random_{1};  // a fixed seed: the same trace gives the same report

    std::vector<InFlight> in_flight_;
    std::vector<std::size_t> free_slots_;
    std::vector<Finish> finishes_;  // a min-heap on finish time
    std::uint64_t sequence_ = 0;
};

// Trace lines in time order; lines with equal times keep their file order.
std::vector<const TraceEntry*> in_time_order(const std::vector<TraceEntry>& trace) {
    std::vector<const TraceEntry*> order(trace.size());
    std::transform(trace.begin(), trace.end(), order.begin(), [](const auto& e) { return &e; });
    std::stable_sort(order.begin(), order.end(), [](const TraceEntry* a, const TraceEntry* b) {
        return a->at < b->at;
    });
    return order;
}

}  // namespace

breaker::Outcome classify(const TraceEntry& call, const ReplaySettings& settings) {
    switch (call.end) {
        case CallEnd::success:
            return Outcome::success;
        case CallEnd::ignored:
        case CallEnd::cancelled:
            return Outcome::ignored;
        case CallEnd::shed:
            return settings.shed_is_failure ? Outcome::failure : Outcome::ignored;
        case CallEnd::status:
            // As the guarded call judges an answer: an ignored status wins over a failing one.
            if (settings.ignore_statuses.contains(call.status)) {
                return Outcome::ignored;
            }
            return settings.failure_statuses.contains(call.status) ? Outcome::failure
                                                                   : Outcome::success;
        default:
            return Outcome::failure;
    }
}

std::vector<BreakerReplay> run_by_route(const Trace& trace, const ReplaySettings& settings) {
    const bool split = settings.breaker_per_route && trace.routes.size() > 1;
    if (!split) {
        return {{"", run(trace.entries, settings)}};
    }
    // Breakers of different routes never meet: each replays its own lines, plus the operator
    // lines meant for all.
    std::vector<std::vector<TraceEntry>> parts(trace.routes.size());
    std::vector<bool> has_calls(trace.routes.size(), false);
    for (const TraceEntry& entry : trace.entries) {
        const bool everyone = entry.kind == TraceEntry::Kind::force && entry.route == 0;
        for (std::size_t route = 0; route < parts.size(); ++route) {
            if (everyone || entry.route == route) {
                parts[route].push_back(entry);
            }
        }
        has_calls[entry.route] = has_calls[entry.route] || entry.kind == TraceEntry::Kind::call;
    }
    std::vector<BreakerReplay> replays;
    for (std::size_t route = 0; route < parts.size(); ++route) {
        if (has_calls[route] || route > 0) {
            replays.push_back({trace.routes[route], run(parts[route], settings)});
        }
    }
    return replays;
}

ReplayResult run(const std::vector<TraceEntry>& trace, const ReplaySettings& settings) {
    const auto order = in_time_order(trace);
    Engine engine(settings, order.empty() ? milliseconds{0} : order.front()->at);
    for (const TraceEntry* entry : order) {
        engine.advance_to(entry->at);
        engine.step(*entry);
    }
    engine.advance_to(std::nullopt);
    return engine.conclude();
}

}  // namespace circuitlab::replay
