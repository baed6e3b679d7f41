// The routes for watching and steering a role: metrics, breaker status, the event stream,
// the admin routes, the /api/chain/ aggregation through the hops, and the dashboard.

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "circuitlab/http/log_line.hpp"
#include "circuitlab/http/query.hpp"
#include "circuitlab/ops/admin.hpp"
#include "circuitlab/ops/assets.hpp"
#include "circuitlab/ops/logging.hpp"
#include "roles.hpp"

namespace circuitlab::app {

namespace {

namespace net = boost::asio;
namespace bhttp = boost::beast::http;
using http::RequestContext;
using http::Response;
using nlohmann::json;

constexpr const char* chain_path = "/api/chain/";

net::awaitable<Response> answered(Response answer) {
    co_return answer;
}

Response json_answer(const RequestContext& context, bhttp::status status, const json& body) {
    return http::json_response(status, body.dump(), context.request.version());
}

Response json_error(const RequestContext& context,
                    bhttp::status status,
                    const std::string& message) {
    return http::json_error(status, message, context.request.version());
}

json hop_status(const RoleParts& parts) {
    const ops::OutcomeTotals totals = parts.board.totals();
    json hop{{"role", std::string(ops::to_string(parts.role))},
             {"breakers", parts.board.status()},
             {"outcomes",
              {{"success", totals.success},
               {"failure", totals.failure},
               {"rejected", totals.rejected},
               {"bypassed", totals.bypassed}}}};
    if (parts.backline) {
        const lab::Chaos chaos = parts.backline->chaos();
        hop["chaos"] = {{"fail_rate", chaos.fail_rate},
                        {"slow_rate", chaos.slow_rate},
                        {"sleep", static_cast<double>(chaos.sleep.count()) / 1000.0}};
    }
    return hop;
}

// --- chaos ------------------------------------------------------------------------------

json chaos_json(const lab::Chaos& chaos) {
    return {{"fail_rate", chaos.fail_rate},
            {"slow_rate", chaos.slow_rate},
            {"sleep", static_cast<double>(chaos.sleep.count()) / 1000.0}};
}

/// Applies a JSON object of any of fail_rate, slow_rate (0..1) and sleep (seconds, 0..60)
/// to `chaos`. Returns an error message naming the first bad field, or empty.
std::string apply_chaos(const json& body, lab::Chaos& chaos) {
    if (!body.is_object() || body.empty()) {
        return "expected a JSON object with any of fail_rate, slow_rate, sleep";
    }
    for (const auto& [key, value] : body.items()) {
        const double high = key == "sleep" ? 60.0 : 1.0;
        if (key != "fail_rate" && key != "slow_rate" && key != "sleep") {
            return "unknown field " + key + ": expected fail_rate, slow_rate or sleep";
        }
        if (!value.is_number() || value.get<double>() < 0.0 || value.get<double>() > high) {
            return "bad " + key + ": expected a number from 0 to " +
                   (key == "sleep" ? std::string("60 (seconds)") : std::string("1"));
        }
        const double number = value.get<double>();
        if (key == "fail_rate") {
            chaos.fail_rate = number;
        } else if (key == "slow_rate") {
            chaos.slow_rate = number;
        } else {
            chaos.sleep = std::chrono::milliseconds(static_cast<long>(number * 1000));
        }
    }
    return {};
}

Response put_chaos(RoleParts& parts, const RequestContext& context) {
    if (auto refused = ops::check_admin(context.request, parts.admin_token)) {
        return std::move(*refused);
    }
    const json body = json::parse(context.request.body(), nullptr, false);
    lab::Chaos chaos = parts.backline->chaos();
    if (std::string error = body.is_discarded() ? "body is not JSON" : apply_chaos(body, chaos);
        !error.empty()) {
        return json_error(context, bhttp::status::bad_request, error);
    }
    parts.backline->set_chaos(chaos);
    const double sleep_s = static_cast<double>(chaos.sleep.count()) / 1000.0;
    http::log_line(*ops::logger("ops"),
                   spdlog::level::info,
                   {.event = "chaos",
                    .request_id = context.request_id,
                    .fields = {{"fail_rate", chaos.fail_rate},
                               {"slow_rate", chaos.slow_rate},
                               {"sleep_s", sleep_s}}},
                   fmt::format("chaos set: fail_rate={} slow_rate={} sleep={}s id={}",
                               chaos.fail_rate,
                               chaos.slow_rate,
                               sleep_s,
                               context.request_id));
    return json_answer(context, bhttp::status::ok, chaos_json(chaos));
}

// --- breaker state ----------------------------------------------------------------------

struct StateChange {
    breaker::State to = breaker::State::closed;
    std::string reason;
};

std::optional<StateChange> parse_state_change(const std::string& body) {
    const json parsed = json::parse(body, nullptr, false);
    if (!parsed.is_object() || !parsed.contains("state") || !parsed["state"].is_string()) {
        return std::nullopt;
    }
    const std::string name = parsed["state"].get<std::string>();
    if (name == "reset") {
        return StateChange{breaker::State::closed, "reset by operator"};
    }
    const auto state = breaker::state_from_string(name);
    if (!state || *state == breaker::State::half_open) {
        return std::nullopt;
    }
    return StateChange{*state, std::string(breaker::to_string(*state)) + " by operator"};
}

json breaker_status(const RoleParts& parts, const std::string& name) {
    for (const json& entry : parts.board.status()) {
        if (entry["name"] == name) {
            return entry;
        }
    }
    return nullptr;
}

Response change_state(RoleParts& parts, const RequestContext& context, const std::string& name) {
    const auto breaker = parts.board.find(name);
    const auto change = parse_state_change(context.request.body());
    if (!change) {
        return json_error(context,
                          bhttp::status::bad_request,
                          "expected {\"state\": one of open, forced_open, disabled, "
                          "metrics_only, closed, reset}");
    }
    if (!breaker->force(change->to, change->reason)) {
        return json_answer(
            context,
            bhttp::status::conflict,
            {{"error",
              "cannot move from " + std::string(breaker::to_string(breaker->state())) + " to " +
                  std::string(breaker::to_string(change->to))},
             {"state", breaker::to_string(breaker->state())}});
    }
    return json_answer(context, bhttp::status::ok, breaker_status(parts, name));
}

std::optional<std::string> breaker_name(const RequestContext& context) {
    const auto found = context.path_params.find("name");
    if (found == context.path_params.end()) {
        return std::nullopt;
    }
    return http::percent_decode(found->second, false);
}

net::awaitable<Response> post_state(RoleParts* parts, RequestContext& context) {
    if (auto refused = ops::check_admin(context.request, parts->admin_token)) {
        co_return std::move(*refused);
    }
    const auto name = breaker_name(context);
    if (!name || !parts->board.find(*name)) {
        co_return json_answer(context,
                              bhttp::status::not_found,
                              {{"error", "no breaker named " + name.value_or("?") + " here"}});
    }
    co_return change_state(*parts, context, *name);
}

// --- the chain: each hop answers for itself and asks the next --------------------------

std::vector<std::pair<std::string, std::string>> forwarded_headers(const RequestContext& context) {
    std::vector<std::pair<std::string, std::string>> headers{{"X-Request-ID", context.request_id},
                                                             {"Content-Type", "application/json"}};
    const auto auth = context.request[bhttp::field::authorization];
    if (!auth.empty()) {
        headers.emplace_back("Authorization", std::string(auth.data(), auth.size()));
    }
    return headers;
}

/// Sends the request on to the same path of the next hop and relays its answer; a 502
/// naming the hop when it cannot be reached.
net::awaitable<Response> forward(RoleParts* parts, RequestContext& context) {
    const http::CallResult result = co_await parts->client->send(context.request.method(),
                                                                 *parts->next,
                                                                 std::string(context.path),
                                                                 forwarded_headers(context),
                                                                 context.request.body(),
                                                                 parts->chain_timeout);
    if (!result.response) {
        co_return json_answer(context,
                              bhttp::status::bad_gateway,
                              {{"error", "next hop unreachable"},
                               {"reason", http::to_string(result.error)},
                               {"detail", result.detail}});
    }
    Response answer{result.response->result(), context.request.version()};
    answer.set(bhttp::field::content_type, "application/json");
    answer.body() = result.response->body();
    answer.prepare_payload();
    co_return answer;
}

json next_hop_error(const http::CallResult& result) {
    json error{{"role", "unreachable"}, {"breakers", json::array()}};
    error["error"] = result.response ? "answer " + std::to_string(result.response->result_int())
                                     : std::string(http::to_string(result.error));
    return error;
}

net::awaitable<Response> chain_breakers(RoleParts* parts, RequestContext& context) {
    json hops = json::array({hop_status(*parts)});
    if (parts->next) {
        const http::CallResult result = co_await parts->client->get(
            *parts->next, "/api/chain/breakers", forwarded_headers(context), parts->chain_timeout);
        json below = result.response && result.response->result_int() == 200
                         ? json::parse(result.response->body(), nullptr, false)
                         : json();
        if (below.is_object() && below["hops"].is_array()) {
            for (auto& hop : below["hops"]) {
                hops.push_back(std::move(hop));
            }
        } else {
            hops.push_back(next_hop_error(result));
        }
    }
    co_return json_answer(context, bhttp::status::ok, {{"hops", hops}});
}

net::awaitable<Response> chain_state(RoleParts* parts, RequestContext& context) {
    const auto name = breaker_name(context);
    if (name && parts->board.find(*name)) {
        co_return co_await post_state(parts, context);
    }
    if (auto refused = ops::check_admin(context.request, parts->admin_token)) {
        co_return std::move(*refused);
    }
    if (!parts->next) {
        co_return json_answer(
            context,
            bhttp::status::not_found,
            {{"error", "no breaker named " + name.value_or("?") + " in the chain"}});
    }
    co_return co_await forward(parts, context);
}

net::awaitable<Response> chain_chaos(RoleParts* parts, RequestContext& context) {
    if (parts->backline) {
        if (context.request.method() == bhttp::verb::put) {
            co_return put_chaos(*parts, context);
        }
        co_return json_answer(context, bhttp::status::ok, chaos_json(parts->backline->chaos()));
    }
    if (context.request.method() == bhttp::verb::put) {
        if (auto refused = ops::check_admin(context.request, parts->admin_token)) {
            co_return std::move(*refused);
        }
    }
    co_return co_await forward(parts, context);
}

// --- documentation ----------------------------------------------------------------------

constexpr const char* breakers_example =
    R"({"role":"midline","breakers":[{"name":"midline->backline[mustfail-request]",)"
    R"("state":"open","generation":1,"next_probe_in_ms":8123,"probe_due":false,)"
    R"("window":{"calls":0,"failures":0,"slow_calls":0,"evaluated":false,)"
    R"("failure_rate":null,"slow_call_rate":null},"transitions":[{"from":"closed",)"
    R"("to":"open","reason":"failure rate 100.0% >= 50.0% over 5 calls"}]}]})";
constexpr const char* state_body_example = R"({"state":"forced_open"})";
constexpr const char* chaos_example = R"({"fail_rate":1,"slow_rate":0,"sleep":1})";
constexpr const char* unauthorized_example = R"({"error":"wrong admin token"})";
constexpr const char* forbidden_example =
    R"({"error":"admin routes are off: start the services with ADMIN_TOKEN set"})";

http::RouteDoc doc(std::string summary, std::string tag, std::vector<http::AnswerDoc> answers) {
    http::RouteDoc route;
    route.summary = std::move(summary);
    route.tag = std::move(tag);
    route.answers = std::move(answers);
    return route;
}

http::RouteDoc admin_doc(std::string summary,
                         std::string body_example,
                         std::vector<http::AnswerDoc> answers) {
    http::RouteDoc route = doc(std::move(summary), "admin", std::move(answers));
    route.admin = true;
    route.body_example = std::move(body_example);
    route.answers.push_back({401, "Missing or wrong bearer token", unauthorized_example});
    route.answers.push_back({403, "No ADMIN_TOKEN configured", forbidden_example});
    return route;
}

// --- route groups -----------------------------------------------------------------------

void add_metrics_routes(RoleParts& parts) {
    auto* p = &parts;
    parts.router.add({http::Verb::get,
                      "/metrics",
                      [p](RequestContext& context) {
                          const ops::ProcessGauges gauges{
                              p->open_connections ? p->open_connections() : 0, p->events.clients()};
                          Response answer{bhttp::status::ok, context.request.version()};
                          answer.set(bhttp::field::content_type,
                                     "text/plain; version=0.0.4; charset=utf-8");
                          answer.body() = ops::metrics_text(p->metrics, p->board, gauges);
                          answer.prepare_payload();
                          return answered(std::move(answer));
                      },
                      doc("Prometheus metrics: breakers (resilience4j names), requests, process",
                          "observe",
                          {{200, "Prometheus text exposition", "", "text/plain"}})});
    parts.router.add({http::Verb::get,
                      "/api/breakers",
                      [p](RequestContext& context) {
                          return answered(json_answer(context, bhttp::status::ok, hop_status(*p)));
                      },
                      doc("Breakers of this process: state, window, next probe, config, "
                          "last 20 transitions",
                          "observe",
                          {{200, "Status", breakers_example}})});
}

void add_event_route(RoleParts& parts) {
    auto* events = &parts.events;
    http::Route route{http::Verb::get,
                      "/api/events",
                      [](RequestContext& context) {
                          Response head{bhttp::status::ok, context.request.version()};
                          head.set(bhttp::field::content_type, "text/event-stream");
                          head.set(bhttp::field::cache_control, "no-cache");
                          head.set("X-Accel-Buffering", "no");  // Nginx passes each event at once.
                          return answered(std::move(head));
                      },
                      doc("Server-Sent Events: `transition` events and per-second `outcomes`",
                          "observe",
                          {{200, "An endless event stream", "", "text/event-stream"}})};
    route.stream = [events](RequestContext&, http::StreamWriter& writer) {
        return events->serve(writer);
    };
    parts.router.add(std::move(route));
}

void add_admin_routes(RoleParts& parts) {
    auto* p = &parts;
    parts.router.add({http::Verb::post,
                      "/api/breakers/{name}/state",
                      [p](RequestContext& context) { return post_state(p, context); },
                      admin_doc("Force a breaker of this process: open, forced_open, disabled, "
                                "metrics_only, closed or reset",
                                state_body_example,
                                {{200, "The breaker after the change", breakers_example},
                                 {400, "Bad state", R"({"error":"expected {\"state\": ...}"})"},
                                 {404, "No such breaker", R"({"error":"no breaker named x"})"},
                                 {409, "Move not allowed", R"({"error":"cannot move"})"}})});
    if (!parts.backline) {
        return;
    }
    parts.router.add(
        {http::Verb::get,
         "/api/chaos",
         [p](RequestContext& context) {
             return answered(
                 json_answer(context, bhttp::status::ok, chaos_json(p->backline->chaos())));
         },
         doc("Backline's chaos settings now", "admin", {{200, "The settings", chaos_example}})});
    parts.router.add({http::Verb::put,
                      "/api/chaos",
                      [p](RequestContext& context) { return answered(put_chaos(*p, context)); },
                      admin_doc("Change backline's FAIL_RATE, SLOW_RATE and SLEEP at run time "
                                "(any of them; all or none applied)",
                                chaos_example,
                                {{200, "The settings now", chaos_example},
                                 {400, "Bad value", R"({"error":"bad fail_rate"})"}})});
}

void add_chain_routes(RoleParts& parts) {
    auto* p = &parts;
    const std::string prefix = chain_path;
    parts.router.add({http::Verb::get,
                      prefix + "breakers",
                      [p](RequestContext& context) { return chain_breakers(p, context); },
                      doc("Breakers of every hop from here down (frontier: the whole chain)",
                          "chain",
                          {{200, "One entry per hop", R"({"hops":[]})"}})});
    parts.router.add({http::Verb::post,
                      prefix + "breakers/{name}/state",
                      [p](RequestContext& context) { return chain_state(p, context); },
                      admin_doc("Force a breaker of any hop from here down (token forwarded)",
                                state_body_example,
                                {{200, "The breaker after the change", breakers_example},
                                 {404, "No such breaker", R"({"error":"no breaker"})"},
                                 {502, "Next hop unreachable", R"({"error":"next hop"})"}})});
    parts.router.add({http::Verb::get,
                      prefix + "chaos",
                      [p](RequestContext& context) { return chain_chaos(p, context); },
                      doc("Backline's chaos settings, asked through the hops",
                          "chain",
                          {{200, "The settings", chaos_example}})});
    parts.router.add({http::Verb::put,
                      prefix + "chaos",
                      [p](RequestContext& context) { return chain_chaos(p, context); },
                      admin_doc("Change backline's chaos settings through the hops",
                                chaos_example,
                                {{200, "The settings now", chaos_example},
                                 {400, "Bad value", R"({"error":"bad fail_rate"})"}})});
}

Response dashboard_asset(const RequestContext& context, std::string_view name) {
    return asset_answer(context, ops::find_dashboard_asset(name), "no-cache");
}

void add_dashboard_routes(RoleParts& parts) {
    parts.router.add(
        {http::Verb::get,
         "/dashboard",
         [](RequestContext& context) {
             Response answer{bhttp::status::permanent_redirect, context.request.version()};
             answer.set(bhttp::field::location, "/dashboard/");
             answer.prepare_payload();
             return answered(std::move(answer));
         },
         [] {
             http::RouteDoc hidden;
             hidden.hidden = true;
             return hidden;
         }()});
    parts.router.add(
        {http::Verb::get,
         "/dashboard/",
         [](RequestContext& context) { return answered(dashboard_asset(context, "index.html")); },
         doc("The live dashboard of the chain (frontier only)",
             "observe",
             {{200, "The page", "", "text/html"}})});
    http::RouteDoc hidden;
    hidden.hidden = true;
    parts.router.add({http::Verb::get,
                      "/dashboard/*",
                      [](RequestContext& context) {
                          const auto slash = context.path.rfind('/');
                          return answered(dashboard_asset(context, context.path.substr(slash + 1)));
                      },
                      hidden});
}

}  // namespace

void add_observe_routes(RoleParts& parts) {
    add_metrics_routes(parts);
    add_event_route(parts);
    add_admin_routes(parts);
    add_chain_routes(parts);
    if (parts.role == ops::Role::frontier) {
        add_dashboard_routes(parts);
    }
}

}  // namespace circuitlab::app
