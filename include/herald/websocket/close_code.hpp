#pragma once
// WebSocket close codes (RFC 6455 §7.4, IANA registry) and the Close frame payload (§5.5.1).
// Pure functions over bytes: no I/O.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace herald::websocket {

/// Registered close status codes. Any other value (e.g. an application code 3000–4999) may be held too.
enum class CloseCode : std::uint16_t {
    normal = 1000,               ///< the purpose of the connection was fulfilled
    going_away = 1001,           ///< server shutting down or browser leaving the page
    protocol_error = 1002,       ///< the peer broke RFC 6455
    unsupported_data = 1003,     ///< a message type the endpoint cannot accept
    no_status = 1005,            ///< reserved: a Close frame without a code (never sent on the wire)
    abnormal = 1006,             ///< reserved: the connection dropped without a Close frame (never sent)
    invalid_payload = 1007,      ///< a text message or close reason that is not valid UTF-8
    policy_violation = 1008,     ///< a generic policy violation
    message_too_big = 1009,      ///< a message over the configured limit
    mandatory_extension = 1010,  ///< the client needed an extension the server did not negotiate
    internal_error = 1011,       ///< the server hit an unexpected condition
    service_restart = 1012,      ///< the server is restarting
    try_again_later = 1013,      ///< temporary overload
    bad_gateway = 1014,          ///< a gateway received an invalid upstream response
    tls_handshake = 1015,        ///< reserved: TLS handshake failure (never sent)
};

/// The numeric value of a close code.
constexpr std::uint16_t to_underlying(CloseCode code) noexcept { return static_cast<std::uint16_t>(code); }

/// True when `code` may appear in a Close frame: 1000–1003, 1007–1014 and 3000–4999. The reserved codes
/// 1004–1006 and 1015, unassigned 1016–2999, and everything below 1000 or from 5000 on are invalid.
bool is_valid_wire_close_code(std::uint16_t code) noexcept;

/// The enumerator name ("going_away") of a registered code, or "" for any other value.
std::string_view to_string(CloseCode code) noexcept;

/// A protocol violation by the peer: the close code to answer with and a static, human-readable reason.
struct ProtocolError {
    CloseCode code = CloseCode::protocol_error;
    std::string_view reason;  ///< static text for logs, e.g. "reserved opcode"
    bool operator==(const ProtocolError&) const = default;
};

/// The status carried by a received Close frame. `reason` points into the frame's payload.
struct CloseStatus {
    CloseCode code = CloseCode::no_status;  ///< no_status when the payload was empty
    std::string_view reason;                ///< valid UTF-8, at most 123 bytes
    bool operator==(const CloseStatus&) const = default;
};

/// What parse_close_payload() found: a status, or the error to close the connection with.
struct CloseParseResult {
    CloseStatus status;                  ///< valid when `error` is empty
    std::optional<ProtocolError> error;  ///< 1002 (bad length or code) or 1007 (reason not UTF-8)
};

/// Parses an (unmasked) Close frame payload: empty → no_status; 1 byte, more than 125 bytes or a code
/// that is not valid on the wire → 1002; a reason that is not valid UTF-8 → 1007.
CloseParseResult parse_close_payload(std::string_view payload) noexcept;

/// Builds a Close frame payload: the code in network byte order followed by the longest prefix of
/// `reason` that is whole valid UTF-8 code points and fits in 123 bytes. no_status gives an empty
/// payload (a Close without a code, the only way to "send" 1005); other codes must be valid on the wire.
std::string make_close_payload(CloseCode code, std::string_view reason = {});

}  // namespace herald::websocket

namespace herald {
using websocket::CloseCode;
}  // namespace herald
