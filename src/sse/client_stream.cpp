// An EventSource's connection life (WHATWG HTML §9.2.2–9.2.3): establish the connection, read the
// stream, and on a disconnect wait the reconnection time and establish it again with Last-Event-ID.
#include "sse/client_stream.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>

#include <herald/error.hpp>

#include "client/exchange.hpp"
#include "sse/client_protocol.hpp"

namespace herald::sse {
namespace {

constexpr auto kAwait = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::size_t kReadSize = 16 * 1024;

// How reading one stream ended.
struct StreamEnd {
    enum Kind { ended, lost, too_big, stopped } kind = stopped;
    std::string why{};
};

// Feeds body bytes to the parser. Returns false when the stream must end here (its body is complete,
// malformed, or an event went over the limit); `end` then says how.
bool consume(ClientState& st, std::string_view bytes, StreamEnd& end) {
    const auto decoded = st.body->decode(bytes);
    const bool within_limit = st.parser.feed(decoded.payload, [&st](const ParsedEvent& e) { st.deliver(e); });
    if (!within_limit) {
        end = {StreamEnd::too_big, "an event or line went over max_event_bytes (" +
                                       std::to_string(st.options.max_event_bytes) + " bytes)"};
        return false;
    }
    if (decoded.status == http::ParseStatus::error) {
        end = {StreamEnd::lost, "malformed chunked body: " + std::string(st.body->error())};
        return false;
    }
    if (decoded.status == http::ParseStatus::complete) {
        end = {StreamEnd::ended, "the server ended the stream"};
        return false;
    }
    return true;
}

// Parks the calling coroutine on a timer stored in `slot` until it expires or someone wakes it.
Task<void> park(std::shared_ptr<ClientState> st, asio::steady_timer* ClientState::*slot,
                std::chrono::milliseconds delay) {
    asio::steady_timer timer(st->io, delay);
    (*st).*slot = &timer;
    co_await timer.async_wait(kAwait);
    (*st).*slot = nullptr;
}

Task<StreamEnd> read_stream(std::shared_ptr<ClientState> st) {
    StreamEnd end;
    st->parser.reset_stream();
    if (!st->body_start.empty() && !consume(*st, st->body_start, end)) co_return end;
    st->body_start.clear();
    std::string buffer(kReadSize, '\0');
    // One idle watchdog for the stream, touched by every read (not one timer per read).
    std::optional<client::Watchdog> idle;
    if (st->options.idle_timeout.count() > 0) {
        ClientState* raw = st.get();  // the watchdog never outlives this frame, which holds st
        idle.emplace(st->io.get_executor(), st->options.idle_timeout, [raw] {
            std::error_code ignored;
            if (raw->socket) raw->socket->cancel(ignored);
        });
    }
    for (;;) {
        if (st->stopping()) co_return StreamEnd{};
        // Backpressure: with next() behind, stop reading until it takes events (woken by next()).
        while (st->queue_full() && !st->stopping())
            co_await park(st, &ClientState::reader_pause, std::chrono::hours(24));
        if (st->stopping()) co_return StreamEnd{};
        if (idle) idle->touch();  // the pause above was ours, not the server's silence
        auto [ec, n] = co_await st->socket->async_read_some(asio::buffer(buffer), kAwait);
        if (st->stopping()) co_return StreamEnd{};
        if (idle && idle->expired())
            co_return StreamEnd{StreamEnd::lost,
                                "no data for " + std::to_string(st->options.idle_timeout.count()) + " ms"};
        if (ec == asio::error::eof) {
            if (st->body->end_of_input()) co_return StreamEnd{StreamEnd::ended, "the server ended the stream"};
            co_return StreamEnd{StreamEnd::lost, "the server closed the connection inside the response body"};
        }
        if (ec) co_return StreamEnd{StreamEnd::lost, "the connection broke: " + ec.message()};
        if (idle) idle->touch();
        if (!consume(*st, std::string_view(buffer.data(), n), end)) co_return end;
    }
}

std::string failure(const Url& url, const std::string& why) {
    return "event stream " + url.to_string() + ": " + why;
}

}  // namespace

Task<Attempt> open_stream(std::shared_ptr<ClientState> st) {
    Url url = st->url;
    Headers headers = st->options.headers;
    for (std::size_t redirects = 0;; ++redirects) {
        if (url.scheme != "http" && url.scheme != "https")
            co_return Attempt{Attempt::fail, failure(url, "an event stream URL starts with http:// or https://")};
        if (url.secure()) co_return Attempt{Attempt::fail, failure(url, "https needs TLS, not in this build yet")};
        auto request = std::make_shared<const std::string>(make_client_request(url, headers, st->parser.last_event_id()));
        http::ResponseParser parser;
        std::string received;
        std::string error;
        try {
            auto socket = co_await client::open_tcp(std::make_shared<const Url>(url), st->options.connect_timeout);
            // close() cannot reach a socket open_tcp is still connecting: it is noticed here, within
            // connect_timeout; from here on it closes st->socket, which ends the exchange at once.
            if (st->stopping()) co_return Attempt{};
            st->socket.emplace(std::move(socket));
            received = co_await client::exchange_head(*st->socket, request, parser, st->options.response_timeout);
        } catch (const herald::error& e) {
            error = e.what();
        }
        if (st->stopping()) co_return Attempt{};
        if (!error.empty()) {
            st->socket.reset();
            co_return Attempt{Attempt::retry, failure(url, error)};
        }
        const ResponseCheck check = check_response(parser.head());
        const int status = parser.head().status;
        if (check.verdict == Verdict::open) {
            st->stream_url = url;
            st->body.emplace(parser.head());
            st->body_start = received.substr(parser.head_size());
            co_return Attempt{Attempt::opened, {}, status};
        }
        st->socket.reset();  // a redirect's body, or a refusal's, is not read
        if (check.verdict == Verdict::no_content) co_return Attempt{Attempt::no_content, failure(url, check.why), status};
        if (check.verdict == Verdict::fail) co_return Attempt{Attempt::fail, failure(url, check.why), status};
        if (redirects == st->options.max_redirects)
            co_return Attempt{Attempt::fail,
                              failure(st->url, "more than " + std::to_string(st->options.max_redirects) + " redirects"),
                              status};
        Url next;
        try {
            next = url.resolve(check.location);
        } catch (const herald::error& e) {
            error = e.what();
        }
        if (!error.empty())
            co_return Attempt{Attempt::fail, failure(url, "cannot follow Location '" + check.location + "': " + error), status};
        // Fetch's rule: credentials set for one origin do not travel to another.
        if (!next.same_origin(url)) drop_credentials(headers);
        url = std::move(next);
    }
}

Task<void> run_client(std::shared_ptr<ClientState> st) {
    for (;;) {
        const StreamEnd end = co_await read_stream(st);
        st->body.reset();
        st->socket.reset();
        st->parser.end_of_stream();
        if (st->stopping()) co_return;
        if (end.kind == StreamEnd::too_big) {
            st->finish(EndReason::failed, failure(st->stream_url, end.why));
            co_return;
        }
        if (!st->options.reconnect) {
            st->finish(end.kind == StreamEnd::ended ? EndReason::ended : EndReason::lost, failure(st->stream_url, end.why));
            co_return;
        }
        st->interrupted(failure(st->stream_url, end.why));
        for (;;) {
            if (st->stopping()) co_return;
            co_await park(st, &ClientState::sleeper, st->retry_delay());
            if (st->stopping()) co_return;
            const Attempt attempt = co_await open_stream(st);
            if (st->stopping()) co_return;
            if (attempt.kind == Attempt::opened) {
                st->opened();
                break;
            }
            if (attempt.kind == Attempt::retry) {
                st->interrupted(attempt.why);
                continue;
            }
            st->finish(attempt.kind == Attempt::no_content ? EndReason::no_content : EndReason::failed, attempt.why);
            co_return;
        }
    }
}

}  // namespace herald::sse
