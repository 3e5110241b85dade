// The client's handshake request and the checks of the server's answer (RFC 6455 §4.1).
#include <herald/websocket/client_handshake.hpp>

#include <herald/websocket/handshake.hpp>

namespace herald::websocket {

std::string make_handshake_request(std::string_view host, std::string_view target, std::string_view key,
                                   const std::vector<std::string>& subprotocols, const Headers& extra) {
    std::string out;
    out.reserve(256);
    out.append("GET ").append(target).append(" HTTP/1.1\r\nHost: ").append(host);
    out.append("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ").append(key);
    out.append("\r\nSec-WebSocket-Version: 13\r\n");
    if (!subprotocols.empty()) {
        out.append("Sec-WebSocket-Protocol: ");
        for (std::size_t i = 0; i < subprotocols.size(); ++i)
            out.append(i ? ", " : "").append(subprotocols[i]);
        out.append("\r\n");
    }
    for (const auto& [name, value] : extra) out.append(name).append(": ").append(value).append("\r\n");
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

}  // namespace herald::websocket
