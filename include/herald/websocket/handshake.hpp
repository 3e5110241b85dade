#pragma once
// Pieces of the WebSocket opening handshake (RFC 6455 §4) that are pure computations: the
// Sec-WebSocket-Accept value, client key checks and generation, and token lists such as
// Sec-WebSocket-Protocol. The HTTP exchange itself belongs to the server and client sessions.
#include <string>
#include <string_view>
#include <vector>

namespace herald::websocket {

/// The GUID appended to the client's key before hashing (§1.3).
inline constexpr std::string_view handshake_guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + GUID)), always 28 characters.
std::string accept_key(std::string_view sec_websocket_key);

/// True when `key` is a valid Sec-WebSocket-Key: 24 characters of base64 (22 data characters and "==")
/// that decode to exactly 16 bytes. Like common peers, it does not insist that the unused low bits of
/// the last data character are zero.
bool is_valid_client_key(std::string_view key) noexcept;

/// A fresh Sec-WebSocket-Key: 16 bytes from OpenSSL's CSPRNG, base64-encoded. Throws herald::error
/// if the generator fails.
std::string make_client_key();

/// The elements of a comma-separated header list (e.g. Sec-WebSocket-Protocol: "chat, superchat"),
/// with surrounding spaces and tabs trimmed and empty elements skipped (RFC 9110 §5.6.1). Views point
/// into `list`. Elements are not checked against the token grammar: compare them with known values.
std::vector<std::string_view> parse_token_list(std::string_view list);

}  // namespace herald::websocket
