// Seed 002 (Sisk, "adding headers"): AppendHeader("Header-Key", "Header-value") before any message.
// The head goes out with the first send; append_header() after that throws herald::error.
#include <iostream>

#include <herald/herald.hpp>

using namespace herald;

int main() {
    Router router;
    router.get("/", [](Request& req) -> Task<Response> {
        EventSource sse = co_await req.event_source();
        sse.append_header("Header-Key", "Header-value");  // joins Content-Type: text/event-stream etc.

        co_await sse.send("Hello!");

        try {
            sse.append_header("Too-Late", "x");           // the head is already on the wire
        } catch (const herald::error& e) {
            std::cerr << e.what() << '\n';
        }

        co_return co_await sse.close();
    });

    Server server({}, std::move(router));
    server.listen("localhost", 5551);                     // curl -N -i http://localhost:5551/
    server.run();
}
