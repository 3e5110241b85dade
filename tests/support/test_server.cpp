// A server for integration tests: routes that exercise every part of the HTTP core, short timeouts
// from flags, and its bound port printed on stdout ("port N") once it listens.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <herald/herald.hpp>

#include "request_routes.hpp"
#include "sse_routes.hpp"
#include "websocket_api_routes.hpp"

using namespace herald;
using namespace std::chrono_literals;

namespace {

long flag(int argc, char** argv, std::string_view name, long fallback) {
    for (int i = 1; i + 1 < argc; ++i)
        if (argv[i] == name) return std::strtol(argv[i + 1], nullptr, 10);
    return fallback;
}

std::string text_flag(int argc, char** argv, std::string_view name, std::string fallback) {
    for (int i = 1; i + 1 < argc; ++i)
        if (argv[i] == name) return argv[i + 1];
    return fallback;
}

Task<void> sleep_for(std::chrono::milliseconds ms) {
    asio::steady_timer timer(co_await asio::this_coro::executor, ms);
    co_await timer.async_wait(asio::use_awaitable);
}

}  // namespace

int main(int argc, char** argv) {
    set_log_level(text_flag(argc, argv, "--log-level", "warn"));
    ServerOptions options{
        .threads = static_cast<unsigned>(flag(argc, argv, "--threads", 2)),
        .max_body_bytes = static_cast<std::size_t>(flag(argc, argv, "--max-body", 1024 * 1024)),
        .header_timeout = std::chrono::milliseconds(flag(argc, argv, "--header-timeout-ms", 10'000)),
        .body_timeout = std::chrono::milliseconds(flag(argc, argv, "--body-timeout-ms", 10'000)),
        .idle_timeout = std::chrono::milliseconds(flag(argc, argv, "--idle-timeout-ms", 75'000)),
        .shutdown_timeout = std::chrono::milliseconds(flag(argc, argv, "--shutdown-timeout-ms", 10'000)),
        .max_requests_per_connection = static_cast<std::uint32_t>(flag(argc, argv, "--max-requests", 10'000)),
        .reuse_port = flag(argc, argv, "--single-acceptor", 0) == 0,
    };
    Server server(options);

    server.get("/hello", [](Request&) { return Response::text("hello"); });
    // Echoes the request: method, decoded body and a few headers, for parser round trips.
    server.any("/echo", [](Request& req) {
        Response r = Response::text(std::string(req.body()));
        r.header("X-Method", req.method_name());
        r.header("X-Body-Length", std::to_string(req.body().size()));
        if (auto q = req.query("q")) r.header("X-Query", *q);
        return r;
    });
    server.post("/small-body", [](Request& req) { return Response::text(std::to_string(req.body().size())); });
    server.router() += Route{Method::post, "/big-body",
                             [](Request& req) { return Response::text(std::to_string(req.body().size())); },
                             8 * 1024 * 1024};
    server.get("/rooms/{id}", [](Request& req) { return Response::text(std::string(req.param("id"))); });
    // Answers after ?ms= milliseconds: a request in flight for graceful-stop tests.
    server.get("/slow", [](Request& req) -> Task<Response> {
        auto ms = std::strtol(req.query("ms").value_or("200").c_str(), nullptr, 10);
        co_await sleep_for(std::chrono::milliseconds(ms));
        co_return Response::text("slow done");
    });
    server.get("/throw", [](Request&) -> Response { throw std::runtime_error("handler failure"); });
    server.get("/throw-async", [](Request&) -> Task<Response> {
        co_await sleep_for(1ms);
        throw std::runtime_error("async handler failure");
    });
    // A chunked response of ?n= chunks.
    server.get("/stream", [](Request& req) {
        int n = std::atoi(req.query("n").value_or("3").c_str());
        return Response::stream(
            [n](BodyWriter& w) -> Task<void> {
                for (int i = 0; i < n; ++i) {
                    co_await w.write("chunk " + std::to_string(i) + "\n");
                    co_await sleep_for(5ms);
                }
            },
            "text/plain");
    });
    server.get("/big", [](Request& req) {
        auto n = std::strtoul(req.query("n").value_or("1048576").c_str(), nullptr, 10);
        std::string body(n, 'x');
        for (std::size_t i = 0; i < n; i += 997) body[i] = static_cast<char>('a' + (i / 997) % 26);
        return Response::text(std::move(body));
    });
    // WebSocket routes: an echo (coroutine style), callback-style echoes (the second as herald serve's
    // /ws/echo: the message itself posted back), and a server push + close.
    server.ws("/ws/echo", [](WebSocket ws) -> Task<void> {
        while (auto message = co_await ws.receive(std::chrono::hours(1)))
            if (co_await ws.send(*message)) break;
    });
    server.ws("/ws/callbacks", [](Request&, WebSocket ws) {
        ws.on_text([](WebSocket& w, std::string_view text) { w.post("text:" + std::string(text)); });
        ws.on_binary([](WebSocket& w, std::span<const std::byte> bytes) { w.post_binary(bytes); });
    });
    server.ws("/ws/post-echo", [](WebSocket ws) {
        ws.on_message([](WebSocket& self, Message& message) { self.post(std::move(message)); });
    });
    server.get("/ws/push-close", [](Request& req) -> Task<Response> {
        auto ws = co_await req.accept_websocket();
        co_await ws.send("pushed by the server");
        co_return co_await ws.close(CloseCode{4000}, "bye from the server");
    });
    server.ws("/ws/chat", [](WebSocket ws) -> Task<void> {
        while (auto m = co_await ws.receive(std::chrono::hours(1))) co_await ws.send(*m);
    }, WebSocketOptions{.subprotocols = {"chat.v2", "chat.v1"}, .allowed_origins = {"http://allowed.test"}});
    // Every method reaches the handshake here (ws() routes are GET routes, refused with 405 by the router),
    // so the handshake's own refusal of a non-GET upgrade can be tested; a GET upgrades and echoes.
    server.any("/ws/any-method", [](Request& req) -> Task<Response> {
        auto ws = co_await req.accept_websocket();
        while (auto m = co_await ws.receive(std::chrono::hours(1)))
            if (co_await ws.send(*m)) break;
        co_return Response(101);  // never sent: the connection was upgraded
    });
    herald::testing::add_websocket_api_routes(server);
    herald::testing::add_sse_routes(server);
    herald::testing::add_request_routes(server);
    auto api = server.group("/api");
    api.use([](Request& req, Next next) -> Task<Response> {
        if (req.header("X-Token") != "secret") co_return Response::error(401, "missing token");
        Response r = co_await next();
        r.header("X-Middleware", "api");
        co_return r;
    });
    api.get("/data", [](Request&) { return Response::json(R"({"ok":true})"); });
    auto root = text_flag(argc, argv, "--static", "");
    if (!root.empty()) server.get("/static/*", static_files(root));

    std::uint16_t port = 0;
    auto host = text_flag(argc, argv, "--host", "127.0.0.1");
    port = server.listen(host, static_cast<std::uint16_t>(flag(argc, argv, "--port", 0)));
    if (flag(argc, argv, "--ipv6", 0)) server.listen("::1", port);
    std::printf("port %u\n", port);
    std::fflush(stdout);
    server.run();
    std::printf("stopped\n");
    return 0;
}
