// Seed 000 (ws.PingPolicy.Start(dataMessage, interval)) and seed 001 (ws.WithPing(...)): Sisk's
// data ping, a text message sent at an interval so that proxies keep a quiet connection open.
// Clients that echo it back are not heard: messages equal to the ping text are filtered out.
#include <herald/herald.hpp>

using namespace herald;
using namespace std::chrono_literals;

int main() {
    Server server;

    // Seed 000: started on an accepted connection; the first ping goes out at once.
    server.get("/connect", [](Request& req) -> Task<Response> {
        WebSocket ws = co_await req.accept_websocket();
        ws.ping_policy({.data = "ping-message", .interval = 10s});
        while (auto msg = co_await ws.receive(1min)) co_await ws.send(*msg);
        co_return co_await ws.close();
    });

    // Seed 001: WithPing(ping => { ping.DataMessage = "ping-message"; ping.Interval = 5 s; ping.Start(); }),
    // here as an option of the route, so every connection starts with it.
    server.ws("/with-ping", [](WebSocket ws) -> Task<void> {
        while (auto msg = co_await ws.receive(1min)) co_await ws.send(*msg);
        co_await ws.close();
    }, {.ping_policy = PingPolicy{.data = "ping-message", .interval = 5s}});

    // Not in the seeds: protocol keep-alive with Ping frames (answered by browsers, invisible to
    // scripts). After 20 s without a frame from the client a Ping goes out; 10 s more of silence
    // and the peer is taken for dead (the TCP connection is dropped: close code 1006).
    server.ws("/keepalive", [](WebSocket ws) -> Task<void> {
        while (auto msg = co_await ws.receive(1h)) co_await ws.send(*msg);
        co_await ws.close();
    }, {.keepalive_interval = 20s, .keepalive_timeout = 10s});

    server.listen("localhost", 5551);
    server.run();
}
