#pragma once

// The lab without Docker, for integration tests: the launcher script starts three real
// circuitlab processes and a real Nginx on loopback ports of the test's own, in a run
// directory of its own, so a lab already running on 8001 is never touched.

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>

namespace circuitlab::testing {

/// One answer as a user would see it through curl.
struct Answer {
    int status = 0;  ///< 0 when no answer came (refused, timeout).
    std::string body;
    boost::beast::http::fields headers;
    std::chrono::milliseconds took{0};
};

/// GET http://127.0.0.1:port + target with extra headers, waiting at most `timeout`.
Answer fetch(int port,
             const std::string& target,
             std::chrono::milliseconds timeout = std::chrono::seconds(10),
             std::vector<std::pair<std::string, std::string>> headers = {});

/// Sends `method` to http://127.0.0.1:port + target with a body (JSON) and extra headers.
Answer send(int port,
            boost::beast::http::verb method,
            const std::string& target,
            const std::string& body,
            std::vector<std::pair<std::string, std::string>> headers = {},
            std::chrono::milliseconds timeout = std::chrono::seconds(10));

/// CIRCUITLAB_TEST_BASE_PORT when it is set to a number, else `fallback`.
int base_port_from_env(int fallback);

/// A running lab: gateway, frontier, midline and backline.
class LabStack {
  public:
    /// Ports are base+1 (gateway), base+11, base+12, base+13 (frontier, midline, backline).
    explicit LabStack(int base_port, std::map<std::string, std::string> env = {});
    ~LabStack();

    LabStack(const LabStack&) = delete;
    LabStack& operator=(const LabStack&) = delete;

    /// Starts everything; throws with the launcher's output when it fails.
    void start();

    /// Stops everything it started (the launcher signals only its own PIDs).
    void stop();

    /// Restarts one role with extra environment (e.g. a healthy backline).
    void restart(const std::string& role, const std::map<std::string, std::string>& env);

    /// Sends a signal to one role's process when it runs; does nothing otherwise.
    void signal_quietly(const std::string& role, int signal) noexcept;

    /// Sends a signal to one role's process.
    void signal(const std::string& role, int signal);

    /// Stops one role (SIGTERM, then SIGKILL after the launcher's timeout).
    void stop_role(const std::string& role);

    /// The PID of a role's process (for `gateway`, Nginx's master), or 0 when unknown.
    int pid(const std::string& role) const;

    /// Sanitizer reports (AddressSanitizer, UndefinedBehaviorSanitizer, ThreadSanitizer,
    /// LeakSanitizer) found in the roles' logs, one line each; empty when there are none.
    std::string sanitizer_reports() const;

    /// The text of one role's log.
    std::string log(const std::string& role) const;

    int gateway_port() const { return base_ + 1; }
    int port(const std::string& role) const;

  private:
    int run(const std::string& args, const std::map<std::string, std::string>& extra) const;

    int base_;
    std::string dir_;
    std::map<std::string, std::string> env_;
    bool started_ = false;
};

/// A test with one lab stack on CIRCUITLAB_TEST_BASE_PORT (18000 when unset).
class StackTest : public ::testing::Test {
  protected:
    /// Makes and starts the stack with `env`; throws with the launcher's output on failure.
    void start_stack(const std::map<std::string, std::string>& env);

    /// Stops the stack when there is one, and fails the test when a role wrote a sanitizer
    /// report (leak reports are written as a process exits, so after the stop).
    void TearDown() override;

    std::unique_ptr<LabStack> stack_;
};

}  // namespace circuitlab::testing
