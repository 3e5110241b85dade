// Seed 004 (Vapor, WebSockets on the server): app.webSocket("echo") as server.ws("/echo"), the same
// route behind a group with middleware, onText/onBinary, send with a completion, close, onClose
// with the close code, onPing/onPong. Vapor's client (WebSocket.connect) is websocket_vapor_client.cpp.
#include <array>
#include <iostream>

#include <herald/herald.hpp>

using namespace herald;

int main() {
    Server server;

    // Callback style: the handler returns at once, the connection lives on through its callbacks.
    WebSocketHandler echo = [](Request&, WebSocket ws) {
        std::cout << "connected: " << ws.remote_endpoint() << '\n';
        ws.on_text([](WebSocket& self, std::string_view text) { self.post(text); }); // echoes text
        ws.on_binary([](WebSocket&, std::span<const std::byte> binary) {
            std::cout << binary.size() << " bytes received\n";
        });
        ws.on_ping([](WebSocket&, std::string_view) { std::cout << "ping\n"; });  // the Pong is automatic
        ws.on_pong([](WebSocket&, std::string_view) { std::cout << "pong\n"; });
        ws.on_close([](WebSocket&, CloseCode code, std::string_view reason) {      // onClose + closeCode
            std::cout << "closed: " << to_underlying(code) << ' ' << reason << '\n';
        });
    };
    server.ws("/echo", echo);

    // WebSocket routes are grouped and protected by middleware like any other; it runs before the
    // upgrade, so a refusal is an ordinary HTTP response.
    auto secure = server.group("/secure");
    secure.use([](Request& req, Next next) -> Task<Response> {
        if (req.query("token") != "secret") co_return Response::error(401, "missing token");
        co_return co_await next();
    });
    secure.ws("/echo", echo);

    // Coroutine style: sending and closing with completion.
    server.ws("/hello", [](WebSocket ws) -> Task<void> {
        ws.post("Hello, world");                              // ws.send("Hello, world"), no completion
        std::array<std::byte, 3> bytes{std::byte{1}, std::byte{2}, std::byte{3}};
        ws.post_binary(bytes);                                // ws.send([1, 2, 3])

        std::error_code ec = co_await ws.send("written?");    // ws.send(..., promise:)
        std::cout << (ec ? "failed to send: " + ec.message() : "sent") << '\n';

        co_await ws.close(CloseCode::normal, "bye");          // completes when the WebSocket has closed
        std::cout << "close code " << to_underlying(ws.close_code().value_or(CloseCode::abnormal)) << '\n';
    });

    server.listen(8080);
    server.run();
}
