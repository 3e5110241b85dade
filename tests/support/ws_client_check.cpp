// Drives herald::websocket::connect() against a server under test (ours, python websockets, node ws,
// or a raw fake) and reports what happened on stdout; the integration tests read it.
//
//   ws_client_check echo URL              echo round trips, sizes 0 B to 16 MiB, text and binary, then a burst
//   ws_client_check listen URL            print every message, ping and the close (server-driven scenarios)
//   ws_client_check close URL CODE        close with CODE; print the code the server answered with
//   ws_client_check fail URL [TIMEOUT_MS] expect connect() to fail; print the error and HTTP status
//   ws_client_check vapor URL             the callback-style connect(): send "hello", print the reply
//   ws_client_check subprotocol URL P...  offer subprotocols P...; print the one negotiated
//   ws_client_check requests URL N        N requests through a ReconnectingWebSocket, 32 in flight;
//                                         print "answered N connections C" once every answer is right
// Exit 0 when the scenario went as expected, 1 otherwise (the reason on stderr).
#include <cstdio>
#include <cstring>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <functional>

#include <herald/herald.hpp>

using namespace std::chrono_literals;
using herald::Task;
using herald::WebSocket;

namespace {

int g_exit = 1;

void out(const std::string& line) {
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
}

int fail(const std::string& why) {
    std::fprintf(stderr, "ws_client_check: %s\n", why.c_str());
    return 1;
}

herald::websocket::ConnectOptions big_messages() {
    herald::websocket::ConnectOptions o;
    o.websocket.max_message_bytes = 32 << 20;
    o.websocket.max_backlog_bytes = 256 << 20;
    o.websocket.receive_timeout = 60s;
    return o;
}

std::string payload(std::size_t size, bool text, std::mt19937& rng) {
    std::string s(size, '\0');
    for (auto& c : s) c = text ? static_cast<char>('a' + rng() % 26) : static_cast<char>(rng());
    return s;
}

Task<int> echo(std::string url) {
    const auto options = big_messages();
    auto ws = co_await herald::websocket::connect(url, options);
    std::mt19937 rng(42);
    const std::size_t sizes[] = {0, 1, 125, 126, 127, 65535, 65536, 65537, 1 << 20, 4 << 20, 16 << 20};
    int count = 0;
    for (std::size_t size : sizes) {
        for (bool text : {true, false}) {
            const std::string data = payload(size, text, rng);
            std::error_code ec;
            if (text)
                ec = co_await ws.send(std::string_view(data));
            else
                ec = co_await ws.send(std::span(reinterpret_cast<const std::byte*>(data.data()), data.size()));
            if (ec) co_return fail("send of " + std::to_string(size) + " bytes failed: " + ec.message());
            auto reply = co_await ws.receive(60s);
            if (!reply) co_return fail("no echo for " + std::to_string(size) + " bytes");
            if (reply->is_text() != text) co_return fail("echo of " + std::to_string(size) + " bytes changed kind");
            if (reply->text() != data) co_return fail("echo of " + std::to_string(size) + " bytes differs");
            ++count;
        }
    }
    // A burst queued without waiting: replies come back complete and in order.
    for (int i = 0; i < 1000; ++i) ws.post("burst " + std::to_string(i));
    for (int i = 0; i < 1000; ++i) {
        auto reply = co_await ws.receive(30s);
        if (!reply || reply->text() != "burst " + std::to_string(i)) co_return fail("burst reply " + std::to_string(i) + " wrong");
        ++count;
    }
    co_await ws.close();
    out("echoed " + std::to_string(count) + " messages");
    out("closed " + std::to_string(static_cast<int>(ws.close_code().value_or(herald::CloseCode::abnormal))));
    co_return 0;
}

Task<int> listen(std::string url) {
    auto options = big_messages();
    options.websocket.receive_timeout = 30s;
    auto ws = co_await herald::websocket::connect(url, options);
    ws.on_ping([](WebSocket&, std::string_view data) { out("ping " + std::string(data)); });
    while (auto msg = co_await ws.receive()) {
        if (msg->is_text())
            out("text " + std::to_string(msg->size()) + " " + std::string(msg->text().substr(0, 64)));
        else
            out("binary " + std::to_string(msg->size()));
        if (msg->is_text() && msg->text() == "echo-me") co_await ws.send(std::string_view("echoed"));
    }
    out("closed " + std::to_string(static_cast<int>(ws.close_code().value_or(herald::CloseCode::abnormal))) + " " +
        ws.close_reason());
    co_return 0;
}

Task<int> close_with(std::string url, int code) {
    auto ws = co_await herald::websocket::connect(url);
    co_await ws.close(static_cast<herald::CloseCode>(code), "bye");
    out("closed " + std::to_string(static_cast<int>(ws.close_code().value_or(herald::CloseCode::abnormal))));
    co_return 0;
}

Task<int> expect_failure(std::string url, int timeout_ms) {
    herald::websocket::ConnectOptions options;
    options.connect_timeout = std::chrono::milliseconds(timeout_ms);
    options.handshake_timeout = std::chrono::milliseconds(timeout_ms);
    options.subprotocols = {"chat"};
    std::string error;
    int status = 0;
    try {
        auto ws = co_await herald::websocket::connect(url, options);
    } catch (const herald::websocket::ConnectError& e) {
        error = e.what();
        status = e.http_status();
    }
    if (error.empty()) co_return fail("connect() succeeded");
    out("status " + std::to_string(status));
    out("error " + error);
    co_return 0;
}

Task<int> negotiate(std::string url, std::vector<std::string> offered) {
    herald::websocket::ConnectOptions options{.subprotocols = offered};
    auto ws = co_await herald::websocket::connect(url, options);
    out("subprotocol " + std::string(ws.subprotocol()));
    co_await ws.close();
    co_return 0;
}

Task<void> close_later(WebSocket ws) { co_await ws.close(); }

// Requests "req-1".."req-N", keeping 32 in flight; every answer must be "done req-i".
int requests(asio::io_context& io, const std::string& url, int total) {
    herald::websocket::ReconnectOptions options;
    options.backoff = {.min = 10ms, .max = 200ms};
    herald::websocket::ReconnectingWebSocket ws(io.get_executor(), url, options);
    int sent = 0;
    int answered = 0;
    std::function<void()> send_next = [&] {
        const int i = ++sent;
        ws.request("req-" + std::to_string(i), [&, i](std::error_code ec, std::string_view answer) {
            if (ec) {
                if (ec != std::errc::operation_canceled) fail("request " + std::to_string(i) + ": " + ec.message());
                return;
            }
            if (answer != "done req-" + std::to_string(i)) {
                fail("request " + std::to_string(i) + " answered '" + std::string(answer) + "'");
                ws.stop();
                return;
            }
            if (++answered == total) {
                out("answered " + std::to_string(answered) + " connections " + std::to_string(ws.connections()));
                g_exit = 0;
                ws.stop();
                return;
            }
            if (sent < total) send_next();
        });
    };
    ws.on_state([](herald::websocket::ConnectionState s) { out("state " + std::string(to_string(s))); });
    ws.start();
    for (int i = 0; i < 32 && sent < total; ++i) send_next();
    asio::steady_timer deadline(io, 90s);
    deadline.async_wait([&](std::error_code ec) {
        if (ec) return;
        fail("timed out with " + std::to_string(answered) + " of " + std::to_string(total) + " answered");
        ws.stop();
    });
    while (ws.state() != herald::websocket::ConnectionState::closed && io.run_one() > 0) {
    }
    return g_exit;
}

int vapor(asio::io_context& io, const std::string& url) {
    herald::websocket::connect(url, io.get_executor(), [&io](WebSocket ws) {
        ws.on_text([&io](WebSocket& self, std::string_view text) {
            out("reply " + std::string(text));
            g_exit = 0;
            asio::co_spawn(io, close_later(self), asio::detached);
        });
        ws.post("hello");
    }, [](std::exception_ptr e) {
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            fail(ex.what());
        }
    });
    io.run();
    return g_exit;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) return fail("usage: ws_client_check echo|listen|close|fail|vapor|subprotocol URL ...");
    const std::string mode = argv[1];
    const std::string url = argv[2];
    asio::io_context io(1);
    if (mode == "vapor") return vapor(io, url);
    if (mode == "requests") return requests(io, url, argc > 3 ? std::atoi(argv[3]) : 1000);
    auto task = [&]() -> Task<int> {
        if (mode == "echo") return echo(url);
        if (mode == "listen") return listen(url);
        if (mode == "close") return close_with(url, argc > 3 ? std::atoi(argv[3]) : 1000);
        if (mode == "fail") return expect_failure(url, argc > 3 ? std::atoi(argv[3]) : 5000);
        if (mode == "subprotocol") return negotiate(url, std::vector<std::string>(argv + 3, argv + argc));
        throw herald::error("unknown mode " + mode);
    }();
    asio::co_spawn(io, std::move(task), [](std::exception_ptr e, int code) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                g_exit = fail(ex.what());
                return;
            }
        }
        g_exit = code;
    });
    io.run();
    return g_exit;
}
