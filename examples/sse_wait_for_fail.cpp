// Seed 002 (Sisk, "wait-for-fail connections"): GetEventSource("my-index-connection") and
// WaitForFail(15 s) in the route; elsewhere, server.EventSources.GetByIdentifier(...) and
// Send("Hello again!") while the connection is still alive.
#include <chrono>
#include <thread>

#include <herald/herald.hpp>

using namespace herald;
using namespace std::chrono_literals;

int main() {
    Server server;

    server.get("/", [](Request& req) -> Task<Response> {
        EventSource sse = co_await req.event_source("my-index-connection");  // listed in event_sources()

        co_await sse.wait_for_fail(15s);   // until the client leaves, or 15 s without a message

        co_return co_await sse.close();
    });

    // From another route: a blocking one runs on the worker pool, so it may wait for the write.
    server.get_blocking("/again", [&server](Request&) {
        std::optional<EventSource> evs = server.event_sources().get("my-index-connection");
        if (!evs) return Response::text("not connected\n");
        bool sent = SyncEventSource(*evs).send("Hello again!");  // the connection is still alive
        return Response::text(sent ? "sent\n" : "failed\n");
    });

    // From a thread of our own: post() queues without waiting (each message also restarts the 15 s).
    std::jthread again([&server](std::stop_token stop) {
        while (!stop.stop_requested()) {
            std::this_thread::sleep_for(10s);
            if (auto evs = server.event_sources().get("my-index-connection")) evs->post("Hello again!");
        }
    });

    server.listen("localhost", 5551);  // curl -N localhost:5551/   then   curl localhost:5551/again
    server.run();
}
