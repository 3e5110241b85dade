// Seed 001 (Sisk, "sending messages"): Send() with text, a byte array and a byte span. Outgoing
// messages are split into frames of WebSocketOptions::buffer_size bytes; 1024 is Sisk's
// WebSocketBufferSize, set here as the server's default for accept_websocket().
#include <array>
#include <cstddef>
#include <iostream>
#include <span>
#include <string>

#include <herald/herald.hpp>

using namespace herald;

int main() {
    Router r;

    // As in the seed: blocking calls on the worker pool.
    r += Route{.method = Method::get, .path = "/", .handler = [](Request& req) {
        SyncWebSocket ws = req.accept_websocket_sync();

        std::array<std::byte, 4> myByteArrayContent{std::byte{0xCA}, std::byte{0xFE}, std::byte{0xBA}, std::byte{0xBE}};

        ws.send("Hello, world");                             // a text message (UTF-8)
        ws.send(myByteArrayContent);                         // a binary message
        ws.send(std::span(myByteArrayContent).first(2));     // any span of bytes

        return ws.close();
    }, .blocking = true};

    // The same in a coroutine: each send completes when the bytes are written, or says why not.
    r.get("/async", [](Request& req) -> Task<Response> {
        WebSocket ws = co_await req.accept_websocket();
        std::array<std::byte, 3> bytes{std::byte{1}, std::byte{2}, std::byte{3}};

        co_await ws.send("Hello, world");
        if (std::error_code ec = co_await ws.send(bytes))    // the connection is gone
            std::cerr << "not sent: " << ec.message() << '\n';
        std::string text = "text sent as binary";
        co_await ws.send(std::as_bytes(std::span(text)));

        co_return co_await ws.close();
    });

    Server server({.websocket = {.buffer_size = 1024}}, std::move(r));
    server.listen("localhost", 5551);
    server.run();
}
