// The WebSocket opening handshake (RFC 6455 §4.2) on top of an HTTP request, and WebSocket routes.
#include <algorithm>
#include <future>
#include <memory>

#include <asio/co_spawn.hpp>
#include <asio/use_future.hpp>

#include <herald/http/http_error.hpp>
#include <herald/http/request.hpp>
#include <herald/http/router.hpp>
#include <herald/websocket/handshake.hpp>
#include <herald/websocket/websocket.hpp>

#include "http/connection.hpp"
#include "net/on_loop.hpp"
#include "server_impl.hpp"
#include "websocket/session.hpp"

namespace herald {
namespace {

[[noreturn]] void refuse(int status, std::string_view reason, std::initializer_list<Header> extra = {}) {
    Response r = Response::error(status, reason);
    for (const auto& h : extra) r.header(h.name, h.value);
    throw HttpError(std::move(r), std::string("WebSocket handshake refused: ") + std::string(reason));
}

// The first of the server's subprotocols (in its order of preference) that the client offered.
std::string choose_subprotocol(const Request& req, const std::vector<std::string>& supported) {
    for (const auto& mine : supported)
        for (const auto& h : req.headers())
            if (iequals(h.name, "Sec-WebSocket-Protocol"))
                for (auto offered : websocket::parse_token_list(h.value))
                    if (offered == mine) return mine;
    return {};
}

}  // namespace

bool Request::is_websocket_upgrade() const noexcept {
    auto upgrade = header("Upgrade");
    return method_ == Method::get && upgrade && has_token(*upgrade, "websocket");
}

Task<WebSocket> Request::accept_websocket() {
    if (!connection_) throw error("accept_websocket(): the request is not on a live connection");
    co_return co_await accept_websocket(connection_->loop().server().options.websocket);
}

Task<WebSocket> Request::accept_websocket(const WebSocketOptions& given) {
    WebSocketOptions options = given;  // the caller's object may not outlive the first suspension
    if (!connection_)
        throw error("accept_websocket(): the request is not on a live connection (use a coroutine handler, once)");
    if (method_ != Method::get) refuse(400, "a WebSocket upgrade must be a GET request");
    if (version_minor_ < 1) refuse(400, "a WebSocket upgrade needs HTTP/1.1");
    auto upgrade = header("Upgrade");
    if (!upgrade || !has_token(*upgrade, "websocket"))
        refuse(426, "this resource is a WebSocket endpoint", {{"Upgrade", "websocket"}, {"Connection", "Upgrade"}});
    auto connection = header("Connection");
    if (!connection || !has_token(*connection, "upgrade")) refuse(400, "Connection must include \"upgrade\"");
    auto version = header("Sec-WebSocket-Version");
    if (!version || *version != "13")
        refuse(426, "unsupported WebSocket version (13 is supported)", {{"Sec-WebSocket-Version", "13"}});
    auto key = header("Sec-WebSocket-Key");
    if (!key || !websocket::is_valid_client_key(*key)) refuse(400, "Sec-WebSocket-Key must be 16 bytes in base64");
    if (!options.allowed_origins.empty()) {
        auto origin = header("Origin");
        const bool allowed = origin && std::any_of(options.allowed_origins.begin(), options.allowed_origins.end(),
                                                   [&](const std::string& o) { return iequals(o, *origin); });
        if (!allowed) refuse(403, "origin not allowed");
    }

    std::string subprotocol = choose_subprotocol(*this, options.subprotocols);
    Response accepted(101);
    accepted.headers().add("Upgrade", "websocket");
    accepted.headers().add("Connection", "Upgrade");
    accepted.headers().add("Sec-WebSocket-Accept", websocket::accept_key(*key));
    if (!subprotocol.empty()) accepted.headers().add("Sec-WebSocket-Protocol", subprotocol);
    for (const auto& [name, value] : options.headers) accepted.headers().add(name, value);

    http::Connection* conn = connection_;
    auto& registry = conn->loop().server().websockets;
    if (!options.id.empty() && options.duplicate_id == DuplicateIdPolicy::reject_new && registry.get(options.id))
        refuse(409, "a connection with this id is already open");

    connection_ = nullptr;  // one upgrade per request
    Headers request_headers;
    for (const auto& h : headers_) request_headers.add(h.name, h.value);
    auto detached = conn->upgrade(*this, std::move(accepted));
    auto session = std::make_shared<websocket::Session>(conn->loop(), std::move(detached.socket), std::move(options),
                                                        std::move(subprotocol), std::move(request_headers),
                                                        websocket::Role::server, &registry);
    WebSocket socket(session);
    if (!session->id().empty()) {
        std::optional<WebSocket> replaced;
        const bool replace = session->options().duplicate_id == DuplicateIdPolicy::replace_old;
        if (!registry.add(session->id(), socket, replace, replaced)) {
            // Lost a race with another connection taking the id since the check above.
            session->start({}, std::move(detached.output));
            session->drop(CloseCode::policy_violation, "id already in use");
            co_return socket;
        }
        if (replaced) replaced->drop(CloseCode::normal, "replaced by a new connection");
    }
    session->start(std::move(detached.input), std::move(detached.output));
    co_return socket;
}

namespace {

Task<void> close_task(WebSocket ws, CloseCode code, std::string reason) { co_await ws.close(code, reason); }

}  // namespace

SyncWebSocket Request::accept_websocket_sync() {
    if (!connection_) throw error("accept_websocket_sync(): the request is not on a live connection");
    return accept_websocket_sync(connection_->loop().server().options.websocket);
}

SyncWebSocket Request::accept_websocket_sync(const WebSocketOptions& options) {
    if (!connection_) throw error("accept_websocket_sync(): the request is not on a live connection");
    return SyncWebSocket(net::wait_on_loop(connection_->loop(), accept_websocket(options)));
}

bool SyncWebSocket::send(std::string_view text) {
    if (!ws_) return false;
    return !net::wait_on_loop(ws_.session_loop(), ws_.send(text));
}

bool SyncWebSocket::send(std::span<const std::byte> bytes) {
    if (!ws_) return false;
    return !net::wait_on_loop(ws_.session_loop(), ws_.send(bytes));
}

std::optional<Message> SyncWebSocket::wait_next() { return wait_next(std::chrono::seconds(60)); }

std::optional<Message> SyncWebSocket::wait_next(std::chrono::milliseconds timeout) {
    if (!ws_) return std::nullopt;
    return net::wait_on_loop(ws_.session_loop(), ws_.receive(timeout));
}

void SyncWebSocket::wait_for_close() {
    if (ws_) net::wait_on_loop(ws_.session_loop(), ws_.wait_for_close());
}

void SyncWebSocket::wait_for_close(std::chrono::milliseconds idle) {
    if (ws_) net::wait_on_loop(ws_.session_loop(), ws_.wait_for_close(idle));
}

Response SyncWebSocket::close(CloseCode code, std::string_view reason) {
    if (ws_) net::wait_on_loop(ws_.session_loop(), close_task(ws_, code, std::string(reason)));
    return Response(101);  // never sent: the connection was upgraded
}

namespace {

Task<Response> run_ws_route(const WebSocketHandler& handler, const std::optional<WebSocketOptions>& options, Request& req) {
    // Plain statements around each co_await: GCC 12 mishandles co_await inside ?: and temporaries
    // of class type created in a co_await expression (it destroys them twice).
    WebSocket socket;
    if (options)
        socket = co_await req.accept_websocket(*options);
    else
        socket = co_await req.accept_websocket();
    Task<void> conversation = handler(req, socket);
    co_await std::move(conversation);
    // A coroutine handler owns the connection: when it returns, the conversation is over.
    if (handler.owns_connection() && socket.is_open()) co_await socket.close();
    co_return Response(101);  // never sent: the connection belongs to the WebSocket now
}

Handler ws_route(WebSocketHandler handler, std::optional<WebSocketOptions> options) {
    auto shared = std::make_shared<const std::pair<WebSocketHandler, std::optional<WebSocketOptions>>>(
        std::move(handler), std::move(options));
    return [shared](Request& req) -> Task<Response> { return run_ws_route(shared->first, shared->second, req); };
}

}  // namespace

RouteGroup& RouteGroup::ws(std::string_view path, WebSocketHandler handler) {
    return get(path, ws_route(std::move(handler), std::nullopt));
}

RouteGroup& RouteGroup::ws(std::string_view path, WebSocketHandler handler, WebSocketOptions options) {
    return get(path, ws_route(std::move(handler), std::move(options)));
}

Router& Router::ws(std::string_view path, WebSocketHandler handler) {
    root_->ws(path, std::move(handler));
    return *this;
}

Router& Router::ws(std::string_view path, WebSocketHandler handler, WebSocketOptions options) {
    root_->ws(path, std::move(handler), std::move(options));
    return *this;
}

}  // namespace herald
