// Identified connections (Sisk's WebSocket identifiers): a connection accepted with an id is listed in
// server.websockets(), where any thread finds it by id or by a predicate over ids and sends to it.
#include <chrono>
#include <string>
#include <thread>

#include <herald/herald.hpp>

using namespace herald;
using namespace std::chrono_literals;

int main() {
    Server server;
    WebSocketRegistry& registry = server.websockets();

    // ws://localhost:8080/chat/ada → listed as "user:ada"; a second "ada" is refused with 409.
    server.get("/chat/{name}", [&registry](Request& req) -> Task<Response> {
        // Named, not a braced temporary inside co_await: GCC 12 destroys such temporaries twice.
        WebSocketOptions options{.id = "user:" + std::string(req.param("name")),
                                 .duplicate_id = DuplicateIdPolicy::reject_new};
        WebSocket ws = co_await req.accept_websocket(options);
        while (auto msg = co_await ws.receive(1h)) {
            std::string_view text = msg->text();
            if (text.starts_with('@') && text.find(' ') != text.npos) {   // "@bob hi": to one user
                auto to = text.substr(1, text.find(' ') - 1);
                if (auto peer = registry.get("user:" + std::string(to))) peer->post(text);
                else co_await ws.send("no such user");
            } else {
                for (WebSocket& peer : registry.all()) peer.post(text);     // to everyone
            }
        }
        co_return co_await ws.close();
    });
    server.get("/who", [&registry](Request&) {
        return Response::text(std::to_string(registry.count()) + " connected\n");
    });
    // Blocking routes run on the worker pool: another thread than the connections' loops.
    server.get_blocking("/admin/restart", [&registry](Request&) {
        registry.drop_all(CloseCode::service_restart);       // 1012 to every identified connection
        return Response::text("dropped\n");
    });

    // A thread of our own: every minute, a notice to the users whose name starts with "guest".
    std::jthread notices([&registry](std::stop_token stop) {
        for (int second = 1; !stop.stop_requested(); ++second) {
            std::this_thread::sleep_for(1s);
            if (second % 60 != 0) continue;
            auto guests = registry.find([](std::string_view id) { return id.starts_with("user:guest"); });
            for (WebSocket& ws : guests) ws.post("guests: please sign in");
        }
    });

    server.listen(8080);
    server.run();
}
