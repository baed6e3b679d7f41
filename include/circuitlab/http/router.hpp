#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>

namespace circuitlab::http {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;
using Verb = boost::beast::http::verb;

/// One decoded query parameter, in the order it appeared.
struct QueryParam {
    std::string name;
    std::string value;
};

/// Documentation of one query parameter of a route, for the OpenAPI document.
struct ParamDoc {
    std::string name;
    std::string description;
    std::vector<std::string> allowed;  ///< Accepted values; empty means any string.
};

/// Documentation of one possible answer of a route.
struct AnswerDoc {
    int status = 200;
    std::string description;
    std::string example_json;  ///< Example body; empty means none.
    std::string content_type = "application/json";
};

/// Everything the OpenAPI generator needs to know about a route.
struct RouteDoc {
    std::string summary;
    std::string description;
    std::string tag;
    std::vector<ParamDoc> query;
    std::vector<AnswerDoc> answers;
    bool hidden = false;         ///< Served but left out of the document (static assets).
    bool admin = false;          ///< Needs `Authorization: Bearer <ADMIN_TOKEN>`.
    std::string body_example{};  ///< Example JSON request body; empty means the route takes none.
};

/// What a handler sees of a request. Valid for the duration of the handler only.
struct RequestContext {
    const Request& request;
    std::string_view path;                           ///< Target without the query string.
    std::vector<QueryParam> query;                   ///< Percent-decoded query parameters.
    std::map<std::string, std::string> path_params;  ///< Values of `{name}` segments.
    std::string request_id;                          ///< Sanitised X-Request-ID of this request.

    /// First value of a query parameter, or nullptr when absent.
    const std::string* query_value(std::string_view name) const;
};

/// A route handler: a coroutine producing the answer. It never throws on bad input;
/// a thrown exception becomes a 500 JSON answer and an error log line.
using Handler = std::function<boost::asio::awaitable<Response>(RequestContext&)>;

/// Writes the body of a streamed answer (Server-Sent Events) chunk by chunk. Lives as long
/// as the stream handler runs; used from the handler's coroutine only.
class StreamWriter {
  public:
    virtual ~StreamWriter() = default;

    /// Writes one chunk. Returns false once the peer is gone or too slow (the write did not
    /// finish within the server's idle timeout): the handler should return then.
    virtual boost::asio::awaitable<bool> write(std::string_view chunk) = 0;
};

/// A streaming handler: runs after the answer's head (200, `text/event-stream`) was sent and
/// writes the body until it returns; the connection closes then. Runs on the connection's
/// strand and is cancelled on a forced close.
using StreamHandler = std::function<boost::asio::awaitable<void>(RequestContext&, StreamWriter&)>;

/// One route: method, path pattern and handler. A pattern segment `{name}` matches any
/// single non-empty segment (as sent, not decoded); a pattern ending in `*` matches any rest
/// (static assets), which the handler finds in `path_params["*"]`. An exact route wins over a `*`
/// route, then the route with more literal segments. Trailing slashes count: `/a/` is not `/a`.
struct Route {
    Verb method = Verb::get;
    std::string pattern;
    Handler handler;
    RouteDoc doc;
    /// Set for streaming routes: `handler` runs first and decides (an answer other than 200
    /// is sent as it is, e.g. 401); on 200 its head is sent and `stream` writes the body.
    StreamHandler stream{};
};

/// Result of looking a request up in the router.
struct Match {
    const Route* route = nullptr;                    ///< Null when nothing matched.
    std::map<std::string, std::string> path_params;  ///< Filled when route is set.
    std::vector<Verb> allowed;                       ///< Methods for the path when 405.
};

/// The route table of a process. Filled once at start-up, then read-only and safe to
/// share between threads.
class Router {
  public:
    /// Adds a route. Throws std::invalid_argument on a duplicate method and pattern.
    void add(Route route);

    /// Finds the route for a method and a path (no query string). When no route matches
    /// the path, `route` is null and `allowed` empty (404); when the path matches with
    /// other methods only, `route` is null and `allowed` lists them (405).
    Match match(Verb method, std::string_view path) const;

    /// Every route, in the order added.
    const std::vector<Route>& routes() const { return routes_; }

  private:
    /// A route's pattern cut into its segments once, when the route is added, so that a
    /// lookup splits only the request's path.
    struct Pattern {
        std::vector<std::string> segments;
        bool rest = false;  ///< The last segment ends in `*`.
    };

    std::vector<Route> routes_;
    std::vector<Pattern> patterns_;  ///< patterns_[i] is routes_[i].pattern, split.
};

/// Builds a JSON error answer `{"error": message}` with the given status.
Response json_error(boost::beast::http::status status,
                    std::string_view message,
                    unsigned version = 11);

/// Builds a JSON answer from an already serialised body.
Response json_response(boost::beast::http::status status, std::string body, unsigned version = 11);

}  // namespace circuitlab::http
