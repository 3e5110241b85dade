// Seed 003 (connection-loss strategy): the client reopens the connection and resends; the server is
// ready for duplicates. A ReconnectingWebSocket sends numbered requests and resends the unanswered
// ones after each reconnect; the server's Deduplicator processes each once and answers repeats from
// its cache. Run without arguments it starts both sides in one process.
#include <iostream>
#include <thread>

#include <asio/io_context.hpp>

#include <herald/herald.hpp>

using namespace herald;
using namespace std::chrono_literals;

int main() {
    Server server({.threads = 1});
    websocket::Deduplicator dedup;
    server.ws("/orders", [&dedup](WebSocket ws) {
        ws.on_text([&dedup](WebSocket& self, std::string_view text) {
            auto ack = dedup.handle(text, [](std::string_view order) { return "placed " + std::string(order); });
            if (ack) self.post(*ack);
        });
    });
    const auto port = server.listen("127.0.0.1", 0);
    std::thread serving([&server] { server.run(); });

    asio::io_context io;
    websocket::ReconnectOptions options;
    options.backoff = {.min = 100ms, .max = 10s, .factor = 2.0, .jitter = 0.5};
    websocket::ReconnectingWebSocket client(io.get_executor(), "ws://127.0.0.1:" + std::to_string(port) + "/orders",
                                            options);
    client.on_state([](websocket::ConnectionState s) { std::cout << "state: " << to_string(s) << '\n'; });
    int answered = 0;
    for (int i = 1; i <= 3; ++i)
        client.request("order " + std::to_string(i), [&](std::error_code ec, std::string_view answer) {
            if (!ec) std::cout << answer << '\n';
            if (++answered == 3) client.stop();
        });
    client.start();
    io.run();
    server.stop();
    serving.join();
}
