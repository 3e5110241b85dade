#pragma once
// The HTTP side of an EventSource, as pure functions: the request it sends and what it does with each
// response head (WHATWG HTML §9.2.2 "establish the connection", and Fetch's redirect rules). No I/O.
#include <string>
#include <string_view>

#include <herald/client/url.hpp>
#include <herald/http/headers.hpp>
#include <herald/http/response_parser.hpp>

namespace herald::sse {

/// The GET request for `url`: Host, Accept: text/event-stream, Cache-Control: no-cache, Last-Event-ID
/// when `last_event_id` is not empty, then `extra` (whose Accept or Cache-Control replaces ours).
std::string make_client_request(const Url& url, const Headers& extra, std::string_view last_event_id);

/// Throws herald::error when a field name or value holds CR, LF or NUL (it would inject fields).
void check_request_headers(const Headers& headers);

/// Removes the fields that carry credentials (Authorization, Cookie, Proxy-Authorization), as Fetch does
/// when a redirect leaves the origin.
void drop_credentials(Headers& headers);

/// What to do with a response head.
enum class Verdict {
    open,        ///< 200 text/event-stream: read the body as events
    redirect,    ///< 301/302/303/307/308 with a Location: follow it (`location` holds it)
    no_content,  ///< 204: stop for good, without an error
    fail,        ///< stop for good: `why` says what was wrong
};

struct ResponseCheck {
    Verdict verdict = Verdict::fail;
    std::string location{};  ///< the Location value, for redirect
    std::string why{};       ///< for fail (and no_content), a sentence for people
};

/// Classifies a response head the way an EventSource does.
ResponseCheck check_response(const http::ResponseHead& head);

/// True when a Content-Type value's media type is text/event-stream (any case; parameters allowed).
bool is_event_stream(std::string_view content_type) noexcept;

}  // namespace herald::sse
