#include "circuitlab/ops/config.hpp"

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace circuitlab::ops {
namespace {

using namespace std::chrono_literals;

class ConfigTest : public ::testing::Test {
  protected:
    Invocation load(std::vector<std::string> args) {
        return load_config(args, [this](const std::string& name) -> std::optional<std::string> {
            auto it = env_.find(name);
            return it == env_.end() ? std::nullopt : std::optional<std::string>(it->second);
        });
    }

    // The message of the ConfigError a load throws, or "" when it does not throw.
    std::string error_of(std::vector<std::string> args) {
        try {
            load(std::move(args));
        } catch (const ConfigError& error) {
            return error.what();
        }
        return "";
    }

    std::map<std::string, std::string> env_{{"ROLE", "midline"}};
};

TEST_F(ConfigTest, DefaultsMatchTheDesign) {
    const Config config = load({}).config;

    EXPECT_EQ(config.role, Role::midline);
    EXPECT_EQ(config.listen_port, 8000);
    EXPECT_DOUBLE_EQ(config.fail_rate, 0.7);
    EXPECT_DOUBLE_EQ(config.slow_rate, 0.7);
    EXPECT_EQ(config.sleep, 1000ms);
    EXPECT_EQ(config.upstream_timeout, 1000ms);
    EXPECT_EQ(config.breaker.window_size, 10u);
    EXPECT_EQ(config.breaker.minimum_calls, 5u);
    EXPECT_EQ(config.breaker.wait_in_open, 10s);
    EXPECT_EQ(config.breaker.half_open_calls, 3u);
    EXPECT_EQ(config.breaker_scope, BreakerScope::route);
}

TEST_F(ConfigTest, FlagsWinOverEnvironment) {
    env_["FAIL_RATE"] = "0.1";

    const Config config = load({"--fail-rate", "0.9", "--role=backline"}).config;

    EXPECT_DOUBLE_EQ(config.fail_rate, 0.9);
    EXPECT_EQ(config.role, Role::backline);
}

TEST_F(ConfigTest, SlowCallDurationFollowsUpstreamTimeoutUnlessSet) {
    env_["UPSTREAM_TIMEOUT_MS"] = "700";
    EXPECT_EQ(load({}).config.breaker.slow_call_duration, 700ms);

    env_["CB_SLOW_CALL_DURATION_MS"] = "300";
    EXPECT_EQ(load({}).config.breaker.slow_call_duration, 300ms);
}

TEST_F(ConfigTest, SleepIsInSeconds) {
    env_["SLEEP"] = "1.5";

    EXPECT_EQ(load({}).config.sleep, 1500ms);
}

TEST_F(ConfigTest, MissingRoleIsAnError) {
    env_.clear();

    EXPECT_EQ(error_of({}), "ROLE (--role) is required: frontier, midline or backline");
}

TEST_F(ConfigTest, BadNumberNamesTheVariableRangeAndValue) {
    env_["FAIL_RATE"] = "1.5";

    EXPECT_EQ(error_of({}),
              "bad FAIL_RATE (--fail-rate): expected a number from 0 to 1, got \"1.5\"");
}

TEST_F(ConfigTest, TrailingGarbageIsRejected) {
    env_["CB_WINDOW_SIZE"] = "10x";

    EXPECT_NE(error_of({}).find("CB_WINDOW_SIZE"), std::string::npos);
}

TEST_F(ConfigTest, BadChoiceListsTheChoices) {
    EXPECT_EQ(error_of({"--role", "edge"}),
              "bad ROLE (--role): expected one of frontier, midline, backline, got \"edge\"");
}

TEST_F(ConfigTest, HostileDomainIsRefused) {
    env_["BACKLINE_DOMAIN"] = "http://backline:8000/\r\nX: y";

    EXPECT_NE(error_of({}).find("bad BACKLINE_DOMAIN"), std::string::npos);
}

TEST_F(ConfigTest, HostileValueIsQuotedEscapedInTheErrorLine) {
    env_["BACKLINE_DOMAIN"] = "http://b:80/\r\nX: \x1b[31m\"red\\";

    EXPECT_EQ(error_of({}).substr(error_of({}).find("got")),
              R"(got "http://b:80/\x0d\x0aX: \x1b[31m\"red\\")");
}

TEST_F(ConfigTest, HugeValueIsCutInTheErrorLine) {
    env_["THREADS"] = std::string(100000, '9');

    const std::string error = error_of({});
    EXPECT_LT(error.size(), 300u);
    EXPECT_EQ(error.substr(error.size() - 4), "...\"");
}

TEST_F(ConfigTest, UnknownArgumentIsQuotedEscaped) {
    EXPECT_EQ(error_of({"--\x1b[2J"}), R"(unknown argument "--\x1b[2J" (see --help))");
}

TEST_F(ConfigTest, NonHttpDomainIsRefused) {
    EXPECT_NE(error_of({"--midline-domain", "ftp://midline"}).find("MIDLINE_DOMAIN"),
              std::string::npos);
}

TEST_F(ConfigTest, MinimumCallsAboveWindowIsRefused) {
    env_["CB_WINDOW_SIZE"] = "4";

    EXPECT_EQ(error_of({}),
              "bad CB_MINIMUM_CALLS (--cb-minimum-calls): expected at most CB_WINDOW_SIZE (4) for "
              "a count window, got \"5\"");
}

TEST_F(ConfigTest, TimeWindowTakesMinimumCallsAboveItsSeconds) {
    env_["CB_WINDOW_TYPE"] = "time";
    env_["CB_WINDOW_SIZE"] = "4";
    env_["CB_MINIMUM_CALLS"] = "20";

    const Config config = load({}).config;

    EXPECT_EQ(config.breaker.window_type, breaker::WindowType::time);
    EXPECT_EQ(config.breaker.window_size, 4u);
    EXPECT_EQ(config.breaker.minimum_calls, 20u);
}

TEST_F(ConfigTest, UnknownWindowTypeIsRefused) {
    EXPECT_EQ(error_of({"--cb-window-type", "sliding"}),
              "bad CB_WINDOW_TYPE (--cb-window-type): expected one of count, time, got "
              "\"sliding\"");
}

TEST_F(ConfigTest, ReadsOpenBackoffJitterAndTimers) {
    env_["CB_OPEN_BACKOFF"] = "2";
    env_["CB_MAX_WAIT_IN_OPEN_MS"] = "30000";
    env_["CB_OPEN_JITTER"] = "0.1";
    env_["CB_AUTO_HALF_OPEN"] = "true";
    env_["CB_INFLIGHT_TRIP"] = "on";
    env_["CB_SLOW_CALL_DURATION_MS"] = "300";

    const breaker::BreakerConfig cb = load({}).config.breaker;

    EXPECT_EQ(cb.open_backoff, 2.0);
    EXPECT_EQ(cb.max_wait_in_open, 30s);
    EXPECT_EQ(cb.open_jitter, 0.1);
    EXPECT_TRUE(cb.auto_half_open);
    EXPECT_TRUE(cb.inflight_trip);
}

TEST_F(ConfigTest, BackoffBelowOneIsRefused) {
    EXPECT_EQ(error_of({"--cb-open-backoff=0.5"}),
              "bad CB_OPEN_BACKOFF (--cb-open-backoff): expected a number from 1 to 100, got "
              "\"0.5\"");
}

TEST_F(ConfigTest, JitterOfOneOrMoreIsRefused) {
    EXPECT_NE(error_of({"--cb-open-jitter=1"}).find("CB_OPEN_JITTER"), std::string::npos);
}

TEST_F(ConfigTest, BackoffCapBelowTheBaseWaitIsRefused) {
    env_["CB_OPEN_BACKOFF"] = "2";
    env_["CB_WAIT_IN_OPEN_MS"] = "5000";
    env_["CB_MAX_WAIT_IN_OPEN_MS"] = "4000";

    EXPECT_EQ(error_of({}),
              "bad CB_MAX_WAIT_IN_OPEN_MS (--cb-max-wait-in-open-ms): expected at least "
              "CB_WAIT_IN_OPEN_MS (5000) when CB_OPEN_BACKOFF > 1, got \"4000\"");
}

TEST_F(ConfigTest, CapBelowTheBaseWaitIsFineWithoutBackoff) {
    env_["CB_WAIT_IN_OPEN_MS"] = "120000";

    EXPECT_EQ(load({}).config.breaker.wait_in_open, 120s);
}

TEST_F(ConfigTest, InFlightTripWithSlowCallsOnlyAtTheTimeoutIsRefused) {
    env_["CB_INFLIGHT_TRIP"] = "true";

    EXPECT_EQ(error_of({}),
              "bad CB_INFLIGHT_TRIP (--cb-inflight-trip): expected CB_SLOW_CALL_DURATION_MS (1000) "
              "below UPSTREAM_TIMEOUT_MS (1000) so it can act before the timeouts, got \"true\"");
}

TEST_F(ConfigTest, NonBooleanAutoHalfOpenIsRefused) {
    EXPECT_NE(error_of({"--cb-auto-half-open", "maybe"}).find("CB_AUTO_HALF_OPEN"),
              std::string::npos);
}

TEST_F(ConfigTest, UnknownFlagIsRefused) {
    EXPECT_EQ(error_of({"--colour", "red"}), "unknown argument \"--colour\" (see --help)");
}

TEST_F(ConfigTest, FlagWithoutValueIsRefused) {
    EXPECT_EQ(error_of({"--threads"}), "missing value for --threads (see --help)");
}

TEST_F(ConfigTest, ListenTakesHostAndPort) {
    const Config config = load({"--listen", "127.0.0.1:8102"}).config;

    EXPECT_EQ(config.listen_host, "127.0.0.1");
    EXPECT_EQ(config.listen_port, 8102);
    EXPECT_NE(error_of({"--listen", "nowhere:80"}).find("LISTEN"), std::string::npos);
    EXPECT_NE(error_of({"--listen", "0.0.0.0:70000"}).find("LISTEN"), std::string::npos);
}

TEST_F(ConfigTest, ForcedStateAndScopeAreParsed) {
    env_["CB_FORCED_STATE"] = "forced_open";
    env_["CB_SCOPE"] = "upstream";

    const Config config = load({}).config;

    EXPECT_EQ(config.breaker_forced_state, breaker::State::forced_open);
    EXPECT_EQ(config.breaker_scope, BreakerScope::upstream);
}

TEST_F(ConfigTest, StatusSetsAreParsed) {
    env_["CB_FAILURE_STATUSES"] = "429, 500-599";
    env_["CB_IGNORE_STATUSES"] = "503";

    const Config config = load({}).config;

    EXPECT_TRUE(config.failure_statuses.contains(429));
    EXPECT_TRUE(config.failure_statuses.contains(599));
    EXPECT_TRUE(config.ignore_statuses.contains(503));
    EXPECT_FALSE(config.ignore_statuses.contains(500));
}

TEST_F(ConfigTest, StatusSetsDefaultToServerErrorsAndNothingIgnored) {
    const Config config = load({}).config;

    EXPECT_EQ(config.failure_statuses.to_string(), "500-599");
    EXPECT_TRUE(config.ignore_statuses.empty());
}

TEST_F(ConfigTest, BadStatusSetNamesTheVariable) {
    env_["CB_IGNORE_STATUSES"] = "5xx";

    const std::string error = error_of({});

    EXPECT_EQ(error.rfind("bad CB_IGNORE_STATUSES (--cb-ignore-statuses): expected", 0), 0u)
        << error;
    EXPECT_NE(error.find("got \"5xx\""), std::string::npos) << error;
}

TEST_F(ConfigTest, HelpSaysAStatusInBothSetsIsIgnored) {
    EXPECT_NE(help_text().find("wins over CB_FAILURE_STATUSES"), std::string::npos);
}

TEST_F(ConfigTest, RetryBulkheadAndDeadlineDefaults) {
    const Config config = load({}).config;

    EXPECT_EQ(config.retry.attempts, 0u);
    EXPECT_EQ(config.retry.backoff_base, 50ms);
    EXPECT_EQ(config.retry.backoff_cap, 1000ms);
    EXPECT_EQ(config.retry.budget_percent, 20.0);
    EXPECT_EQ(config.retry.budget_min, 3u);
    EXPECT_EQ(config.upstream_max_concurrent, 200u);
    EXPECT_EQ(config.deadline_margin, 20ms);
}

TEST_F(ConfigTest, RetryBudgetCanBeTurnedOff) {
    env_["RETRY_BUDGET_PERCENT"] = "none";
    env_["RETRY_ATTEMPTS"] = "2";

    const Config config = load({}).config;

    EXPECT_EQ(config.retry.budget_percent, std::nullopt);
    EXPECT_EQ(config.retry.attempts, 2u);
}

TEST_F(ConfigTest, BadRetryBudgetNamesTheVariable) {
    env_["RETRY_BUDGET_PERCENT"] = "150";

    EXPECT_EQ(error_of({}),
              "bad RETRY_BUDGET_PERCENT (--retry-budget-percent): expected a number from 0 to "
              "100, or none, got \"150\"");
}

TEST_F(ConfigTest, BackoffCapBelowBaseIsRefused) {
    env_["RETRY_BACKOFF_BASE_MS"] = "500";
    env_["RETRY_BACKOFF_CAP_MS"] = "100";

    EXPECT_NE(error_of({}).find("bad RETRY_BACKOFF_CAP_MS"), std::string::npos);
}

TEST_F(ConfigTest, ZeroBulkheadIsRefused) {
    env_["UPSTREAM_MAX_CONCURRENT"] = "0";

    EXPECT_NE(error_of({}).find("bad UPSTREAM_MAX_CONCURRENT"), std::string::npos);
}

TEST_F(ConfigTest, HelpNeedsNoRoleAndListsEverySetting) {
    env_.clear();

    EXPECT_EQ(load({"--help"}).action, Invocation::Action::help);
    const std::string help = help_text();
    for (const std::string& line : describe(Config{})) {
        const std::string name = line.substr(0, line.find('='));
        EXPECT_NE(help.find(name), std::string::npos) << name;
    }
    EXPECT_NE(help.find("--cb-wait-in-open-ms, CB_WAIT_IN_OPEN_MS"), std::string::npos);
}

}  // namespace
}  // namespace circuitlab::ops

namespace circuitlab::ops {
namespace {

std::string readme_text() {
    std::ifstream file(std::string(CIRCUITLAB_SOURCE_DIR) + "/README.md");
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
}

// The rows of the README's settings table: the lines starting "| `" between "## Settings"
// and the next heading.
std::vector<std::string> readme_setting_rows(const std::string& readme) {
    std::vector<std::string> rows;
    std::istringstream lines(readme.substr(readme.find("\n## Settings\n") + 1));
    std::string line;
    std::getline(lines, line);
    while (std::getline(lines, line) && line.rfind("## ", 0) != 0) {
        if (line.rfind("| `", 0) == 0) {
            rows.push_back(line);
        }
    }
    return rows;
}

TEST(ConfigDocsTest, ReadmeSettingsTableMatchesHelpExactly) {
    const std::string readme = readme_text();
    ASSERT_NE(readme.find("\n## Settings\n"), std::string::npos);
    std::vector<std::string> expected;
    for (const SettingDoc& doc : setting_docs()) {
        expected.push_back(readme_row(doc));
    }

    // Same rows, same order: a setting added, renamed or re-documented in one place only fails.
    EXPECT_EQ(readme_setting_rows(readme), expected);
}

TEST(ConfigDocsTest, HelpShowsEachSettingsDocumentedDefault) {
    const std::string help = help_text();
    for (const SettingDoc& doc : setting_docs()) {
        const std::string entry = doc.flag + ", " + doc.variable +
                                  "  (default: " + doc.default_value + ")\n      " + doc.meaning +
                                  "\n";
        EXPECT_NE(help.find(entry), std::string::npos) << doc.variable;
    }
}

}  // namespace
}  // namespace circuitlab::ops
