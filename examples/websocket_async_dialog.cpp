// Seed 000 (Sisk, the askName/askAge dialog), coroutine style: each ReceiveMessageAsync() is a
// co_await ws.receive() (30 s by default); the seed's goto labels become loops.
#include <charconv>
#include <optional>
#include <string>

#include <herald/herald.hpp>

using namespace herald;

// Int32.TryParse: the whole text must be a number.
std::optional<int> try_parse(std::string_view text) {
    int value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

int main() {
    Router router;
    router.get("/connect", [](Request& req) -> Task<Response> {
        WebSocket ws = co_await req.accept_websocket();

        std::string name;
        for (;;) {                                           // askName:
            co_await ws.send("What is your name?");
            auto msg = co_await ws.receive();
            if (!msg) co_return co_await ws.close();         // timed out or the client left
            name = msg->text();
            if (!name.empty()) break;
            co_await ws.send("Please, insert your name!");
        }

        std::optional<int> age;
        for (;;) {                                           // askAge:
            co_await ws.send("And your age?");
            auto msg = co_await ws.receive();
            if (!msg) co_return co_await ws.close();
            if ((age = try_parse(msg->text()))) break;
            co_await ws.send("Please, insert an valid number");
        }

        co_await ws.send("You're " + name + ", and you are " + std::to_string(*age) + " old.");
        co_return co_await ws.close();
    });

    Server server({}, std::move(router));
    server.listen("localhost", 5551);
    server.run();
}
