// Seed 001 (Sisk, "waiting for websocket close"): WaitForClose() until either side closes, and
// WaitForClose(60 s), which also closes the connection after 60 s with no message either way.
#include <herald/herald.hpp>

using namespace herald;
using namespace std::chrono_literals;

int main() {
    Router r;

    // As in the seed, blocking on the worker pool.
    r += Route{Method::get, "/", [](Request& req) {
        SyncWebSocket ws = req.accept_websocket_sync();

        // wait for client close connection
        ws.wait_for_close();

        // waits until no messages are exchanged in the 60 seconds
        // or until some party closes the connection
        ws.wait_for_close(60s);

        return ws.close();
    }, 0, true};

    // The coroutine form, which keeps no worker thread busy while it waits.
    r.get("/idle", [](Request& req) -> Task<Response> {
        WebSocket ws = co_await req.accept_websocket();
        ws.on_text([](WebSocket& self, std::string_view text) { self.post(text); });  // echo meanwhile
        co_await ws.wait_for_close(60s);                     // closed by the server (1000) when idle
        co_return co_await ws.close();
    });

    Server server({}, std::move(r));
    server.listen("localhost", 5551);
    server.run();
}
