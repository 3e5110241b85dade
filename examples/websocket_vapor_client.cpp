// Seed 004 (Vapor, the client): WebSocket.connect(to:on:) { ws in ... } as
// herald::websocket::connect(url, executor, on_connected): the closure gets the open connection before
// any message is read, so the callbacks it sets see every message; send, onText, onClose, onPing/onPong.
//
//   example_websocket_vapor_client ws://127.0.0.1:8080/ws/echo      (herald serve's echo)
#include <iostream>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

#include <herald/herald.hpp>

using namespace herald;

Task<void> close_connection(WebSocket ws) { co_await ws.close(); }

int main(int argc, char** argv) {
    const char* url = argc > 1 ? argv[1] : "ws://127.0.0.1:8080/ws/echo";
    asio::io_context io;
    websocket::connect(url, io.get_executor(), [&io](WebSocket ws) {
        std::cout << "connected to " << ws.remote_endpoint() << '\n';
        ws.on_text([&io](WebSocket& self, std::string_view text) {
            std::cout << "received: " << text << '\n';
            asio::co_spawn(io, close_connection(self), asio::detached);  // close() with a completion
        });
        ws.on_ping([](WebSocket&, std::string_view) { std::cout << "ping (answered automatically)\n"; });
        ws.on_pong([](WebSocket&, std::string_view) { std::cout << "pong\n"; });
        ws.on_close([](WebSocket&, CloseCode code, std::string_view) {
            std::cout << "closed: " << to_underlying(code) << '\n';
        });
        ws.post("Hello, world");
    }, [](std::exception_ptr e) {
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            std::cerr << ex.what() << '\n';
        }
    });
    io.run();
}
