#pragma once
// An HTTP request as seen by handlers and middleware.
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <asio/ip/tcp.hpp>

#include <herald/http/headers.hpp>
#include <herald/http/method.hpp>
#include <herald/task.hpp>

namespace herald {

namespace http {
struct RequestHead;
class Connection;
}  // namespace http

class WebSocket;
class SyncWebSocket;
struct WebSocketOptions;
class EventSource;
class SyncEventSource;
struct EventSourceOptions;

/// Decodes %XX escapes (and '+' as space when `plus_is_space`); nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space = false);

/// One request. Views returned by its accessors stay valid for the handler's whole run, including
/// across co_await: a request handled asynchronously owns a copy of its bytes.
class Request {
public:
    Request() = default;
    Request(const Request&) = delete;
    Request& operator=(const Request&) = delete;

    Method method() const noexcept { return method_; }
    /// The method token as sent (useful for extension methods).
    std::string_view method_name() const noexcept { return method_name_; }
    /// The request-target exactly as sent, e.g. "/rooms/7?x=1".
    std::string_view target() const noexcept { return target_; }
    /// The path part of the target, still percent-encoded, e.g. "/rooms/7".
    std::string_view path() const noexcept { return path_; }
    /// The query string after '?', without the '?' (empty when absent).
    std::string_view query_string() const noexcept { return query_; }
    /// The first query parameter named `name`, decoded (form encoding: '+' is a space).
    std::optional<std::string> query(std::string_view name) const;
    /// Every query parameter, decoded, in order; malformed pairs are skipped.
    std::vector<std::pair<std::string, std::string>> query_params() const;
    /// HTTP/1.<version_minor()>.
    int version_minor() const noexcept { return version_minor_; }
    /// The first header field named `name` (case-insensitive).
    std::optional<std::string_view> header(std::string_view name) const noexcept {
        return find_header(headers_, name);
    }
    /// All header fields in order of arrival.
    std::span<const Header> headers() const noexcept { return headers_; }
    /// The decoded body (chunked bodies are reassembled).
    std::string_view body() const noexcept { return body_; }
    /// The peer's address and port.
    const asio::ip::tcp::endpoint& remote_endpoint() const noexcept { return remote_; }
    /// A path parameter of the matched route ("id" for "/rooms/{id}", "*" for a trailing wildcard),
    /// percent-decoded; empty when the route has no such parameter.
    std::string_view param(std::string_view name) const noexcept;
    /// True when the matched route has a parameter named `name`.
    bool has_param(std::string_view name) const noexcept;
    /// Whether the connection stays open after this request.
    bool keep_alive() const noexcept { return keep_alive_; }

    /// Completes the WebSocket opening handshake and takes the connection over (Sisk's GetWebSocketAsync).
    /// Throws HttpError carrying the answer when the request is not a valid upgrade (400, 403, 426);
    /// the route answers with it. Only from coroutine handlers, at most once per request.
    Task<WebSocket> accept_websocket();
    Task<WebSocket> accept_websocket(const WebSocketOptions& options);
    /// The blocking form, for handlers on the worker pool (blocking routes): Sisk's GetWebSocket().
    SyncWebSocket accept_websocket_sync();
    SyncWebSocket accept_websocket_sync(const WebSocketOptions& options);
    /// Turns the response into an event stream (Sisk's GetEventSource): text/event-stream, kept open.
    /// With an id, the stream is listed in server.event_sources(). Coroutine handlers only, once.
    Task<EventSource> event_source();
    Task<EventSource> event_source(std::string_view id);
    Task<EventSource> event_source(const EventSourceOptions& options);
    /// The blocking forms, for handlers on the worker pool.
    SyncEventSource event_source_sync();
    SyncEventSource event_source_sync(std::string_view id);
    SyncEventSource event_source_sync(const EventSourceOptions& options);
    /// True when the request asks for a WebSocket upgrade (GET with Upgrade: websocket).
    bool is_websocket_upgrade() const noexcept;

    // ---- used by the server and router; not part of the user-facing API ----
    struct Param {
        std::string_view name;
        std::string_view value;
    };
    /// Fills the request from a parsed head and body (views, not copies).
    void assign(const http::RequestHead& head, std::string_view body, const asio::ip::tcp::endpoint& remote);
    /// Copies every viewed byte into storage owned by this request and re-points the views.
    void own();
    /// Makes this (fresh) request an owning copy of `other`.
    void copy_from(const Request& other);
    /// Sets the body view (the bytes must outlive the request or be owned by it).
    void set_body(std::string_view body) noexcept { body_ = body; }
    /// Takes ownership of a body collected across reads.
    void adopt_body(std::string body) {
        body_store_ = std::move(body);
        body_ = body_store_;
    }
    /// Route matching: clears and sets path parameters (values may be raw, they are decoded here).
    void clear_params() noexcept { params_.clear(); decoded_.clear(); }
    void add_param(std::string_view name, std::string_view raw_value);
    /// The connection the request arrived on, for upgrades (set for coroutine handlers).
    void set_connection(http::Connection* connection) noexcept { connection_ = connection; }
    http::Connection* connection() const noexcept { return connection_; }

private:
    Method method_ = Method::get;
    std::string_view method_name_, target_, path_, query_, body_;
    int version_minor_ = 1;
    bool keep_alive_ = true;
    std::vector<Header> headers_;
    std::vector<Param> params_;
    std::vector<std::unique_ptr<std::string>> decoded_;  // stable storage for decoded parameter values
    std::string owned_;                                   // backing bytes after own()
    bool is_owned_ = false;
    std::string body_store_;                              // a body collected across reads
    asio::ip::tcp::endpoint remote_;
    http::Connection* connection_ = nullptr;
};

}  // namespace herald
