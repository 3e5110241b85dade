// Seed 001 (Sisk, "accepting and receiving messages synchronously"): the askName/askAge dialog with
// blocking calls, gotos included. A blocking route runs on the server's worker pool, where waiting is
// allowed; `r += Route{Method::get, "/connect", handler, 0, true}` is the same as get_blocking.
#include <charconv>
#include <optional>
#include <string>

#include <herald/herald.hpp>

using namespace herald;

// Int32.TryParse: the whole text must be a number.
bool try_parse(std::string_view text, int& value) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    return ec == std::errc{} && end == text.data() + text.size();
}

int main() {
    Router r;

    r.get_blocking("/connect", [](Request& req) {
        SyncWebSocket ws = req.accept_websocket_sync();      // GetWebSocket()
        std::optional<Message> msg;

    askName:
        ws.send("What is your name?");
        msg = ws.wait_next();                                // WaitNext(): 60 s at most
        // Not in the seed: without this check a closed connection would loop forever.
        if (!msg) return ws.close();

        std::string name(msg->text());

        if (name.empty()) {
            ws.send("Please, insert your name!");
            goto askName;
        }

    askAge:
        ws.send("And your age?");
        msg = ws.wait_next();
        if (!msg) return ws.close();

        int age = 0;
        if (!try_parse(msg->text(), age)) {
            ws.send("Please, insert an valid number");
            goto askAge;
        }

        ws.send("You're " + name + ", and you are " + std::to_string(age) + " old.");

        return ws.close();
    });

    Server server({}, std::move(r));
    server.listen("localhost", 5551);
    server.run();
}
