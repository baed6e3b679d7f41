// Watching and steering the breakers on the loopback stack, as a user does it with curl: the
// admin token on every mutating route (direct on each role and through the gateway's chain
// relays), chaos at run time, forced states, the chain's status, the event stream, /metrics
// across a short open period, and promtool on every role's /metrics.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "lab_stack.hpp"
#include "support/metrics_text.hpp"

namespace circuitlab::testing {
namespace {

using namespace std::chrono_literals;
using boost::beast::http::verb;
using nlohmann::json;

constexpr const char* token = "obs-test-token-0123456789";

const std::string frontier_success = "frontier->midline[success-request]";
const std::string midline_success = "midline->backline[success-request]";
const std::string frontier_timeout = "frontier->midline[timeout-request]";

// A breaker name as a path segment: `->` and brackets percent-encoded.
std::string encoded(const std::string& name) {
    std::string out;
    for (unsigned char c : name) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.') {
            out += static_cast<char>(c);
        } else {
            char hex[4];
            std::snprintf(hex, sizeof hex, "%%%02X", c);
            out += hex;
        }
    }
    return out;
}

std::string state_path(const std::string& name, bool chain = false) {
    return std::string(chain ? "/api/chain/breakers/" : "/api/breakers/") + encoded(name) +
           "/state";
}

json body_of(const Answer& answer) {
    return json::parse(answer.body, nullptr, false);
}

// One mutating request, named for the failure message.
struct Mutation {
    std::string what;
    int port;
    verb method;
    std::string target;
    std::string body;
};

class ObserveTest : public StackTest {
  protected:
    void start(std::map<std::string, std::string> env) {
        env.emplace("FAIL_RATE", "0");
        env.emplace("SLOW_RATE", "0");
        env.emplace("UPSTREAM_TIMEOUT_MS", "1000");
        env.emplace("ADMIN_TOKEN", "");  // never one from the caller's shell
        start_stack(env);
    }

    int gateway() const { return stack_->gateway_port(); }
    int port(const char* role) const { return stack_->port(role); }

    Answer edge(const std::string& target) { return fetch(gateway(), target); }

    Answer admin(int to, verb method, const std::string& target, const std::string& body) {
        return send(to, method, target, body, {{"Authorization", std::string("Bearer ") + token}});
    }

    // Every mutating route: direct on each role and through the gateway's chain relays.
    std::vector<Mutation> mutations() const {
        const std::string force = R"({"state":"forced_open"})";
        const std::string chaos = R"({"fail_rate":1})";
        return {
            {"frontier state", port("frontier"), verb::post, state_path(frontier_success), force},
            {"midline state", port("midline"), verb::post, state_path(midline_success), force},
            {"backline state", port("backline"), verb::post, state_path("none"), force},
            {"backline chaos", port("backline"), verb::put, "/api/chaos", chaos},
            {"gateway frontier state",
             gateway(),
             verb::post,
             state_path(frontier_success, true),
             force},
            {"gateway midline state",
             gateway(),
             verb::post,
             state_path(midline_success, true),
             force},
            {"gateway chaos", gateway(), verb::put, "/api/chain/chaos", chaos},
            {"midline chain chaos", port("midline"), verb::put, "/api/chain/chaos", chaos},
        };
    }

    // What a user checks has not moved: every breaker of the chain closed, chaos as started.
    void expect_nothing_changed() {
        const json chain = body_of(edge("/api/chain/breakers"));
        ASSERT_EQ(chain["hops"].size(), 3u) << chain.dump();
        for (const json& hop : chain["hops"]) {
            for (const json& breaker : hop["breakers"]) {
                EXPECT_EQ(breaker["state"], "closed") << breaker["name"];
                EXPECT_EQ(breaker["generation"], 0) << breaker["name"];
            }
        }
        EXPECT_EQ(body_of(fetch(port("backline"), "/api/chaos"))["fail_rate"], 0.0);
        EXPECT_EQ(edge("/api/success-request").status, 200);
    }
};

TEST_F(ObserveTest, WithoutAdminTokenEveryMutatingRouteAnswers403WithAHintAndDoesNothing) {
    start({});
    for (const Mutation& m : mutations()) {
        for (const std::string header : {"", "Bearer some-token-of-16-chars"}) {
            std::vector<std::pair<std::string, std::string>> headers;
            if (!header.empty()) {
                headers.emplace_back("Authorization", header);
            }
            const Answer answer = send(m.port, m.method, m.target, m.body, headers);

            EXPECT_EQ(answer.status, 403) << m.what << " " << header << ": " << answer.body;
            EXPECT_EQ(answer.headers["Content-Type"], "application/json") << m.what;
            EXPECT_NE(body_of(answer)["error"].get<std::string>().find("ADMIN_TOKEN"),
                      std::string::npos)
                << m.what << ": " << answer.body;
        }
    }
    expect_nothing_changed();
}

TEST_F(ObserveTest, MissingOrWrongTokenIs401OnEveryMutatingRouteAndDoesNothing) {
    start({{"ADMIN_TOKEN", token}});
    for (const Mutation& m : mutations()) {
        const Answer missing = send(m.port, m.method, m.target, m.body);
        const Answer wrong = send(
            m.port, m.method, m.target, m.body, {{"Authorization", "Bearer obs-test-token-01234"}});

        EXPECT_EQ(missing.status, 401) << m.what << ": " << missing.body;
        EXPECT_EQ(missing.headers["WWW-Authenticate"], "Bearer") << m.what;
        EXPECT_EQ(body_of(missing)["error"], "missing Authorization: Bearer <ADMIN_TOKEN>")
            << m.what;
        EXPECT_EQ(wrong.status, 401) << m.what << ": " << wrong.body;
        EXPECT_EQ(body_of(wrong)["error"], "wrong admin token") << m.what;
    }
    expect_nothing_changed();
}

TEST_F(ObserveTest, ChaosPutRejectsBadBodiesWithJson400AndKeepsTheSettings) {
    start({{"ADMIN_TOKEN", token}, {"SLEEP", "0.5"}});
    const std::vector<std::pair<std::string, std::string>> bad{
        {"not json", "body is not JSON"},
        {"", "body is not JSON"},
        {R"([1])", "expected a JSON object"},
        {R"({})", "expected a JSON object"},
        {R"({"fail_rate":1.5})", "bad fail_rate"},
        {R"({"fail_rate":-0.1})", "bad fail_rate"},
        {R"({"slow_rate":"1"})", "bad slow_rate"},
        {R"({"sleep":61})", "bad sleep"},
        {R"({"fail_rate":1,"colour":"red"})", "unknown field colour"},  // none applied
    };
    for (const auto& [body, error] : bad) {
        for (const auto& [to, target] : {std::pair{port("backline"), "/api/chaos"},
                                         std::pair{gateway(), "/api/chain/chaos"}}) {
            const Answer answer = admin(to, verb::put, target, body);

            EXPECT_EQ(answer.status, 400) << target << " " << body;
            EXPECT_EQ(answer.headers["Content-Type"], "application/json") << body;
            EXPECT_NE(body_of(answer)["error"].get<std::string>().find(error), std::string::npos)
                << body << " -> " << answer.body;
        }
    }
    EXPECT_EQ(body_of(edge("/api/chain/chaos")),
              json::parse(R"({"fail_rate":0.0,"slow_rate":0.0,"sleep":0.5})"));
}

TEST_F(ObserveTest, ChaosChangeTakesEffectAtOnceWithoutARestart) {
    start({{"ADMIN_TOKEN", token}});
    const int backline_pid = stack_->pid("backline");

    const Answer broken =
        admin(gateway(), verb::put, "/api/chain/chaos", R"({"fail_rate":1,"slow_rate":0})");
    const Answer failing = edge("/api/timeout-request");
    const Answer healed = admin(gateway(), verb::put, "/api/chain/chaos", R"({"fail_rate":0})");
    const Answer passing = edge("/api/timeout-request");
    const Answer slow =
        admin(gateway(), verb::put, "/api/chain/chaos", R"({"slow_rate":1,"sleep":0.3})");
    const Answer waited = edge("/api/timeout-request");

    EXPECT_EQ(broken.status, 200);
    EXPECT_EQ(body_of(broken)["fail_rate"], 1.0);
    EXPECT_EQ(body_of(broken)["slow_rate"], 0.0);
    EXPECT_EQ(failing.status, 502) << failing.body;
    EXPECT_NE(failing.body.find("downstream failed"), std::string::npos) << failing.body;
    EXPECT_EQ(healed.status, 200);
    EXPECT_EQ(passing.status, 200) << passing.body;
    EXPECT_EQ(slow.status, 200);
    EXPECT_EQ(waited.status, 200) << waited.body;
    EXPECT_GE(waited.took, 280ms);
    EXPECT_EQ(stack_->pid("backline"), backline_pid);
    EXPECT_EQ(body_of(fetch(port("backline"), "/api/chaos")),
              json::parse(R"({"fail_rate":0.0,"slow_rate":1.0,"sleep":0.3})"));
}

TEST_F(ObserveTest, ForcedOpenBreakerAnswers503UntilClosedOrReset) {
    start({{"ADMIN_TOKEN", token}});
    const auto force = [&](const std::string& target, const char* state) {
        return admin(gateway(), verb::post, target, std::string(R"({"state":")") + state + "\"}");
    };

    const Answer opened = force(state_path(frontier_success, true), "forced_open");
    const Answer rejected = edge("/api/success-request");
    const Answer other_route = edge("/api/timeout-request");
    const Answer closed = force(state_path(frontier_success, true), "closed");
    const Answer after_close = edge("/api/success-request");

    EXPECT_EQ(opened.status, 200) << opened.body;
    EXPECT_EQ(body_of(opened)["state"], "forced_open");
    EXPECT_EQ(rejected.status, 503);
    EXPECT_EQ(rejected.headers["X-Circuit-Open"], frontier_success);
    EXPECT_EQ(body_of(rejected)["state"], "forced_open");
    EXPECT_EQ(other_route.status, 200);  // one breaker per route
    EXPECT_EQ(closed.status, 200) << closed.body;
    EXPECT_EQ(body_of(closed)["state"], "closed");
    EXPECT_EQ(after_close.status, 200);

    // Midline's breaker, steered through frontier's relay, then reset.
    const Answer deep = force(state_path(midline_success, true), "forced_open");
    const Answer shed = edge("/api/success-request");
    const Answer reset = force(state_path(midline_success, true), "reset");
    const Answer after_reset = edge("/api/success-request");

    EXPECT_EQ(deep.status, 200) << deep.body;
    EXPECT_EQ(body_of(deep)["name"], midline_success);
    EXPECT_EQ(body_of(deep)["state"], "forced_open");
    EXPECT_EQ(shed.status, 503);
    EXPECT_EQ(shed.headers["X-Circuit-Open"], midline_success);
    EXPECT_EQ(reset.status, 200) << reset.body;
    EXPECT_EQ(body_of(reset)["state"], "closed");
    EXPECT_EQ(body_of(reset)["transitions"][0]["reason"], "reset by operator");
    EXPECT_EQ(after_reset.status, 200);
}

TEST_F(ObserveTest, StateRouteAnswersJson404ForAnUnknownBreakerAnd400ForABadState) {
    start({{"ADMIN_TOKEN", token}});
    for (const auto& [to, target] : {std::pair{port("frontier"), state_path("frontier->nowhere")},
                                     std::pair{gateway(), state_path("nowhere->nothing", true)}}) {
        const Answer unknown = admin(to, verb::post, target, R"({"state":"forced_open"})");

        EXPECT_EQ(unknown.status, 404) << target << ": " << unknown.body;
        EXPECT_EQ(unknown.headers["Content-Type"], "application/json") << target;
        EXPECT_NE(body_of(unknown)["error"].get<std::string>().find("no breaker named"),
                  std::string::npos)
            << unknown.body;
    }
    for (const std::string body :
         {R"({"state":"half_open"})", R"({"state":"bogus"})", R"({"state":1})", "{}", "nope"}) {
        for (const std::string& target :
             {state_path(frontier_success, true), state_path(midline_success, true)}) {
            const Answer bad = admin(gateway(), verb::post, target, body);

            EXPECT_EQ(bad.status, 400) << target << " " << body << ": " << bad.body;
            EXPECT_NE(body_of(bad)["error"].get<std::string>().find("expected {\"state\""),
                      std::string::npos)
                << bad.body;
        }
    }
    expect_nothing_changed();
}

TEST_F(ObserveTest, ChainBreakersShowsEveryHopWithItsLastTransitionsAndWindow) {
    start({{"ADMIN_TOKEN", token}});
    for (int i = 0; i < 8; ++i) {
        edge("/api/mustfail-request");
    }
    const json chain = body_of(edge("/api/chain/breakers"));

    ASSERT_EQ(chain["hops"].size(), 3u) << chain.dump();
    EXPECT_EQ(chain["hops"][2]["role"], "backline");
    EXPECT_EQ(chain["hops"][2]["breakers"], json::array());
    EXPECT_EQ(chain["hops"][2]["chaos"]["fail_rate"], 0.0);
    for (const std::string role : {"frontier", "midline"}) {
        const json& hop = chain["hops"][role == "frontier" ? 0 : 1];
        ASSERT_EQ(hop["role"], role);
        ASSERT_EQ(hop["breakers"].size(), 3u) << hop.dump();
        const std::string prefix = role + (role == "frontier" ? "->midline" : "->backline");
        for (const json& breaker : hop["breakers"]) {
            const bool stormed = breaker["name"] == prefix + "[mustfail-request]";
            EXPECT_EQ(breaker["state"], stormed ? "open" : "closed") << breaker["name"];
            EXPECT_EQ(breaker["generation"], stormed ? 1 : 0) << breaker["name"];
            EXPECT_TRUE(breaker["window"].contains("evaluated")) << breaker.dump();
            EXPECT_EQ(breaker["config"]["minimum_calls"], 5);
            if (!stormed) {
                EXPECT_EQ(breaker["transitions"], json::array());
                continue;
            }
            EXPECT_GT(breaker["next_probe_in_ms"].get<int>(), 0);
            ASSERT_EQ(breaker["transitions"].size(), 1u) << breaker.dump();
            const json& opened = breaker["transitions"][0];
            EXPECT_EQ(opened["from"], "closed");
            EXPECT_EQ(opened["to"], "open");
            EXPECT_EQ(opened["reason"], "failure rate 100.0% >= 50.0% over 5 calls");
            EXPECT_EQ(opened["window"]["calls"], 5);
            EXPECT_EQ(opened["window"]["failures"], 5);
            EXPECT_EQ(opened["window"]["failure_rate"], 100.0);
        }
    }
    const json midline = body_of(fetch(port("midline"), "/api/breakers"));
    EXPECT_EQ(midline["role"], "midline");
    EXPECT_EQ(midline["breakers"].size(), 3u);
}

// A Server-Sent Events client on a raw socket: sends the request, then collects the body
// (chunked encoding undone) until a predicate holds or the time is up.
class SseClient {
  public:
    explicit SseClient(int port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(static_cast<std::uint16_t>(port));
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
            throw std::runtime_error("cannot connect to the event stream");
        }
        const std::string request =
            "GET /api/events HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n";
        if (::write(fd_, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
            throw std::runtime_error("cannot send the event stream request");
        }
    }
    ~SseClient() { ::close(fd_); }
    SseClient(const SseClient&) = delete;
    SseClient& operator=(const SseClient&) = delete;

    /// Reads until `done(body)` or `limit` passes; returns whether `done` held.
    template <typename Done>
    bool read_until(Done done, std::chrono::milliseconds limit) {
        const auto give_up = std::chrono::steady_clock::now() + limit;
        while (!done(body_)) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                give_up - std::chrono::steady_clock::now());
            pollfd ready{fd_, POLLIN, 0};
            if (left.count() <= 0 || ::poll(&ready, 1, static_cast<int>(left.count())) <= 0) {
                return false;
            }
            char buffer[4096];
            const ssize_t got = ::read(fd_, buffer, sizeof buffer);
            if (got <= 0) {
                return done(body_);
            }
            raw_.append(buffer, static_cast<std::size_t>(got));
            decode();
        }
        return true;
    }

    const std::string& head() const { return head_; }
    const std::string& body() const { return body_; }

  private:
    void decode() {
        if (head_.empty()) {
            const auto end = raw_.find("\r\n\r\n");
            if (end == std::string::npos) {
                return;
            }
            head_ = raw_.substr(0, end + 4);
            raw_.erase(0, end + 4);
            chunked_ = head_.find("chunked") != std::string::npos;
        }
        if (!chunked_) {
            body_ += raw_;
            raw_.clear();
            return;
        }
        for (;;) {
            const auto line_end = raw_.find("\r\n");
            if (line_end == std::string::npos) {
                return;
            }
            const std::size_t size = std::stoul(raw_.substr(0, line_end), nullptr, 16);
            if (raw_.size() < line_end + 2 + size + 2) {
                return;
            }
            body_ += raw_.substr(line_end + 2, size);
            raw_.erase(0, line_end + 2 + size + 2);
        }
    }

    int fd_ = -1;
    std::string raw_;
    std::string head_;
    std::string body_;
    bool chunked_ = false;
};

// The data of every `event: <name>` in an SSE body, parsed.
std::vector<json> events_named(const std::string& body, const std::string& name) {
    std::vector<json> found;
    const std::string marker = "event: " + name + "\ndata: ";
    for (auto at = body.find(marker); at != std::string::npos; at = body.find(marker, at + 1)) {
        const auto start = at + marker.size();
        const auto end = body.find('\n', start);
        if (end == std::string::npos) {
            break;
        }
        found.push_back(json::parse(body.substr(start, end - start), nullptr, false));
    }
    return found;
}

TEST_F(ObserveTest, EventStreamSendsATransitionWhenABreakerOpensAndOutcomesEachSecond) {
    start({});
    SseClient client(gateway());
    ASSERT_TRUE(client.read_until(
        [](const std::string& body) { return body.find(": connected") != std::string::npos; }, 5s))
        << client.head();
    EXPECT_NE(client.head().find("200"), std::string::npos) << client.head();
    EXPECT_NE(client.head().find("text/event-stream"), std::string::npos) << client.head();

    for (int i = 0; i < 6; ++i) {
        edge("/api/mustfail-request");
    }
    const bool seen = client.read_until(
        [](const std::string& body) {
            bool opened = false;
            for (const json& event : events_named(body, "transition")) {
                opened = opened || (event["breaker"] == "frontier->midline[mustfail-request]" &&
                                    event["to"] == "open");
            }
            std::uint64_t failures = 0;
            for (const json& counts : events_named(body, "outcomes")) {
                failures += counts["failure"].get<std::uint64_t>();
            }
            return opened && failures == 5 && events_named(body, "outcomes").size() >= 2;
        },
        10s);

    ASSERT_TRUE(seen) << client.body();
    const auto transitions = events_named(client.body(), "transition");
    const json& opened = transitions.back();
    EXPECT_EQ(opened["from"], "closed");
    EXPECT_EQ(opened["reason"], "failure rate 100.0% >= 50.0% over 5 calls");
    EXPECT_EQ(opened["window"]["failures"], 5);
    std::uint64_t rejected = 0;
    for (const json& counts : events_named(client.body(), "outcomes")) {
        ASSERT_EQ(counts.size(), 4u) << counts.dump();
        rejected += counts["rejected"].get<std::uint64_t>();
    }
    EXPECT_EQ(rejected, 1u);  // the sixth call, rejected at frontier
}

TEST_F(ObserveTest, EventStreamClientThatLeavesIsForgotten) {
    start({});
    const std::string clients = "circuitlab_event_stream_clients";
    {
        SseClient client(gateway());
        ASSERT_TRUE(client.read_until(
            [](const std::string& body) { return body.find(": connected") != std::string::npos; },
            5s));
        EXPECT_EQ(sample(edge("/metrics").body, clients), 1);
    }
    // The stream notices on its next write: the outcomes event of the next second.
    double left = -1;
    const auto give_up = std::chrono::steady_clock::now() + 10s;
    while (left != 0 && std::chrono::steady_clock::now() < give_up) {
        std::this_thread::sleep_for(100ms);
        left = sample(edge("/metrics").body, clients);
    }
    EXPECT_EQ(left, 0);
}

TEST_F(ObserveTest, ShortOpenPeriodShowsInTheNextMetricsScrape) {
    start({{"ADMIN_TOKEN", token}, {"CB_WAIT_IN_OPEN_MS", "2000"}});
    const auto series = [](const std::string& metric, const std::string& labels) {
        return metric + "{name=\"" + frontier_timeout + "\"" + (labels.empty() ? "" : ",") +
               labels + "}";
    };
    const std::string opened_total =
        series("circuitlab_breaker_transitions_total", R"(from="closed",to="open")");
    const std::string closed_total =
        series("circuitlab_breaker_transitions_total", R"(from="half_open",to="closed")");
    const std::string open_seconds =
        series("circuitlab_breaker_state_seconds_total", R"(state="open")");
    const std::string failure_rate = series("resilience4j_circuitbreaker_failure_rate", "");

    ASSERT_EQ(admin(gateway(), verb::put, "/api/chain/chaos", R"({"fail_rate":1})").status, 200);
    edge("/api/timeout-request");
    edge("/api/timeout-request");
    const std::string before = edge("/metrics").body;  // two calls: under the minimum of five
    for (int i = 0; i < 3; ++i) {
        edge("/api/timeout-request");
    }
    ASSERT_EQ(edge("/api/timeout-request").status, 503);
    ASSERT_EQ(admin(gateway(), verb::put, "/api/chain/chaos", R"({"fail_rate":0})").status, 200);
    // Wait out the 2 s open period as a user would, asking the status route. Without
    // automatic half-open it says the probe is due rather than showing half-open.
    json due;
    const auto give_up = std::chrono::steady_clock::now() + 10s;
    while (due.is_null() && std::chrono::steady_clock::now() < give_up) {
        std::this_thread::sleep_for(100ms);
        const json status = body_of(edge("/api/breakers"));
        for (const json& breaker : status["breakers"]) {
            if (breaker["name"] == frontier_timeout && breaker["probe_due"] == true) {
                due = breaker;
            }
        }
    }
    ASSERT_FALSE(due.is_null()) << "the probe never came due";
    EXPECT_EQ(due["state"], "open");
    EXPECT_EQ(due["next_probe_in_ms"], 0);
    int passed = 0;
    for (int i = 0; i < 10 && passed < 3; ++i) {
        passed += edge("/api/timeout-request").status == 200 ? 1 : 0;
    }
    const std::string after = edge("/metrics").body;

    EXPECT_EQ(passed, 3);
    EXPECT_EQ(before.find(failure_rate), std::string::npos) << "rate shown before the minimum";
    EXPECT_EQ(
        sample(before, series("resilience4j_circuitbreaker_buffered_calls", R"(kind="failed")")),
        2);
    EXPECT_EQ(sample(before, opened_total), 0) << "written at 0 before the first trip";
    EXPECT_EQ(sample(after, opened_total), 1);
    EXPECT_EQ(sample(after, closed_total), 1);
    const double open_for = sample(after, open_seconds) - sample(before, open_seconds);
    EXPECT_GE(open_for, 1.9);
    EXPECT_LE(open_for, 12.0);
    EXPECT_EQ(sample(after, series("resilience4j_circuitbreaker_state", R"(state="closed")")), 1);
    EXPECT_EQ(sample(after, series("resilience4j_circuitbreaker_state", R"(state="open")")), 0);
    EXPECT_EQ(after.find(failure_rate), std::string::npos) << "a fresh window after closing";
}

// Runs `promtool check metrics` on a scrape; returns its exit status and what it printed.
std::pair<int, std::string> promtool_check(const std::string& scrape, const std::string& file) {
    std::ofstream(file) << scrape;
    FILE* pipe = ::popen(("promtool check metrics < '" + file + "' 2>&1").c_str(), "r");
    if (pipe == nullptr) {
        return {-1, "cannot run promtool"};
    }
    std::string output;
    char buffer[512];
    while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) {
        output += buffer;
    }
    const int status = ::pclose(pipe);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

// Metric families (from `# TYPE` lines) that have no sample in the scrape.
std::vector<std::string> families_without_samples(const std::string& scrape) {
    std::vector<std::string> families;
    std::istringstream in(scrape);
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with("# TYPE ")) {
            families.push_back(line.substr(7, line.find(' ', 7) - 7));
        }
    }
    std::vector<std::string> empty;
    for (const std::string& family : families) {
        bool found = false;
        std::istringstream lines(scrape);
        for (std::string line; !found && std::getline(lines, line);) {
            found = !line.starts_with("#") && line.starts_with(family) &&
                    (line[family.size()] == '{' || line[family.size()] == ' ' ||
                     line[family.size()] == '_');
        }
        if (!found) {
            empty.push_back(family);
        }
    }
    return empty;
}

TEST_F(ObserveTest, MetricsOfEveryRolePassPromtoolWithEveryFamilySampled) {
    ASSERT_EQ(std::system("command -v promtool >/dev/null"), 0)
        << "promtool is missing: scripts/setup.sh installs it (Debian package prometheus)";
    start({{"ADMIN_TOKEN", token}});
    for (int i = 0; i < 5; ++i) {
        edge("/api/success-request");  // a closed breaker past the minimum: rates shown
    }
    for (int i = 0; i < 7; ++i) {
        edge("/api/mustfail-request");  // an open breaker: rejections
    }
    edge("/api/timeout-request?non_circuit_breaker=1");  // bypassed
    edge("/nowhere");

    for (const char* role : {"frontier", "midline", "backline"}) {
        const Answer scrape = fetch(port(role), "/metrics");
        const std::string file = std::string(CIRCUITLAB_TEST_RUN_DIR) + "/metrics-" + role + ".txt";
        const auto [status, output] = promtool_check(scrape.body, file);

        ASSERT_EQ(scrape.status, 200) << role;
        EXPECT_EQ(scrape.headers["Content-Type"], "text/plain; version=0.0.4; charset=utf-8");
        EXPECT_EQ(status, 0) << role << " (" << file << "):\n" << output;
        EXPECT_EQ(output, "") << role << " (" << file << ")";
        if (std::string(role) != "backline") {  // backline has no breakers
            EXPECT_EQ(families_without_samples(scrape.body), std::vector<std::string>{}) << role;
        }
    }
}

}  // namespace
}  // namespace circuitlab::testing
