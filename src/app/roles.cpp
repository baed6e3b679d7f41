#include "roles.hpp"

#include <utility>

#include <nlohmann/json.hpp>

#include "circuitlab/ops/assets.hpp"
#include "circuitlab/ops/logging.hpp"
#include "circuitlab/ops/openapi.hpp"

namespace circuitlab::app {

namespace {

namespace net = boost::asio;
namespace bhttp = boost::beast::http;
using http::RequestContext;
using http::Response;

const std::vector<std::string> scenario_paths{
    "/api/success-request",
    "/api/timeout-request",
    "/api/mustfail-request",
};

constexpr const char* forecast_example =
    R"([{"date":"04/12/2026","temperatureC":21,"summary":"Mild"}])";
constexpr const char* failed_example = R"({"error":"downstream failed"})";
constexpr const char* rejected_example =
    R"({"error":"circuit breaker open: call not permitted","breaker":"midline->backline)"
    R"([timeout-request]","state":"open","retry_after_ms":8500})";
constexpr const char* bad_gateway_example =
    R"({"error":"upstream call failed","reason":"upstream_status","upstream_status":500,)"
    R"("upstream_error":{"error":"downstream failed"}})";
constexpr const char* bad_flag_example =
    R"({"error":"non_circuit_breaker must be one of 1, true, yes, on, 0, false, no, off"})";

http::ParamDoc bypass_doc() {
    return {std::string(lab::bypass_param),
            "Bypass the circuit breakers of the whole path for this request.",
            {"1", "true", "yes", "on", "0", "false", "no", "off"}};
}

std::string scenario_summary(const std::string& path) {
    if (path == "/api/success-request") {
        return "Forecast from a healthy backline";
    }
    if (path == "/api/timeout-request") {
        return "Forecast from a slow and flaky backline (SLOW_RATE, SLEEP, FAIL_RATE)";
    }
    return "A backline call that always fails";
}

http::RouteDoc scenario_doc(const std::string& path, bool proxying) {
    http::RouteDoc doc;
    doc.summary = scenario_summary(path);
    doc.tag = "scenarios";
    doc.query = {bypass_doc()};
    doc.answers = {{200, "Five-day forecast", forecast_example},
                   {400, "Bad non_circuit_breaker value", bad_flag_example}};
    if (proxying) {
        doc.description = "Guarded call to the next hop, same path.";
        doc.answers.push_back({502, "The call to the next hop failed", bad_gateway_example});
        doc.answers.push_back({503, "A circuit breaker rejected the call", rejected_example});
    } else {
        doc.answers.push_back({500, "Backline failed", failed_example});
    }
    return doc;
}

Response bad_bypass(const RequestContext& context) {
    return http::json_error(
        bhttp::status::bad_request,
        "non_circuit_breaker must be one of 1, true, yes, on, 0, false, no, off",
        context.request.version());
}

// Route handlers are plain lambdas that call these coroutines: a coroutine's frame copies
// its arguments, so nothing it uses lives in a lambda object that may go away.
net::awaitable<Response> proxy(lab::GuardedCall* guarded,
                               std::shared_ptr<breaker::CircuitBreaker> breaker,
                               RequestContext& context) {
    const auto bypass = lab::parse_bypass(context);
    if (!bypass) {
        co_return bad_bypass(context);
    }
    co_return co_await guarded->call(context, *breaker, *bypass);
}

net::awaitable<Response> answered(Response answer) {
    co_return answer;
}

using Scenario = net::awaitable<Response> (lab::Backline::*)(const RequestContext&);

net::awaitable<Response> simulate(lab::Backline* backline,
                                  Scenario scenario,
                                  RequestContext& context) {
    if (!lab::parse_bypass(context)) {
        co_return bad_bypass(context);
    }
    co_return co_await (backline->*scenario)(context);
}

std::string hop_name(ops::Role role) {
    return role == ops::Role::frontier ? "frontier->midline" : "midline->backline";
}

std::string next_domain(const ops::Config& config) {
    return config.role == ops::Role::frontier ? config.midline_domain : config.backline_domain;
}

std::shared_ptr<breaker::CircuitBreaker> make_breaker(RoleParts& parts,
                                                      const ops::Config& config,
                                                      const breaker::Clock& clock,
                                                      const std::string& name) {
    auto* events = &parts.events;
    auto observer = parts.board.track(name, [events](const breaker::Transition& transition) {
        ops::log_transition(transition);
        const ops::TransitionRecord record{transition, std::chrono::system_clock::now()};
        events->publish("transition", ops::BreakerBoard::transition_json(record).dump());
    });
    auto breaker = breaker::CircuitBreaker::create(name, config.breaker, clock, observer);
    parts.board.attach(breaker);
    if (config.breaker_forced_state) {
        breaker->force(*config.breaker_forced_state, "forced at start-up by CB_FORCED_STATE");
    }
    return breaker;
}

void add_proxy_routes(RoleParts& parts,
                      const ops::Config& config,
                      net::io_context& io,
                      const breaker::Clock& clock) {
    http::ClientOptions client_options;
    client_options.connect_timeout = config.upstream_connect_timeout;
    client_options.max_connections = config.upstream_max_connections;
    client_options.max_idle = config.upstream_max_connections;
    parts.client = std::make_unique<http::Client>(io.get_executor(), client_options);

    lab::HopOptions hop;
    hop.name = hop_name(config.role);
    hop.upstream = *http::parse_upstream_url(next_domain(config));
    hop.timeout = config.upstream_timeout;
    hop.policy.shed_is_failure = config.shed_is_failure;
    hop.policy.failure_statuses = config.failure_statuses;
    hop.policy.ignore_statuses = config.ignore_statuses;
    hop.retry = config.retry;
    hop.max_concurrent = config.upstream_max_concurrent;
    hop.deadline_margin = config.deadline_margin;
    hop.log = ops::logger("lab");
    auto* board = &parts.board;
    hop.recorder = [board](const lab::CallRecord& call) { board->record(call); };
    parts.next = hop.upstream;
    parts.chain_timeout = config.role == ops::Role::frontier ? std::chrono::milliseconds(4000)
                                                             : std::chrono::milliseconds(2000);
    parts.hop = std::make_unique<lab::GuardedCall>(*parts.client, hop);

    std::shared_ptr<breaker::CircuitBreaker> shared;
    for (const std::string& path : scenario_paths) {
        std::shared_ptr<breaker::CircuitBreaker> breaker;
        if (config.breaker_scope == ops::BreakerScope::upstream) {
            shared = shared ? shared : make_breaker(parts, config, clock, hop.name);
            breaker = shared;
        } else {
            breaker = make_breaker(parts, config, clock, hop.name + "[" + path.substr(5) + "]");
            parts.breakers.push_back(breaker);
        }
        auto* guarded = parts.hop.get();
        parts.router.add({http::Verb::get,
                          path,
                          [guarded, breaker](RequestContext& context) {
                              return proxy(guarded, breaker, context);
                          },
                          scenario_doc(path, true)});
    }
    if (shared) {
        parts.breakers.push_back(shared);
    }
}

void add_backline_routes(RoleParts& parts, const ops::Config& config) {
    parts.backline = std::make_unique<lab::Backline>(
        lab::Chaos{config.fail_rate, config.slow_rate, config.sleep});
    auto* backline = parts.backline.get();
    const std::vector<std::pair<std::string, Scenario>> scenarios{
        {scenario_paths[0], &lab::Backline::success},
        {scenario_paths[1], &lab::Backline::timeout},
        {scenario_paths[2], &lab::Backline::mustfail},
    };
    for (const auto& [path, member] : scenarios) {
        // A copy: clang 14 cannot capture a structured binding.
        const Scenario scenario = member;
        parts.router.add({http::Verb::get,
                          path,
                          [backline, scenario](RequestContext& context) {
                              return simulate(backline, scenario, context);
                          },
                          scenario_doc(path, false)});
    }
}

Response json_ok(const RequestContext& context, const nlohmann::json& body) {
    return http::json_response(bhttp::status::ok, body.dump(), context.request.version());
}

void add_health_routes(RoleParts& parts, const ops::Config& config) {
    const std::string role(ops::to_string(config.role));
    parts.router.add({http::Verb::get,
                      "/healthz",
                      [role](RequestContext& context) {
                          return answered(json_ok(context, {{"status", "ok"}, {"role", role}}));
                      },
                      {"Liveness: the process answers",
                       "",
                       "health",
                       {},
                       {{200, "Alive", R"({"status":"ok","role":"midline"})"}}}});

    auto* ready = &parts.ready;
    parts.router.add(
        {http::Verb::get,
         "/readyz",
         [ready, role](RequestContext& context) {
             if (ready->load()) {
                 return answered(json_ok(context, {{"status", "ready"}, {"role", role}}));
             }
             return answered(http::json_response(bhttp::status::service_unavailable,
                                                 R"({"status":"not ready"})",
                                                 context.request.version()));
         },
         {"Readiness: listening and not shutting down",
          "",
          "health",
          {},
          {{200, "Ready", R"({"status":"ready","role":"midline"})"},
           {503, "Starting or draining", R"({"status":"not ready"})"}}}});
}

constexpr std::string_view swagger_cache = "public, max-age=3600";

void add_schema_routes(RoleParts& parts) {
    const std::string* document = &parts.openapi;
    parts.router.add({http::Verb::get,
                      "/api/schema/",
                      [document](RequestContext& context) {
                          return answered(http::json_response(
                              bhttp::status::ok, *document, context.request.version()));
                      },
                      {"OpenAPI 3.1 document of this service",
                       "",
                       "schema",
                       {},
                       {{200, "The document", R"({"openapi":"3.1.0"})"}}}});
    parts.router.add(
        {http::Verb::get,
         "/api/schema/swagger-ui/",
         [](RequestContext& context) {
             return answered(asset_answer(context, ops::find_asset("index.html"), swagger_cache));
         },
         {"Swagger UI for the document", "", "schema", {}, {{200, "The page", "", "text/html"}}}});
    http::RouteDoc hidden;
    hidden.hidden = true;
    parts.router.add(
        {http::Verb::get,
         "/api/schema/swagger-ui/*",
         [](RequestContext& context) {
             const auto slash = context.path.rfind('/');
             return answered(asset_answer(
                 context, ops::find_asset(context.path.substr(slash + 1)), swagger_cache));
         },
         hidden});
}

std::string role_description(ops::Role role) {
    switch (role) {
        case ops::Role::frontier:
            return "Frontier: the edge hop. Guards its calls to midline with circuit breakers.";
        case ops::Role::midline:
            return "Midline: the middle hop. Guards its calls to backline with circuit breakers.";
        default:
            return "Backline: simulates a healthy, a slow-and-flaky and a broken service.";
    }
}

}  // namespace

std::unique_ptr<RoleParts> build_role(const ops::Config& config,
                                      net::io_context& io,
                                      const breaker::Clock& clock) {
    auto parts = std::make_unique<RoleParts>(clock);
    parts->role = config.role;
    parts->admin_token = config.admin_token;
    if (config.role == ops::Role::backline) {
        add_backline_routes(*parts, config);
    } else {
        add_proxy_routes(*parts, config, io, clock);
    }
    add_health_routes(*parts, config);
    add_schema_routes(*parts);
    add_observe_routes(*parts);

    const ops::ApiInfo info{"Circuit Breaker Lab: " + std::string(ops::to_string(config.role)),
                            "0.1.0",
                            role_description(config.role)};
    parts->openapi = ops::openapi_document(parts->router, info);
    return parts;
}

Response asset_answer(const RequestContext& context,
                      const ops::Asset* asset,
                      std::string_view cache_control) {
    if (asset == nullptr) {
        return http::json_error(bhttp::status::not_found, "not found", context.request.version());
    }
    Response answer{bhttp::status::ok, context.request.version()};
    answer.set(bhttp::field::content_type, asset->content_type);
    answer.set(bhttp::field::cache_control, cache_control);
    answer.body() = std::string(asset->body);
    answer.prepare_payload();
    return answer;
}

}  // namespace circuitlab::app
