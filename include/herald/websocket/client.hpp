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
#include <herald/websocket/client_handshake.hpp>
#include <herald/websocket/websocket.hpp>

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

/// Opens a WebSocket connection to `url` (ws://host[:port]/path?query; IPv6 as [addr]) on the calling
/// coroutine's io_context. Throws ConnectError (or herald::error for a malformed URL, or wss:// before
/// TLS support). With GCC 12, declare the options before the co_await (a braced temporary inside a
/// co_await expression is destroyed twice by that compiler).
Task<WebSocket> connect(std::string_view url, const ConnectOptions& options);
/// connect() with default options.
Task<WebSocket> connect(std::string_view url);

/// Vapor's style: connects on `executor` (an io_context's) and calls `on_connected` with the open
/// connection on its loop, before any message is delivered, so callbacks set there see every message.
/// On failure `on_error` gets the exception (without it, the failure is logged).
void connect(std::string_view url, const asio::any_io_executor& executor, std::function<void(WebSocket)> on_connected,
             std::function<void(std::exception_ptr)> on_error = {}, ConnectOptions options = {});

}  // namespace herald::websocket
