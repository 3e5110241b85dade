#pragma once
// The client's side of the opening handshake (RFC 6455 §4.1) as pure functions: the request it sends
// and the checks of the server's answer. No I/O; fuzzed in fuzz/websocket_handshake_response_fuzz.cpp.
#include <string>
#include <string_view>
#include <vector>

#include <herald/client/connect_error.hpp>
#include <herald/http/headers.hpp>
#include <herald/http/response_parser.hpp>

namespace herald::websocket {

/// Thrown when the connection cannot be opened: the server is unreachable, the handshake times out, or
/// the server's answer is not a valid acceptance (then http_status() is its status code, or 101).
using ConnectError = herald::ConnectError;

/// The opening handshake request for `target` on `host` (the Host value) with Sec-WebSocket-Key `key`,
/// offering `subprotocols`, with `extra` header fields appended.
std::string make_handshake_request(std::string_view host, std::string_view target, std::string_view key,
                                   const std::vector<std::string>& subprotocols, const Headers& extra);

/// Checks a server's answer to our handshake (§4.1, the client's checks 1–6): status 101, Upgrade and
/// Connection, Sec-WebSocket-Accept for `key`, a subprotocol we offered (or none), no extension (we
/// offer none). Returns the negotiated subprotocol; throws ConnectError saying what is wrong.
std::string check_handshake_response(const http::ResponseHead& head, std::string_view key,
                                     const std::vector<std::string>& offered_subprotocols);

}  // namespace herald::websocket
