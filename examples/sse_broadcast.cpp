// Seed 002 (Sisk, "querying connections"): EventSources.Find(es => es.StartsWith("my-connection-"))
// and a Send to each, EventSources.All(); plus registry.broadcast(), which encodes the event once.
#include <string>

#include <herald/herald.hpp>

using namespace herald;

int main() {
    Server server;
    EventSourceRegistry& registry = server.event_sources();

    // GET /events/7 → listed as "my-connection-7".
    server.get("/events/{n}", [](Request& req) -> Task<Response> {
        EventSource sse = co_await req.event_source("my-connection-" + std::string(req.param("n")));
        co_await sse.keep_alive();
        co_return co_await sse.close();
    });

    server.get("/find", [&registry](Request&) {
        auto evs = registry.find([](std::string_view id) { return id.starts_with("my-connection-"); });
        for (EventSource& e : evs) e.post("Broadcasting to all event sources that starts with 'my-connection-'");
        return Response::text(std::to_string(evs.size()) + " streams\n");
    });

    server.get("/all", [&registry](Request&) {
        for (EventSource& e : registry.all()) e.post("to every identified stream");
        return Response::text(std::to_string(registry.count()) + " streams\n");
    });

    // One encoding shared by all; returns on how many streams the event was queued.
    server.get("/broadcast", [&registry](Request&) {
        const sse::Event news{.event = "news", .data = "line 1\nline 2"};
        auto n = registry.broadcast(news, [](std::string_view id) { return id.starts_with("my-connection-"); });
        return Response::text(std::to_string(n) + " queued\n");
    });

    server.listen(8080);   // curl -N localhost:8080/events/1   then   curl localhost:8080/broadcast
    server.run();
}
