// Close codes and Close frame payloads (RFC 6455 §5.5.1, §7.4).
#include <herald/websocket/close_code.hpp>

#include <herald/error.hpp>
#include <herald/websocket/utf8.hpp>

namespace herald::websocket {
namespace {

// A Close payload is at most 125 bytes (a control frame limit): 2 for the code, 123 for the reason.
constexpr std::size_t max_close_payload = 125;
constexpr std::size_t max_close_reason = max_close_payload - 2;

}  // namespace

bool is_valid_wire_close_code(std::uint16_t code) noexcept {
    // 1004 is reserved, 1005/1006/1015 stand for conditions that have no frame, 1016–2999 are
    // unassigned IETF codes, 3000–3999 are IANA-registered and 4000–4999 private use.
    if (code >= 1000 && code <= 1003) return true;
    if (code >= 1007 && code <= 1014) return true;
    return code >= 3000 && code <= 4999;
}

std::string_view to_string(CloseCode code) noexcept {
    switch (code) {
        case CloseCode::normal: return "normal";
        case CloseCode::going_away: return "going_away";
        case CloseCode::protocol_error: return "protocol_error";
        case CloseCode::unsupported_data: return "unsupported_data";
        case CloseCode::no_status: return "no_status";
        case CloseCode::abnormal: return "abnormal";
        case CloseCode::invalid_payload: return "invalid_payload";
        case CloseCode::policy_violation: return "policy_violation";
        case CloseCode::message_too_big: return "message_too_big";
        case CloseCode::mandatory_extension: return "mandatory_extension";
        case CloseCode::internal_error: return "internal_error";
        case CloseCode::service_restart: return "service_restart";
        case CloseCode::try_again_later: return "try_again_later";
        case CloseCode::bad_gateway: return "bad_gateway";
        case CloseCode::tls_handshake: return "tls_handshake";
    }
    return {};
}

CloseParseResult parse_close_payload(std::string_view payload) noexcept {
    CloseParseResult r;
    if (payload.empty()) return r;  // a Close without a status: report no_status
    if (payload.size() == 1) {
        r.error = ProtocolError{CloseCode::protocol_error, "close payload of 1 byte"};
        return r;
    }
    if (payload.size() > max_close_payload) {
        r.error = ProtocolError{CloseCode::protocol_error, "close payload over 125 bytes"};
        return r;
    }
    const auto code = static_cast<std::uint16_t>((static_cast<unsigned char>(payload[0]) << 8) |
                                                 static_cast<unsigned char>(payload[1]));
    if (!is_valid_wire_close_code(code)) {
        r.error = ProtocolError{CloseCode::protocol_error, "invalid close code"};
        return r;
    }
    const std::string_view reason = payload.substr(2);
    if (!is_valid_utf8(reason)) {
        r.error = ProtocolError{CloseCode::invalid_payload, "close reason is not valid UTF-8"};
        return r;
    }
    r.status = CloseStatus{static_cast<CloseCode>(code), reason};
    return r;
}

std::string make_close_payload(CloseCode code, std::string_view reason) {
    if (code == CloseCode::no_status) return {};
    const std::uint16_t value = to_underlying(code);
    if (!is_valid_wire_close_code(value))
        throw herald::error("close code " + std::to_string(value) + " may not be sent in a Close frame");
    const std::size_t reason_size = valid_utf8_prefix(reason.substr(0, max_close_reason));
    std::string out;
    out.reserve(2 + reason_size);
    out.push_back(static_cast<char>(value >> 8));
    out.push_back(static_cast<char>(value & 0xFF));
    out.append(reason.substr(0, reason_size));
    return out;
}

}  // namespace herald::websocket
