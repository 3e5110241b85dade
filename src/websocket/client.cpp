// The WebSocket client: TCP and the HTTP exchange come from client/exchange, frames and the message
// API from the same Session the server uses, in the client role.
#include <herald/websocket/client.hpp>

#include <asio/co_spawn.hpp>

#include <herald/client/url.hpp>
#include <herald/http/response_parser.hpp>
#include <herald/websocket/handshake.hpp>

#include "client/exchange.hpp"
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
    auto request = std::make_shared<const std::string>(make_handshake_request(url.authority(), url.target, key, req->options));
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

std::string make_handshake_request(std::string_view host, std::string_view target, std::string_view key,
                                   const ConnectOptions& options) {
    std::string out;
    out.reserve(256);
    out.append("GET ").append(target).append(" HTTP/1.1\r\nHost: ").append(host);
    out.append("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ").append(key);
    out.append("\r\nSec-WebSocket-Version: 13\r\n");
    if (!options.subprotocols.empty()) {
        out.append("Sec-WebSocket-Protocol: ");
        for (std::size_t i = 0; i < options.subprotocols.size(); ++i)
            out.append(i ? ", " : "").append(options.subprotocols[i]);
        out.append("\r\n");
    }
    for (const auto& [name, value] : options.headers) out.append(name).append(": ").append(value).append("\r\n");
    out.append("\r\n");
    return out;
}

std::string check_handshake_response(const http::ResponseHead& head, std::string_view key,
                                     const std::vector<std::string>& offered_subprotocols) {
    const auto& h = head.headers;
    if (head.status != 101)
        throw ConnectError("the server answered " + std::to_string(head.status) + (head.reason.empty() ? "" : " ") +
                               head.reason + " instead of 101 Switching Protocols",
                           head.status);
    auto fail = [&](const std::string& why) { return ConnectError("invalid handshake response: " + why, 101); };
    if (!iequals(h.get("Upgrade").value_or(""), "websocket")) throw fail("Upgrade is not 'websocket'");
    if (!has_token(h.get("Connection").value_or(""), "upgrade")) throw fail("Connection has no 'Upgrade' token");
    if (h.get("Sec-WebSocket-Accept").value_or("") != accept_key(key))
        throw fail("Sec-WebSocket-Accept does not match our Sec-WebSocket-Key");
    if (auto ext = h.get("Sec-WebSocket-Extensions"); ext && !ext->empty())
        throw fail("the server selected extension '" + std::string(*ext) + "', which we did not offer");
    auto protocol = h.get("Sec-WebSocket-Protocol");
    if (!protocol) return {};
    for (const auto& offered : offered_subprotocols)
        if (offered == *protocol) return offered;
    throw fail("the server selected subprotocol '" + std::string(*protocol) + "', which we did not offer");
}

Task<WebSocket> connect(std::string_view url, ConnectOptions options) {
    auto req = std::make_shared<ConnectRequest>(ConnectRequest{Url::parse(url), std::move(options), {}});
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
