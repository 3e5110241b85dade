// Seed 002 (Sisk, "creating an SSE connection"): GetEventSource(), Send("Hello, world!"), and
// Close() as the route's return value. The browser reconnects after the close (see
// sse_stop_reconnect.cpp for how to stop it).
#include <herald/herald.hpp>

using namespace herald;

int main() {
    Router router;
    router.get("/", [](Request& req) -> Task<Response> {
        EventSource sse = co_await req.event_source();   // GetEventSource(): the 200 head is not sent yet

        co_await sse.send("Hello, world!");              // "data: Hello, world!\n\n", done once written

        co_return co_await sse.close();                  // ends the stream; the Response is never sent
    });

    Server server({}, std::move(router));
    server.listen("localhost", 5551);                    // curl -N http://localhost:5551/
    server.run();
}
