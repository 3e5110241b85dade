// Seed 002 (Sisk, "connection ping policy"): WithPing(ping => { DataMessage = "ping-message";
// Interval = 5 s; Start(); }), then KeepAlive() and Close(). A failed ping ends the stream.
#include <herald/herald.hpp>

using namespace herald;
using namespace std::chrono_literals;

int main() {
    Server server;

    server.get("/sse", [](Request& req) -> Task<Response> {
        EventSource sse = co_await req.event_source();
        // Every 5 s (the first one 5 s from now) the event "data: ping-message".
        sse.ping_policy({.data = "ping-message", .interval = 5s});

        co_await sse.keep_alive();         // until the client leaves (a ping fails to be written)
        co_return co_await sse.close();
    });

    // The same as an option, with the default ping: the comment ": %ping%" every 15 s, which
    // EventSource clients ignore.
    server.get("/sse-quiet", [](Request& req) -> Task<Response> {
        EventSourceOptions options{.ping_policy = EventSourcePing{.interval = 15s}};  // named: GCC 12
        EventSource sse = co_await req.event_source(options);
        co_await sse.keep_alive();
        co_return co_await sse.close();
    });

    server.listen("localhost", 5551);      // curl -N localhost:5551/sse
    server.run();
}
