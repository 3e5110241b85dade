#pragma once
// The WebSocket client (RFC 6455 §4.1): connects, performs the opening handshake, and hands back the
// same WebSocket handle the server's routes get — receive(), callbacks, send(), close(), ping policy.
//
//   asio::io_context io;
//   asio::co_spawn(io, []() -> herald::Task<void> {
//       auto ws = co_await herald::websocket::connect("ws://127.0.0.1:8080/echo");
//       co_await ws.send("hello");
//       if (auto reply = co_await ws.receive()) std::cout << reply->text() << "\n";
//       co_await ws.close();
//   }, asio::detached);
//   io.run();
#include <chrono>
#include <exception>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <asio/any_io_executor.hpp>

#include <herald/client/connect_error.hpp>
#include <herald/error.hpp>
#include <herald/http/headers.hpp>
#include <herald/task.hpp>
#include <herald/websocket/websocket.hpp>

namespace herald::http {
struct ResponseHead;
}

namespace herald::websocket {

/// Settings of one client connection.
struct ConnectOptions {
    std::vector<std::string> subprotocols{};  ///< offered in Sec-WebSocket-Protocol, in order of preference
    Headers headers{};                        ///< extra request fields (Origin, Authorization, Cookie, ...)
    std::chrono::milliseconds connect_timeout{10'000};    ///< name resolution and TCP connect
    std::chrono::milliseconds handshake_timeout{10'000};  ///< request sent to 101 received
    /// The connection's settings once open, as on the server: message limit, frame size, receive and
    /// close timeouts, backlog policy, Sisk ping policy, Ping-frame keep-alive. Server-only fields
    /// (allowed_origins, id, headers, subprotocols) are ignored.
    WebSocketOptions websocket{};
};

/// Thrown when the connection cannot be opened: the server is unreachable, the handshake times out, or
/// the server's answer is not a valid acceptance (then http_status() is its status code, or 101).
using ConnectError = herald::ConnectError;

/// Opens a WebSocket connection to `url` (ws://host[:port]/path?query; IPv6 as [addr]) on the calling
/// coroutine's io_context. Throws ConnectError (or herald::error for a malformed URL, or wss:// before
/// TLS support).
Task<WebSocket> connect(std::string_view url, ConnectOptions options = {});

/// Vapor's style: connects on `executor` (an io_context's) and calls `on_connected` with the open
/// connection on its loop, before any message is delivered, so callbacks set there see every message.
/// On failure `on_error` gets the exception (without it, the failure is logged).
void connect(std::string_view url, const asio::any_io_executor& executor, std::function<void(WebSocket)> on_connected,
             std::function<void(std::exception_ptr)> on_error = {}, ConnectOptions options = {});

/// The opening handshake request for `url` with Sec-WebSocket-Key `key` (pure; used by connect()).
std::string make_handshake_request(std::string_view host, std::string_view target, std::string_view key,
                                   const ConnectOptions& options);

/// Checks a server's answer to our handshake (§4.1, points 1–6 of the client's checks): status 101,
/// Upgrade and Connection, Sec-WebSocket-Accept for `key`, a subprotocol we offered (or none), no
/// extension (we offer none). Returns the negotiated subprotocol; throws ConnectError saying what is wrong.
std::string check_handshake_response(const http::ResponseHead& head, std::string_view key,
                                     const std::vector<std::string>& offered_subprotocols);

}  // namespace herald::websocket
