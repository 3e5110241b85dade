// Seed 002, Sisk's synchronous style (using var sse = req.GetEventSource(); sse.Send(...);
// sse.WaitForFail(...); return sse.Close();) on a blocking route: the handler runs on the worker
// pool, where SyncEventSource's calls may wait. Never call them on an event loop.
#include <chrono>
#include <string>
#include <thread>

#include <herald/herald.hpp>

using namespace herald;
using namespace std::chrono_literals;

int main() {
    Server server;

    server.get_blocking("/", [](Request& req) {
        SyncEventSource sse = req.event_source_sync();
        sse.append_header("Header-Key", "Header-value");              // before the first send
        sse.send("Hello, world!");                                   // false once the client is gone

        for (int i = 1; i <= 5; ++i) {
            std::this_thread::sleep_for(1s);                        // fine here: a pool thread
            if (!sse.send(sse::Event{.event = "tick", .data = std::to_string(i), .id = std::to_string(i)}))
                break;                                              // no co_await: braces are fine
        }
        return sse.close();
    });

    server.get_blocking("/wait", [](Request& req) {
        SyncEventSource sse = req.event_source_sync("my-index-connection");
        sse.wait_for_fail(15s);                                      // WaitForFail(TimeSpan.FromSeconds(15))
        return sse.close();
    });

    server.listen("localhost", 5551);
    server.run();
}
