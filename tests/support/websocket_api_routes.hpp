#pragma once
// Routes of the test server that exercise the WebSocket session API.
#include <herald/herald.hpp>

namespace herald::testing {

/// Adds /ws/receive-timeout, /ws/cancel, /ws/cross-thread, /ws/identified, /registry/*, /ws/keepalive,
/// /ws/ping-policy, /ws/idle, /ws/events and /ws/dialog.
void add_websocket_api_routes(Server& server);

}  // namespace herald::testing
