#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "circuitlab/http/server.hpp"
#include "circuitlab/ops/breaker_board.hpp"
#include "circuitlab/ops/prometheus.hpp"

namespace circuitlab::ops {

/// What the process serves, for `/metrics`: answers by route, method and status with their
/// latency, and the process basics. Thread-safe.
class ServerMetrics {
  public:
    /// Starts the uptime clock.
    ServerMetrics();

    /// Counts one answer (the server's AnswerObserver).
    void on_answer(const http::AnswerRecord& record);

    /// Writes `http_server_requests_seconds` (a histogram whose `_count` is the request
    /// count), `process_uptime_seconds`, `process_start_time_seconds` and
    /// `circuitlab_http_open_connections`.
    void write(PromText& out, std::size_t open_connections) const;

  private:
    const std::chrono::steady_clock::time_point started_;
    const std::chrono::system_clock::time_point started_wall_;
    HistogramFamily answers_;
};

/// Live numbers that only the wiring knows, read at scrape time.
struct ProcessGauges {
    std::size_t open_connections = 0;  ///< Client connections open now.
    std::size_t event_clients = 0;     ///< `/api/events` streams open now.
};

/// The whole `/metrics` text: server, process and breaker families.
std::string metrics_text(const ServerMetrics& server,
                         const BreakerBoard& board,
                         const ProcessGauges& gauges);

}  // namespace circuitlab::ops
