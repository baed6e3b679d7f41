#include "replay_command.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>

#include "circuitlab/replay/replay.hpp"

namespace circuitlab::app {

namespace {

constexpr int exit_bad_input = 2;

const char* const usage =
    "Usage: circuitlab replay [--config FILE] [--SETTING=value | --SETTING value]... TRACE\n"
    "Replays TRACE (CSV or JSON lines of calls; - for stdin) through one breaker on a virtual\n"
    "clock and prints every transition and a summary. FILE holds NAME=value lines (CB_* and\n"
    "the other settings of circuitlab --help); flags win over FILE. See the README, Replay.\n";

/// What the command line of `replay` asked for.
struct ReplayArgs {
    std::optional<std::string> config;
    std::vector<std::string> flags;
    std::string trace;
    bool help = false;
};

std::optional<ReplayArgs> parse_args(const std::vector<std::string>& args) {
    ReplayArgs parsed;
    for (std::size_t i = 1; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (arg == "--help" || arg == "-h") {
            parsed.help = true;
        } else if (arg == "--config" && i + 1 < args.size()) {
            parsed.config = args[++i];
        } else if (arg.rfind("--config=", 0) == 0) {
            parsed.config = arg.substr(9);
        } else if (i + 1 == args.size()) {
            parsed.trace = arg;
        } else {
            parsed.flags.push_back(arg);
        }
    }
    if (!parsed.help && (parsed.trace.empty() || parsed.trace.rfind("--", 0) == 0)) {
        return std::nullopt;
    }
    return parsed;
}

// Reads a whole stream: in one piece when its size is known (a day of traffic can be a few
// hundred megabytes), else (a pipe) as it comes.
std::optional<std::string> read_all(std::istream& in) {
    in.seekg(0, std::ios::end);
    const auto size = in.tellg();
    if (size < 0) {
        in.clear();
        return std::string(std::istreambuf_iterator<char>(in), {});
    }
    std::string text(static_cast<std::size_t>(size), '\0');
    in.seekg(0);
    if (!in.read(text.data(), static_cast<std::streamsize>(text.size()))) {
        return std::nullopt;
    }
    return text;
}

std::optional<std::string> read_file(const std::string& path) {
    if (path == "-") {
        return std::string(std::istreambuf_iterator<char>(std::cin), {});
    }
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        return std::nullopt;  // a directory opens as a stream, but has no text
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return std::nullopt;
    }
    return read_all(in);
}

int fail(const std::string& message) {
    std::fprintf(stderr, "circuitlab replay: %s\n", message.c_str());
    return exit_bad_input;
}

int replay(const ReplayArgs& args) {
    std::string settings_text;
    if (args.config) {
        auto text = read_file(*args.config);
        if (!text) {
            return fail("cannot read settings file " + *args.config);
        }
        settings_text = std::move(*text);
    }
    replay::ReplaySettings settings;
    try {
        settings = replay::settings_from(replay::load_settings(settings_text, args.flags));
    } catch (const ops::ConfigError& error) {
        return fail(args.config ? *args.config + ": " + error.what() : error.what());
    }

    const auto trace_text = read_file(args.trace);
    if (!trace_text) {
        return fail("cannot read trace " + args.trace);
    }
    replay::Trace trace;
    try {
        trace = replay::read_trace(*trace_text);
    } catch (const replay::TraceError& error) {
        return fail(args.trace + ":" + std::to_string(error.line()) + ": " + error.what());
    }
    std::fputs(replay::format_report(replay::run_by_route(trace, settings)).c_str(), stdout);
    return 0;
}

}  // namespace

int replay_command(const std::vector<std::string>& args) {
    const auto parsed = parse_args(args);
    if (!parsed) {
        std::fputs(usage, stderr);
        return exit_bad_input;
    }
    if (parsed->help) {
        std::fputs(usage, stdout);
        return 0;
    }
    return replay(*parsed);
}

}  // namespace circuitlab::app
