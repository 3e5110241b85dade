// The client's handshake request and its checks of the server's answer (RFC 6455 §4.1).
#include <herald/websocket/client_handshake.hpp>
#include <herald/websocket/handshake.hpp>

#include <gtest/gtest.h>

#include <string>

namespace herald::websocket {
namespace {

constexpr std::string_view key = "dGhlIHNhbXBsZSBub25jZQ==";

http::ResponseHead parse(const std::string& text) {
    http::ResponseParser p;
    EXPECT_EQ(p.parse(text), http::ParseStatus::complete) << p.error();
    return p.head();
}

std::string good(const std::string& extra = "") {
    return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\n"
           "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" + extra + "\r\n";
}

TEST(ClientHandshake, Request) {
    Headers extra;
    extra.add("Origin", "http://o.test");
    const auto req = make_handshake_request("h.test:81", "/chat?x=1", key, {"chat", "v2"}, extra);
    EXPECT_EQ(req,
              "GET /chat?x=1 HTTP/1.1\r\nHost: h.test:81\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
              "Sec-WebSocket-Protocol: chat, v2\r\nOrigin: http://o.test\r\n\r\n");
    EXPECT_EQ(make_handshake_request("h", "/", key, {}, {}).find("Sec-WebSocket-Protocol"), std::string::npos);
}

TEST(ClientHandshake, AcceptsAValidAnswer) {
    EXPECT_EQ(check_handshake_response(parse(good()), key, {}), "");
    EXPECT_EQ(check_handshake_response(parse(good("Sec-WebSocket-Protocol: v2\r\n")), key, {"chat", "v2"}), "v2");
    EXPECT_EQ(check_handshake_response(parse(good()), key, {"chat"}), "");  // the server may decline
}

TEST(ClientHandshake, RejectsEachWrongAnswer) {
    auto rejects = [](const std::string& text, std::string_view why, int status = 101) {
        try {
            check_handshake_response(parse(text), key, {"chat"});
            ADD_FAILURE() << "accepted: " << text;
        } catch (const ConnectError& e) {
            EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
            EXPECT_EQ(e.http_status(), status);
        }
    };
    rejects("HTTP/1.1 403 Forbidden\r\n\r\n", "403 Forbidden instead of 101", 403);
    rejects("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "200 OK", 200);
    rejects("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
            "Upgrade");
    rejects("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
            "Connection");
    rejects("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Accept: " + accept_key("AAAAAAAAAAAAAAAAAAAAAA==") + "\r\n\r\n",
            "Sec-WebSocket-Accept");
    rejects(good("Sec-WebSocket-Protocol: other\r\n"), "subprotocol 'other'");
    rejects(good("Sec-WebSocket-Protocol: chat, other\r\n"), "subprotocol 'chat, other'");
    rejects(good("Sec-WebSocket-Extensions: permessage-deflate\r\n"), "extension 'permessage-deflate'");
}

}  // namespace
}  // namespace herald::websocket
