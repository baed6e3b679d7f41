#include "lab_stack.hpp"

#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "circuitlab/http/client.hpp"

namespace circuitlab::testing {

namespace net = boost::asio;

namespace {

Answer answer_of(const http::CallResult& result, std::chrono::steady_clock::time_point started) {
    Answer answer;
    answer.took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    if (result.response) {
        answer.status = result.response->result_int();
        answer.body = result.response->body();
        for (const auto& field : *result.response) {
            answer.headers.insert(field.name_string(), field.value());
        }
    }
    return answer;
}

}  // namespace

Answer fetch(int port,
             const std::string& target,
             std::chrono::milliseconds timeout,
             std::vector<std::pair<std::string, std::string>> headers) {
    net::io_context io;
    http::ClientOptions options;
    options.answer_limit = 16 * 1024 * 1024;  // Swagger UI's bundle is about 1.5 MB
    http::Client client(io.get_executor(), options);
    const http::Upstream upstream{"127.0.0.1", std::to_string(port), ""};
    const auto started = std::chrono::steady_clock::now();
    auto future = net::co_spawn(
        io, client.get(upstream, target, std::move(headers), timeout), net::use_future);
    io.run();
    return answer_of(future.get(), started);
}

Answer send(int port,
            boost::beast::http::verb method,
            const std::string& target,
            const std::string& body,
            std::vector<std::pair<std::string, std::string>> headers,
            std::chrono::milliseconds timeout) {
    net::io_context io;
    http::Client client(io.get_executor(), http::ClientOptions{});
    const http::Upstream upstream{"127.0.0.1", std::to_string(port), ""};
    headers.emplace_back("Content-Type", "application/json");
    const auto started = std::chrono::steady_clock::now();
    auto future =
        net::co_spawn(io,
                      client.send(method, upstream, target, std::move(headers), body, timeout),
                      net::use_future);
    io.run();
    return answer_of(future.get(), started);
}

int base_port_from_env(int fallback) {
    const char* value = std::getenv("CIRCUITLAB_TEST_BASE_PORT");
    if (value == nullptr || *value == '\0') {
        return fallback;
    }
    return std::stoi(value);
}

LabStack::LabStack(int base_port, std::map<std::string, std::string> env)
    : base_(base_port), env_(std::move(env)) {
    dir_ = std::string(CIRCUITLAB_TEST_RUN_DIR) + "/lab-" + std::to_string(base_port);
    env_["LAB_DIR"] = dir_;
    env_["LAB_GATEWAY_PORT"] = std::to_string(base_ + 1);
    env_["LAB_FRONTIER_PORT"] = std::to_string(port("frontier"));
    env_["LAB_MIDLINE_PORT"] = std::to_string(port("midline"));
    env_["LAB_BACKLINE_PORT"] = std::to_string(port("backline"));
    env_["CIRCUITLAB_BIN"] = CIRCUITLAB_BIN;
    env_.emplace("LOG_LEVEL", "debug");
    env_.emplace("THREADS", "2");
}

LabStack::~LabStack() {
    stop();
}

int LabStack::port(const std::string& role) const {
    if (role == "frontier") {
        return base_ + 11;
    }
    if (role == "midline") {
        return base_ + 12;
    }
    return role == "backline" ? base_ + 13 : base_ + 1;
}

int LabStack::run(const std::string& args, const std::map<std::string, std::string>& extra) const {
    std::ostringstream command;
    command << "env";
    auto all = env_;
    for (const auto& [name, value] : extra) {
        all[name] = value;
    }
    for (const auto& [name, value] : all) {
        command << " '" << name << "=" << value << "'";
    }
    command << " " << CIRCUITLAB_SOURCE_DIR << "/scripts/lab-local.sh " << args << " >>'" << dir_
            << ".launcher.log' 2>&1";
    return std::system(command.str().c_str());
}

void LabStack::start() {
    std::filesystem::create_directories(dir_);
    // Logs of an earlier run (another test, or a reused build directory) would answer log()
    // and sanitizer_reports() for this one.
    for (const char* role : {"frontier", "midline", "backline", "gateway", "gateway-access"}) {
        std::filesystem::remove(dir_ + "/" + role + ".log");
    }
    std::filesystem::remove(dir_ + ".launcher.log");
    if (run("start", {}) != 0) {
        std::ifstream output(dir_ + ".launcher.log");
        std::stringstream text;
        text << output.rdbuf();
        throw std::runtime_error("lab-local.sh start failed:\n" + text.str());
    }
    started_ = true;
}

void LabStack::stop() {
    if (started_) {
        run("stop", {});
        started_ = false;
    }
}

void LabStack::restart(const std::string& role, const std::map<std::string, std::string>& env) {
    if (run("restart " + role, env) != 0) {
        throw std::runtime_error("lab-local.sh restart " + role + " failed");
    }
}

void LabStack::signal_quietly(const std::string& role, int number) noexcept {
    try {
        signal(role, number);
    } catch (const std::exception&) {
        // Not running: nothing to signal.
    }
}

void LabStack::signal(const std::string& role, int number) {
    const pid_t target = pid(role);
    if (target <= 0 || ::kill(target, number) != 0) {
        throw std::runtime_error("cannot signal " + role);
    }
}

void LabStack::stop_role(const std::string& role) {
    if (run("stop " + role, {}) != 0) {
        throw std::runtime_error("lab-local.sh stop " + role + " failed");
    }
}

int LabStack::pid(const std::string& role) const {
    std::ifstream file(dir_ + "/" + role + ".pid");
    pid_t value = 0;
    file >> value;
    return value > 0 ? value : 0;
}

std::string LabStack::sanitizer_reports() const {
    std::string found;
    for (const char* role : {"frontier", "midline", "backline"}) {
        std::istringstream lines(log(role));
        for (std::string line; std::getline(lines, line);) {
            if (line.find("Sanitizer") != std::string::npos ||
                line.find("runtime error:") != std::string::npos) {
                found += std::string(role) + ": " + line + "\n";
            }
        }
    }
    return found;
}

std::string LabStack::log(const std::string& role) const {
    std::ifstream file(dir_ + "/" + role + ".log");
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
}

void StackTest::start_stack(const std::map<std::string, std::string>& env) {
    stack_ = std::make_unique<LabStack>(base_port_from_env(18000), env);
    stack_->start();
}

void StackTest::TearDown() {
    if (stack_) {
        stack_->stop();
        EXPECT_EQ(stack_->sanitizer_reports(), "");
    }
}

}  // namespace circuitlab::testing
