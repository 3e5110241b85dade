// The WebSocket client: TCP and the HTTP exchange come from client/exchange, frames and the message
// API from the same Session the server uses, in the client role.
#include <herald/websocket/client.hpp>

#include <asio/co_spawn.hpp>

#include <herald/client/url.hpp>
#include <herald/http/response_parser.hpp>
#include <herald/websocket/handshake.hpp>

#include "client/exchange.hpp"
#include "websocket/client_internal.hpp"
#include "net/reactor.hpp"
#include "websocket/session.hpp"

namespace herald::websocket {
namespace {

struct ConnectRequest {
    Url url;
    ConnectOptions options;
    std::function<void(WebSocket)> before_start;  // Vapor's on_connected: callbacks set before any message
};

Task<WebSocket> open_session(std::shared_ptr<ConnectRequest> req) {
    const Url& url = req->url;
    if (url.scheme != "ws" && url.scheme != "wss")
        throw herald::error("a WebSocket URL starts with ws:// or wss://, not " + url.scheme + "://");
    if (url.secure()) throw herald::error("wss:// needs TLS, which this build of Herald does not support yet");
    auto executor = co_await asio::this_coro::executor;
    asio::io_context& io = client::io_context_of(executor);

    const std::string key = make_client_key();
    auto request = std::make_shared<const std::string>(
        make_handshake_request(url.authority(), url.target, key, req->options.subprotocols, req->options.headers));
    http::ResponseParser parser;
    std::optional<asio::ip::tcp::socket> socket;
    std::string received;
    std::string failure;
    try {
        socket.emplace(co_await client::open_tcp(std::make_shared<const Url>(url), req->options.connect_timeout));
        received = co_await client::exchange_head(*socket, request, parser, req->options.handshake_timeout);
    } catch (const herald::error& e) {
        failure = e.what();
    }
    if (!failure.empty()) throw ConnectError("WebSocket connection to " + url.to_string() + " failed: " + failure);
    std::string subprotocol;
    try {
        subprotocol = check_handshake_response(parser.head(), key, req->options.subprotocols);
    } catch (const ConnectError& e) {
        throw ConnectError("WebSocket connection to " + url.to_string() + " failed: " + e.what(), e.http_status());
    }

    WebSocketOptions options = req->options.websocket;
    options.id.clear();  // clients are not in a server's registry
    auto session = std::make_shared<Session>(net::client_reactor(io), std::move(*socket), std::move(options),
                                             std::move(subprotocol), std::move(parser.head().headers), Role::client);
    WebSocket ws(session);
    if (req->before_start) req->before_start(ws);
    // Frames the server sent right behind its 101 are parsed as if just read.
    session->start(received.substr(parser.head_size()), {});
    co_return ws;
}

}  // namespace

Task<WebSocket> connect(std::string_view url, const ConnectOptions& options) {
    auto req = std::make_shared<ConnectRequest>(ConnectRequest{Url::parse(url), options, {}});
    return open_session(std::move(req));
}

Task<WebSocket> connect_then(std::string_view url, const ConnectOptions& options,
                             std::function<void(WebSocket)> before_start) {
    auto req = std::make_shared<ConnectRequest>(ConnectRequest{Url::parse(url), options, std::move(before_start)});
    return open_session(std::move(req));
}

Task<WebSocket> connect(std::string_view url) {
    auto req = std::make_shared<ConnectRequest>();
    req->url = Url::parse(url);
    return open_session(std::move(req));
}

void connect(std::string_view url, const asio::any_io_executor& executor, std::function<void(WebSocket)> on_connected,
             std::function<void(std::exception_ptr)> on_error, ConnectOptions options) {
    auto req = std::make_shared<ConnectRequest>(ConnectRequest{Url::parse(url), std::move(options), std::move(on_connected)});
    asio::co_spawn(executor, open_session(std::move(req)),
                   [on_error = std::move(on_error)](std::exception_ptr e, const WebSocket&) {
                       if (e) client::report_failure(e, on_error);
                   });
}

}  // namespace herald::websocket
