// The WebSocket opening handshake (RFC 6455 §4.2) on top of an HTTP request, and WebSocket routes.
#include <algorithm>
#include <memory>

#include <herald/http/http_error.hpp>
#include <herald/http/request.hpp>
#include <herald/http/router.hpp>
#include <herald/websocket/handshake.hpp>
#include <herald/websocket/websocket.hpp>

#include "http/connection.hpp"
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

Task<WebSocket> Request::accept_websocket() { co_return co_await accept_websocket(WebSocketOptions{}); }

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
    connection_ = nullptr;  // one upgrade per request
    auto detached = conn->upgrade(*this, std::move(accepted));
    auto session = std::make_shared<websocket::Session>(conn->loop(), std::move(detached.socket), std::move(options),
                                                        std::move(subprotocol));
    session->start(std::move(detached.input), std::move(detached.output));
    co_return WebSocket(std::move(session));
}

RouteGroup& RouteGroup::ws(std::string_view path, WebSocketHandler handler, WebSocketOptions options) {
    auto shared = std::make_shared<const WebSocketOptions>(std::move(options));
    return get(path, [handler = std::move(handler), shared](Request& req) -> Task<Response> {
        WebSocket socket = co_await req.accept_websocket(*shared);
        co_await handler(req, socket);
        co_return Response(101);  // never sent: the connection belongs to the WebSocket now
    });
}

Router& Router::ws(std::string_view path, WebSocketHandler handler, WebSocketOptions options) {
    root_->ws(path, std::move(handler), std::move(options));
    return *this;
}

}  // namespace herald
