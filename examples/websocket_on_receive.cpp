// Seed 001 (Sisk, "accepting and receiving messages asynchronously"): an OnReceive handler, then
// WaitForClose() and Close(). The callback runs on the connection's event loop for every message.
#include <iostream>

#include <herald/herald.hpp>

using namespace herald;

int main() {
    Router r;

    r += Route{Method::get, "/", [](Request& req) -> Task<Response> {
        WebSocket ws = co_await req.accept_websocket();

        ws.on_message([](WebSocket& sender, const Message& msg) {
            std::string_view msgText = msg.text();           // for binary messages: the raw bytes
            std::cout << "Received message: " << msgText << '\n';

            // `sender` is the WebSocket which received the message. Callbacks cannot co_await:
            // post() queues the message and returns at once.
            sender.post("Response!");
        });

        co_await ws.wait_for_close();                        // until either side closes

        co_return co_await ws.close();                       // already closed: returns at once
    }};

    Server server({}, std::move(r));
    server.listen("localhost", 5551);
    server.run();
}
