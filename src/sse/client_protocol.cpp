#include "sse/client_protocol.hpp"

#include <herald/error.hpp>

namespace herald::sse {
namespace {

bool has_control(std::string_view s) noexcept {
    return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

bool is_redirect(int status) noexcept {
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

std::string status_text(const http::ResponseHead& head) {
    return std::to_string(head.status) + (head.reason.empty() ? "" : " " + head.reason);
}

}  // namespace

std::string make_client_request(const Url& url, const Headers& extra, std::string_view last_event_id) {
    std::string out;
    out.reserve(256);
    out.append("GET ").append(url.target).append(" HTTP/1.1\r\nHost: ").append(url.authority()).append("\r\n");
    if (!extra.contains("Accept")) out.append("Accept: text/event-stream\r\n");
    if (!extra.contains("Cache-Control")) out.append("Cache-Control: no-cache\r\n");
    if (!last_event_id.empty()) out.append("Last-Event-ID: ").append(last_event_id).append("\r\n");
    for (const auto& [name, value] : extra) {
        // Host and Last-Event-ID are the client's to set: the URL and the stream decide them.
        if (iequals(name, "Host") || iequals(name, "Last-Event-ID")) continue;
        out.append(name).append(": ").append(value).append("\r\n");
    }
    out.append("\r\n");
    return out;
}

void check_request_headers(const Headers& headers) {
    for (const auto& [name, value] : headers)
        if (name.empty() || has_control(name) || has_control(value) || name.find(':') != std::string::npos)
            throw herald::error("invalid request header '" + name + "': names and values may not hold CR, LF or NUL");
}

void drop_credentials(Headers& headers) {
    headers.remove("Authorization");
    headers.remove("Cookie");
    headers.remove("Proxy-Authorization");
}

bool is_event_stream(std::string_view content_type) noexcept {
    const auto semicolon = content_type.find(';');
    return iequals(trim_ows(content_type.substr(0, semicolon)), "text/event-stream");
}

ResponseCheck check_response(const http::ResponseHead& head) {
    if (is_redirect(head.status)) {
        auto location = head.headers.get("Location");
        if (!location || trim_ows(*location).empty())
            return {Verdict::fail, {}, "the server answered " + status_text(head) + " without a Location"};
        return {Verdict::redirect, std::string(trim_ows(*location)), {}};
    }
    if (head.status == 204)
        return {Verdict::no_content, {}, "the server answered 204 No Content: it asks clients not to reconnect"};
    if (head.status != 200)
        return {Verdict::fail, {}, "the server answered " + status_text(head) + " instead of 200 OK"};
    auto type = head.headers.get("Content-Type");
    if (!type || !is_event_stream(*type))
        return {Verdict::fail, {},
                "the server answered with Content-Type '" + std::string(type.value_or("")) +
                    "' instead of text/event-stream"};
    return {Verdict::open, {}, {}};
}

}  // namespace herald::sse
