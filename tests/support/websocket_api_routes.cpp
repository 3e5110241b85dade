// Routes that exercise the WebSocket session API for tests/integration/test_websocket_api.py.
#include "websocket_api_routes.hpp"

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;

namespace herald::testing {
namespace {

Task<void> sleep_for(std::chrono::milliseconds ms) {
    asio::steady_timer timer(co_await asio::this_coro::executor, ms);
    co_await timer.async_wait(asio::use_awaitable);
}

}  // namespace

void add_websocket_api_routes(Server& server) {
    // receive(timeout) comes back empty after the timeout; the connection stays usable.
    server.ws("/ws/receive-timeout", [](WebSocket ws) -> Task<void> {
        auto first = co_await ws.receive(200ms);
        co_await ws.send(first ? "message" : "timeout");
        if (auto m = co_await ws.receive(10s)) co_await ws.send("after timeout: " + std::string(m->text()));
    });
    // A pending receive() cancelled through Asio's cancellation (the || operator) comes back empty.
    server.ws("/ws/cancel", [](WebSocket ws) -> Task<void> {
        auto result = co_await (ws.receive(10s) || sleep_for(200ms));
        const bool cancelled = result.index() == 1;
        co_await ws.send(cancelled ? "cancelled" : "received");
        if (auto m = co_await ws.receive(10s)) co_await ws.send("still open: " + std::string(m->text()));
    });
    // Another thread sends while this handler's receive() is pending.
    server.ws("/ws/cross-thread", [](WebSocket ws) -> Task<void> {
        std::thread([ws]() mutable {
            std::this_thread::sleep_for(100ms);
            ws.post("from another thread");
        }).detach();
        while (auto m = co_await ws.receive(10s)) co_await ws.send(*m);
    });
    // Identified connections: ?id= registers the connection under that id.
    server.get("/ws/identified", [](Request& req) -> Task<Response> {
        WebSocketOptions options;
        options.id = req.query("id").value_or("");
        if (req.query("policy") == "reject") options.duplicate_id = DuplicateIdPolicy::reject_new;
        auto ws = co_await req.accept_websocket(options);
        co_await ws.send("registered as " + std::string(ws.id()));
        co_await ws.wait_for_close();
        co_return Response(101);
    });
    server.get("/registry/count", [&server](Request&) {
        return Response::text(std::to_string(server.websockets().count()));
    });
    // Sends ?text= to every registered connection whose id starts with ?prefix=, from a worker thread.
    server.get_blocking("/registry/broadcast", [&server](Request& req) {
        auto prefix = req.query("prefix").value_or("");
        auto text = req.query("text").value_or("");
        auto targets = server.websockets().find([&](std::string_view id) { return id.starts_with(prefix); });
        for (auto& ws : targets) ws.post(text);
        return Response::text(std::to_string(targets.size()));
    });
    server.get_blocking("/registry/send", [&server](Request& req) {
        auto ws = server.websockets().get(req.query("id").value_or(""));
        if (!ws) return Response::error(404, "no such connection");
        ws->post(req.query("text").value_or(""));
        return Response::text("sent");
    });
    // Protocol keep-alive: Ping after 200 ms of silence, dead after 300 ms more.
    server.ws("/ws/keepalive", [](WebSocket ws) -> Task<void> {
        while (auto m = co_await ws.receive(1h)) co_await ws.send(*m);
    }, WebSocketOptions{.keepalive_interval = 200ms, .keepalive_timeout = 300ms});
    // Sisk's data ping every 100 ms; the client's "%ping%" echoes are filtered out.
    server.ws("/ws/ping-policy", [](WebSocket ws) -> Task<void> {
        ws.ping_policy({.data = "%ping%", .interval = 100ms});
        while (auto m = co_await ws.receive(1h)) co_await ws.send("echo:" + std::string(m->text()));
    });
    // wait_for_close(idle): closed by the server after 300 ms without messages.
    server.ws("/ws/idle", [](WebSocket ws) -> Task<void> {
        co_await ws.wait_for_close(300ms);
    });
    // Callbacks: on_close reports the peer's code; on_ping sees the Ping payload.
    server.ws("/ws/events", [](Request&, WebSocket ws) {
        ws.on_ping([](WebSocket& w, std::string_view payload) { w.post("ping:" + std::string(payload)); });
        ws.on_text([](WebSocket& w, std::string_view text) {
            w.post("headers:" + std::string(w.request_headers().get("X-Test").value_or("-")) + ":" + std::string(text));
        });
    });
    // on_message may keep the message it is handed (moved, copied, released, assigned): what it keeps
    // has bytes of its own once the read buffer they arrived in is reused. "dump" sends them back.
    server.ws("/ws/keep", [](WebSocket ws) {
        auto kept = std::make_shared<std::vector<Message>>();
        ws.on_message([kept](WebSocket& w, Message& m) {
            if (m.text() == "dump") {
                for (auto& k : *kept) w.post(std::move(k));
                kept->clear();
                return;
            }
            Message other(false, std::string("placeholder"));
            switch (kept->size() % 5) {
                case 0: kept->push_back(std::move(m)); break;
                case 1: kept->push_back(m); break;
                case 2: kept->emplace_back(m.is_text(), m.release()); break;
                case 3: other = std::move(m); kept->push_back(std::move(other)); break;
                default: other = m; kept->push_back(std::move(other)); break;
            }
        });
    });
    // Replies sent from a callback, inside the read that brought the message, follow the options
    // like any other send: frames of at most buffer_size bytes, and the backlog limit with its policy
    // (the replies to one read leave together, so a burst of messages in one read fills the backlog).
    const auto echo = [](WebSocket ws) { ws.on_message([](WebSocket& w, Message& m) { w.post(std::move(m)); }); };
    server.ws("/ws/small-frames", echo, WebSocketOptions{.buffer_size = 8});
    server.ws("/ws/tight-backlog-drop", echo,
              WebSocketOptions{.max_backlog_bytes = 64, .backlog_policy = BacklogPolicy::drop_message});
    server.ws("/ws/tight-backlog-close", echo, WebSocketOptions{.max_backlog_bytes = 64});
    // A callback that throws closes only its own connection, with 1011.
    server.ws("/ws/throwing-callback", [](WebSocket ws) {
        ws.on_text([](WebSocket& w, std::string_view text) {
            if (text == "throw") throw std::runtime_error("the handler failed");
            w.post(text);
        });
    });
    // Seed 000/001: Sisk's synchronous dialog, on the worker pool.
    server.get_blocking("/ws/dialog", [](Request& req) {
        auto ws = req.accept_websocket_sync();
        std::optional<Message> msg;
    askName:
        ws.send("What is your name?");
        msg = ws.wait_next();
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
        try {
            age = std::stoi(std::string(msg->text()));
        } catch (const std::exception&) {
            ws.send("Please, insert an valid number");
            goto askAge;
        }
        ws.send("You're " + name + ", and you are " + std::to_string(age) + " old.");
        return ws.close();
    });
}

}  // namespace herald::testing
