#include "wire.hpp"

#include <charconv>
#include <iterator>
#include <string_view>

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/status.hpp>

namespace circuitlab::http {

namespace {

namespace bhttp = boost::beast::http;

/// Room for the start line and the headers of a typical message, so one allocation does.
constexpr std::size_t head_room = 256;

void append(std::string& out, boost::beast::string_view text) {
    out.append(text.data(), text.size());
}

void append_version(std::string& out, unsigned version) {
    out += "HTTP/";
    out += static_cast<char>('0' + version / 10);
    out += '.';
    out += static_cast<char>('0' + version % 10);
}

void append_fields_and_body(std::string& out,
                            const bhttp::fields& fields,
                            const std::string& body) {
    for (const auto& field : fields) {
        append(out, field.name_string());
        out += ": ";
        append(out, field.value());
        out += "\r\n";
    }
    out += "\r\n";
    out += body;
}

}  // namespace

std::string to_wire(const Request& request) {
    std::string out;
    out.reserve(head_room + request.target().size() + request.body().size());
    append(out, request.method_string());
    out += ' ';
    append(out, request.target());
    out += ' ';
    append_version(out, request.version());
    out += "\r\n";
    append_fields_and_body(out, request, request.body());
    return out;
}

std::string to_wire(const Response& answer) {
    std::string out;
    out.reserve(head_room + answer.body().size());
    append_version(out, answer.version());

    char code[8] = {' '};
    const auto end = std::to_chars(code + 1, std::end(code), answer.result_int()).ptr;
    out.append(code, end);
    out += ' ';
    const auto reason = answer.reason();
    append(out, reason.empty() ? bhttp::obsolete_reason(answer.result()) : reason);
    out += "\r\n";
    append_fields_and_body(out, answer, answer.body());
    return out;
}

}  // namespace circuitlab::http
