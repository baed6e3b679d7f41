// Hostile input against the real stack: raw bytes on real sockets, to frontier directly and
// through the Nginx gateway. Every hostile request gets a clear JSON answer or a clean close,
// never a crash or a hang, and nothing the client sent is logged raw.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "lab_stack.hpp"

namespace circuitlab::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const int base_port = base_port_from_env(18000);

// ------------------------------------------------------------------ raw sockets

/// A connected TCP socket to 127.0.0.1; closed on destruction.
class RawConnection {
  public:
    explicit RawConnection(int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(static_cast<std::uint16_t>(port));
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        connected_ =
            fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    }

    ~RawConnection() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }

    RawConnection(const RawConnection&) = delete;
    RawConnection& operator=(const RawConnection&) = delete;

    bool connected() const { return connected_; }

    /// Sends every byte; false when the peer is gone.
    bool send(const std::string& bytes) {
        std::size_t sent = 0;
        while (sent < bytes.size()) {
            const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
            if (n <= 0) {
                return false;
            }
            sent += static_cast<std::size_t>(n);
        }
        return true;
    }

    /// Reads until the peer closes or `bound` passes. `closed` tells which; `reset` is set
    /// when the close was a reset.
    std::string read_all(std::chrono::milliseconds bound) {
        std::string text;
        const auto until = Clock::now() + bound;
        while (Clock::now() < until) {
            pollfd wanted{fd_, POLLIN, 0};
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
            if (::poll(&wanted, 1, static_cast<int>(std::max<long>(left.count(), 1))) <= 0) {
                continue;
            }
            char chunk[4096];
            const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
            if (n <= 0) {
                closed = true;
                reset = n < 0;
                break;
            }
            text.append(chunk, static_cast<std::size_t>(n));
        }
        return text;
    }

    /// Whether the peer closed the connection within `bound` (without sending anything).
    bool closed_within(std::chrono::milliseconds bound) {
        read_all(bound);
        return closed;
    }

    bool closed = false;
    bool reset = false;

  private:
    int fd_;
    bool connected_ = false;
};

/// One answer parsed out of raw bytes.
struct RawAnswer {
    int status = 0;
    std::string head;
    std::string body;

    bool has_json_error() const {
        const auto json = nlohmann::json::parse(body, nullptr, false);
        return !json.is_discarded() && json.contains("error");
    }

    std::string header(const std::string& name) const {
        const auto at = lower(head).find("\r\n" + lower(name) + ":");
        if (at == std::string::npos) {
            return "";
        }
        const auto start = head.find_first_not_of(' ', at + name.size() + 3);
        return head.substr(start, head.find("\r\n", start) - start);
    }

    static std::string lower(std::string text) {
        for (char& c : text) {
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        return text;
    }
};

/// Splits raw bytes into answers (Content-Length bodies; enough for our servers).
std::vector<RawAnswer> parse_answers(const std::string& bytes) {
    std::vector<RawAnswer> answers;
    std::size_t at = 0;
    while (at < bytes.size()) {
        const auto end = bytes.find("\r\n\r\n", at);
        if (end == std::string::npos || bytes.compare(at, 5, "HTTP/") != 0) {
            break;
        }
        RawAnswer answer;
        answer.head = bytes.substr(at, end + 2 - at);
        answer.status = std::atoi(answer.head.substr(9, 3).c_str());
        const std::string length = answer.header("Content-Length");
        const std::size_t size = length.empty() ? bytes.size() - end - 4 : std::stoul(length);
        answer.body = bytes.substr(end + 4, size);
        answers.push_back(answer);
        at = end + 4 + size;
    }
    return answers;
}

/// Sends `request` on a new connection and returns the first answer (status 0: none).
RawAnswer ask(int port, const std::string& request, std::chrono::milliseconds bound = 5s) {
    RawConnection connection(port);
    connection.send(request);
    const auto answers = parse_answers(connection.read_all(bound));
    return answers.empty() ? RawAnswer{} : answers.front();
}

std::string get(const std::string& target, const std::string& extra = "") {
    return "GET " + target + " HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n" + extra + "\r\n";
}

// ------------------------------------------------------------------ the stack

class HostileInputTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        stack_ = new LabStack(
            base_port,
            {{"HEADER_TIMEOUT_MS", "1000"}, {"MAX_CONNECTIONS", "200"}, {"LOG_LEVEL", "debug"}});
        stack_->start();
    }

    static void TearDownTestSuite() {
        stack_->stop();
        EXPECT_EQ(stack_->sanitizer_reports(), "");
        delete stack_;
        stack_ = nullptr;
    }

    static int frontier() { return stack_->port("frontier"); }
    static int gateway() { return stack_->gateway_port(); }

    static LabStack* stack_;
};

LabStack* HostileInputTest::stack_ = nullptr;

TEST_F(HostileInputTest, MalformedRequestLineIs400JsonDirectAndThroughTheGateway) {
    for (const int port : {frontier(), gateway()}) {
        const RawAnswer answer = ask(port, "GARBAGE \x01\x02 HTTP/9\r\n\r\n");
        EXPECT_EQ(answer.status, 400) << port;
        EXPECT_TRUE(answer.has_json_error()) << port << ": " << answer.body;
    }
}

TEST_F(HostileInputTest, MalformedHeaderIs400Json) {
    const RawAnswer no_colon = ask(frontier(), get("/healthz", "NoColonInThisLine\r\n"));
    EXPECT_EQ(no_colon.status, 400);
    EXPECT_TRUE(no_colon.has_json_error()) << no_colon.body;

    // Nginx drops a header line it cannot read and goes on; a bad length it refuses.
    for (const int port : {frontier(), gateway()}) {
        const RawAnswer answer = ask(port, get("/healthz", "Content-Length: nope\r\n"));
        EXPECT_EQ(answer.status, 400) << port;
        EXPECT_TRUE(answer.has_json_error()) << port << ": " << answer.body;
    }
}

TEST_F(HostileInputTest, OversizedHeaderIs431Json) {
    const std::string huge = "X-Big: " + std::string(20000, 'a') + "\r\n";
    for (const int port : {frontier(), gateway()}) {
        const RawAnswer answer = ask(port, get("/healthz", huge));
        EXPECT_EQ(answer.status, 431) << port;
        EXPECT_TRUE(answer.has_json_error()) << port << ": " << answer.body;
    }
}

TEST_F(HostileInputTest, OversizedBodyIs413Json) {
    const std::string body(100000, 'b');
    const std::string request =
        "POST /api/success-request HTTP/1.1\r\nHost: lab\r\n"
        "Content-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body;
    for (const int port : {frontier(), gateway()}) {
        const RawAnswer answer = ask(port, request);
        EXPECT_EQ(answer.status, 413) << port;
        EXPECT_TRUE(answer.has_json_error()) << port << ": " << answer.body;
    }
}

TEST_F(HostileInputTest, UnknownRouteIs404JsonThroughTheGateway) {
    const RawAnswer answer = ask(gateway(), get("/api/nowhere%20to/go"));
    EXPECT_EQ(answer.status, 404);
    EXPECT_TRUE(answer.has_json_error()) << answer.body;
}

TEST_F(HostileInputTest, PathAboveTheRootIsRefusedWithJson) {
    const RawAnswer direct = ask(frontier(), get("/api/../../etc/passwd"));
    EXPECT_EQ(direct.status, 404);
    EXPECT_TRUE(direct.has_json_error()) << direct.body;

    const RawAnswer edge = ask(gateway(), get("/api/../../etc/passwd"));
    EXPECT_EQ(edge.status, 400);
    EXPECT_TRUE(edge.has_json_error()) << edge.body;
}

TEST_F(HostileInputTest, WrongMethodIs405WithAllowThroughTheGateway) {
    const RawAnswer answer =
        ask(gateway(),
            "DELETE /api/success-request HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(answer.status, 405);
    EXPECT_EQ(answer.header("Allow"), "GET, HEAD");
    EXPECT_TRUE(answer.has_json_error()) << answer.body;
}

TEST_F(HostileInputTest, BadPercentEncodingAndBadBypassAre400Json) {
    for (const std::string target : {"/api/success-request?x=%zz",
                                     "/api/success-request?non_circuit_breaker=%",
                                     "/api/success-request?non_circuit_breaker=maybe",
                                     "/api/success-request?non_circuit_breaker=1%00"}) {
        const RawAnswer answer = ask(gateway(), get(target));
        EXPECT_EQ(answer.status, 400) << target;
        EXPECT_TRUE(answer.has_json_error()) << target << ": " << answer.body;
    }
}

TEST_F(HostileInputTest, Http10IsAnsweredIn10AndClosed) {
    for (const int port : {frontier(), gateway()}) {
        RawConnection connection(port);
        connection.send("GET /healthz HTTP/1.0\r\n\r\n");
        const auto answers = parse_answers(connection.read_all(5s));
        ASSERT_EQ(answers.size(), 1u) << port;
        EXPECT_EQ(answers[0].status, 200) << port;
        EXPECT_TRUE(connection.closed) << port;
        if (port == frontier()) {
            EXPECT_EQ(answers[0].head.substr(0, 8), "HTTP/1.0");  // Nginx always says 1.1
        }
    }
}

TEST_F(HostileInputTest, PipelinedRequestsAreAnsweredInOrder) {
    for (const int port : {frontier(), gateway()}) {
        RawConnection connection(port);
        std::string burst;
        for (const char* id : {"first", "second", "third"}) {
            burst += "GET /healthz HTTP/1.1\r\nHost: lab\r\nX-Request-ID: " + std::string(id) +
                     "\r\n\r\n";
        }
        connection.send(burst + get("/api/success-request", "X-Request-ID: last\r\n"));
        const auto answers = parse_answers(connection.read_all(5s));
        ASSERT_EQ(answers.size(), 4u) << port;
        EXPECT_EQ(answers[0].header("X-Request-ID"), "first");
        EXPECT_EQ(answers[1].header("X-Request-ID"), "second");
        EXPECT_EQ(answers[2].header("X-Request-ID"), "third");
        EXPECT_EQ(answers[3].header("X-Request-ID"), "last");
        EXPECT_EQ(answers[3].status, 200);
    }
}

TEST_F(HostileInputTest, OneByteASecondClientIsCutAtTheHeaderTimeout) {
    RawConnection connection(frontier());
    const std::string request = get("/healthz");
    const auto start = Clock::now();
    std::size_t sent = 0;
    bool cut = false;
    while (sent < request.size() && Clock::now() - start < 5s) {
        if (!connection.send(request.substr(sent, 1)) || connection.closed_within(300ms)) {
            cut = true;
            break;
        }
        ++sent;
    }
    const auto took = Clock::now() - start;

    EXPECT_TRUE(cut) << "the slow client was still connected after " << sent << " bytes";
    EXPECT_LT(sent, request.size());
    EXPECT_GE(took, 900ms);  // HEADER_TIMEOUT_MS=1000, less timer slack
    EXPECT_LT(took, 4s);
}

TEST_F(HostileInputTest, ThousandIdleConnectionsAreCappedAndTheServerStaysUsable) {
    std::vector<std::unique_ptr<RawConnection>> idle;
    for (int i = 0; i < 1000; ++i) {
        idle.push_back(std::make_unique<RawConnection>(frontier()));
        ASSERT_TRUE(idle.back()->connected()) << i;
    }

    // Past MAX_CONNECTIONS=200 new connections are closed at once, without a byte.
    int refused = 0;
    for (int i = 300; i < 1000; ++i) {
        refused += idle[i]->closed_within(50ms) ? 1 : 0;
    }
    EXPECT_GE(refused, 650);

    // The held ones are cut at the header timeout, and the server then serves again.
    EXPECT_TRUE(idle[0]->closed_within(3s));
    idle.clear();
    EXPECT_EQ(ask(frontier(), get("/healthz")).status, 200);
}

TEST_F(HostileInputTest, HostileRequestIdsAreReplacedAndNeverLogged) {
    // Tabs and bytes past ASCII are legal in a header value; a huge one is too.
    const std::string odd = "EVILODD\t\x80\xff";
    const std::string huge = "EVILHUGE" + std::string(5000, 'z');
    for (const int port : {frontier(), gateway()}) {
        for (const std::string& id : {odd, huge}) {
            const RawAnswer answer = ask(port, get("/healthz", "X-Request-ID: " + id + "\r\n"));
            EXPECT_EQ(answer.status, 200) << port;
            const std::string replaced = answer.header("X-Request-ID");
            EXPECT_FALSE(replaced.empty()) << port;
            EXPECT_EQ(replaced.find("EVIL"), std::string::npos) << port;
        }

        // A control character is not legal: the service refuses the request; Nginx lets it
        // through but replaces the id, as for any id it does not like.
        const RawAnswer ctl = ask(port, get("/healthz", "X-Request-ID: EVILCTL\x1b[31m\r\n"));
        if (port == frontier()) {
            EXPECT_EQ(ctl.status, 400);
            EXPECT_TRUE(ctl.has_json_error()) << ctl.body;
        } else {
            EXPECT_EQ(ctl.status, 200);
            EXPECT_EQ(ctl.header("X-Request-ID").find("EVIL"), std::string::npos);
        }
    }
    for (const char* role : {"frontier", "midline", "backline", "gateway", "gateway-access"}) {
        EXPECT_EQ(stack_->log(role).find("EVIL"), std::string::npos) << role;
    }
}

}  // namespace
}  // namespace circuitlab::testing
