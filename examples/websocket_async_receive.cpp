// Seed 000 (Sisk, "receiving messages asynchronously"): ReceiveMessageAsync(timeout: 30 s) in a loop,
// an answer to every message, and CloseAsync() as the route's return value.
#include <iostream>

#include <herald/herald.hpp>

using namespace herald;
using namespace std::chrono_literals;

int main() {
    Router router;
    router.get("/connect", [](Request& req) -> Task<Response> {
        WebSocket ws = co_await req.accept_websocket();      // GetWebSocketAsync()

        // Empty after 30 s without a message, when the client closes, or when cancelled.
        while (auto receivedMessage = co_await ws.receive(30s)) {
            std::string_view msgText = receivedMessage->text();
            std::cout << "Received message: " << msgText << '\n';

            co_await ws.send("Hello!");
        }

        co_return co_await ws.close();                       // the Response is never sent: the route ends
    });

    Server server({}, std::move(router));
    server.listen("localhost", 5551);
    server.run();                                            // until Ctrl-C; open sockets get 1001
}
