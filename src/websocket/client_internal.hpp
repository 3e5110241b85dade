#pragma once
// Library-internal form of connect() used by the reconnecting client.
#include <functional>
#include <string_view>

#include <herald/websocket/client.hpp>

namespace herald::websocket {

/// connect(), calling `before_start` with the open connection on its loop before any message is read,
/// so callbacks set there see every message.
Task<WebSocket> connect_then(std::string_view url, const ConnectOptions& options,
                             std::function<void(WebSocket)> before_start);

}  // namespace herald::websocket
