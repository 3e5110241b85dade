// Seed 002 (the note under "creating an SSE connection"): a stream closed by the server is reopened
// by the browser, running the route again, forever. So send a completion message before closing,
// and answer 204 No Content to the reconnect: an EventSource that gets 204 stops for good.
#include <herald/herald.hpp>

using namespace herald;
using namespace std::chrono_literals;

int main() {
    Server server;

    server.get("/job", [](Request& req) -> Task<Response> {
        // A reconnect carries the id of the last event the browser saw: ours says "done".
        if (req.header("Last-Event-ID") == "done" || req.query("done")) co_return Response(204);

        EventSource sse = co_await req.event_source();
        for (int percent = 0; percent <= 100; percent += 25) {
            const sse::Event progress{.event = "progress", .data = std::to_string(percent)};
            co_await sse.send(progress);
        }
        // The completion message: the page calls source.close() on it; if it does not, the
        // reconnect (Last-Event-ID: done) gets 204.
        const sse::Event done{.event = "done", .data = "finished", .id = "done"};
        co_await sse.send(done);
        co_return co_await sse.close();
    });

    server.listen(8080);   // curl -N localhost:8080/job;  curl -i -H 'Last-Event-ID: done' localhost:8080/job
    server.run();
}
