#include "circuitlab/ops/metrics.hpp"

namespace circuitlab::ops {

namespace {

double since_epoch(std::chrono::system_clock::time_point time) {
    return std::chrono::duration<double>(time.time_since_epoch()).count();
}

}  // namespace

ServerMetrics::ServerMetrics()
    : started_(std::chrono::steady_clock::now()), started_wall_(std::chrono::system_clock::now()) {}

void ServerMetrics::on_answer(const http::AnswerRecord& record) {
    // Unmatched paths share one label value: a scan of random paths must not grow the map.
    const std::string route = record.route.empty() ? "UNKNOWN" : std::string(record.route);
    answers_.observe({{"method", std::string(record.method)},
                      {"uri", route},
                      {"status", std::to_string(record.status)}},
                     record.elapsed);
}

void ServerMetrics::write(PromText& out, std::size_t open_connections) const {
    out.family("http_server_requests_seconds",
               "histogram",
               "Requests answered by this process, by method, route and status");
    answers_.write(out, "http_server_requests_seconds");

    out.family("circuitlab_http_open_connections", "gauge", "Client connections open now");
    out.sample("circuitlab_http_open_connections", {}, static_cast<double>(open_connections));

    const auto uptime = std::chrono::steady_clock::now() - started_;
    out.family("process_uptime_seconds", "gauge", "Seconds since the process started");
    out.sample("process_uptime_seconds", {}, std::chrono::duration<double>(uptime).count());
    out.family("process_start_time_seconds",
               "gauge",
               "Start time of the process since the Unix epoch in seconds");
    out.sample("process_start_time_seconds", {}, since_epoch(started_wall_));
}

std::string metrics_text(const ServerMetrics& server,
                         const BreakerBoard& board,
                         const ProcessGauges& gauges) {
    PromText out;
    server.write(out, gauges.open_connections);
    out.family("circuitlab_event_stream_clients", "gauge", "Clients of /api/events now");
    out.sample("circuitlab_event_stream_clients", {}, static_cast<double>(gauges.event_clients));
    board.write_metrics(out);
    return out.text();
}

}  // namespace circuitlab::ops
