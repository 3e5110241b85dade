// herald ws URL: a WebSocket client for the terminal and for pipes (like wscat / websocat).
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <herald/herald.hpp>

#include "client_flags.hpp"
#include "commands.hpp"
#include "stdin_lines.hpp"

namespace herald::cli {
namespace {

struct WsOptions {
    std::string url;
    std::vector<std::string> headers;
    std::vector<std::string> subprotocols;
    unsigned ping_interval_ms = 0;
    unsigned linger_ms = 500;
    bool reconnect = false;
    bool echo = false;
    bool base64 = false;
};

// Exit codes, documented in `herald ws --help`.
constexpr int kExitNormal = 0;       // closing handshake with 1000, 1001 or no code
constexpr int kExitFailed = 1;       // could not connect, or the handshake failed
constexpr int kExitCloseCode = 3;    // closed with another code (printed)
constexpr int kExitLost = 4;         // the connection dropped without a closing handshake

struct WsRun {
    WsOptions options;
    asio::io_context io{1};
    std::optional<StdinLines> input;  // declared after io: stopped and joined before io goes
    int exit_code = kExitNormal;
};

void print_message(const WsOptions& o, const Message& msg) {
    std::string line;
    if (msg.is_text())
        line = msg.text();
    else
        line = o.base64 ? to_base64(msg.bytes()) : to_hex(msg.bytes());
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout);
}

// Replies to the last lines are still on their way when stdin ends: close once the connection has
// been quiet for `linger` (no message either way), so they are printed first.
Task<void> close_when_quiet(WebSocket ws, std::chrono::milliseconds linger) {
    co_await ws.wait_for_close(linger);
}

// Each stdin line is handed to the loop, which queues it in order; the end of input starts the closing
// handshake.
void read_stdin(WsRun& run, WebSocket ws, std::chrono::milliseconds linger) {
    asio::io_context& io = run.io;
    run.input.emplace([&io, ws](std::string line) { asio::post(io, [ws, line = std::move(line)]() mutable { ws.post(line); }); },
                      [&io, ws, linger] { asio::co_spawn(io, close_when_quiet(ws, linger), asio::detached); });
}

int exit_code_for(const WebSocket& ws) {
    const auto code = ws.close_code().value_or(CloseCode::abnormal);
    if (code == CloseCode::normal || code == CloseCode::going_away || code == CloseCode::no_status) return kExitNormal;
    if (code == CloseCode::abnormal) {
        std::fprintf(stderr, "herald ws: connection lost without a closing handshake\n");
        return kExitLost;
    }
    std::fprintf(stderr, "herald ws: closed with %d %s\n", static_cast<int>(code), ws.close_reason().c_str());
    return kExitCloseCode;
}

websocket::ConnectOptions connect_options(const WsOptions& o) {
    websocket::ConnectOptions options{.subprotocols = o.subprotocols, .headers = parse_header_flags(o.headers)};
    options.websocket.keepalive_interval = std::chrono::milliseconds(o.ping_interval_ms);
    return options;
}

Task<void> session(std::shared_ptr<WsRun> run) {
    const WsOptions& o = run->options;
    const websocket::ConnectOptions options = connect_options(o);
    WebSocket ws;
    std::string failure;
    try {
        ws = co_await websocket::connect(o.url, options);
    } catch (const std::exception& e) {
        failure = e.what();
    }
    if (!failure.empty()) {
        std::fprintf(stderr, "herald ws: %s\n", failure.c_str());
        run->exit_code = kExitFailed;
        co_return;
    }
    if (!o.echo) read_stdin(*run, ws, std::chrono::milliseconds(o.linger_ms));
    while (auto msg = co_await ws.receive(std::chrono::milliseconds::max())) {
        if (o.echo)
            co_await ws.send(*msg);
        else
            print_message(o, *msg);
    }
    run->exit_code = exit_code_for(ws);
}

// --reconnect: lines wait in the client's queue while it is disconnected; the end of stdin (and a quiet
// `linger`) ends the program, the server's close does not.
int run_reconnecting(const WsOptions& o) {
    asio::io_context io{1};
    websocket::ReconnectOptions options{.connect = connect_options(o)};
    websocket::ReconnectingWebSocket ws(io.get_executor(), o.url, options);
    auto last_activity = std::chrono::steady_clock::now();
    ws.on_message([&](const Message& msg) {
        last_activity = std::chrono::steady_clock::now();
        if (o.echo && msg.is_text())
            ws.send(std::string(msg.text()));
        else if (o.echo)
            ws.send_binary(std::string(msg.text()));
        else
            print_message(o, msg);
    });
    ws.on_state([&](websocket::ConnectionState s) {
        std::fprintf(stderr, "herald ws: %s\n", std::string(to_string(s)).c_str());
    });
    asio::steady_timer quiet(io);
    std::function<void()> stop_when_quiet = [&] {
        const auto linger = std::chrono::milliseconds(o.linger_ms);
        if (std::chrono::steady_clock::now() - last_activity >= linger) {
            ws.stop();
            return;
        }
        quiet.expires_after(linger);
        quiet.async_wait([&](std::error_code ec) {
            if (!ec) stop_when_quiet();
        });
    };
    std::optional<StdinLines> input;  // declared last: stopped and joined before what it uses goes
    if (!o.echo) {
        input.emplace(
            [&ws](std::string line) {
                if (!ws.send(line)) std::fprintf(stderr, "herald ws: send queue full, line dropped\n");
            },
            [&] {
                asio::post(io, [&] {
                    last_activity = std::chrono::steady_clock::now();
                    stop_when_quiet();
                });
            });
    }
    ws.start();
    while (ws.state() != websocket::ConnectionState::closed && io.run_one() > 0) {
    }
    return kExitNormal;
}

int run_ws(const WsOptions& o) {
    if (o.reconnect) return run_reconnecting(o);
    auto run = std::make_shared<WsRun>();
    run->options = o;
    run_session(run->io, session(run));
    return run->exit_code;
}

}  // namespace

Action add_ws(CLI::App& app) {
    auto o = std::make_shared<WsOptions>();
    auto* cmd = app.add_subcommand("ws", "WebSocket client: stdin lines are sent as text, messages received are printed");
    cmd->footer(
        "Binary messages print as hex (or base64). Exit codes: 0 closed normally (1000, 1001, no code), "
        "1 could not connect, 3 closed with another code, 4 connection lost.");
    cmd->add_option("url", o->url, "ws://host[:port]/path")->required();
    cmd->add_option("-H,--header", o->headers, "Extra request header 'Name: value' (repeatable)");
    cmd->add_option("--subprotocol", o->subprotocols, "Subprotocol to offer (repeatable)");
    cmd->add_option("--ping-interval", o->ping_interval_ms, "Send a Ping frame after this many ms of silence (0: off)");
    cmd->add_option("--linger", o->linger_ms, "After stdin ends, close once no message came for this many ms")
        ->capture_default_str();
    cmd->add_flag("--reconnect", o->reconnect, "Reconnect with backoff when the connection drops; unsent lines wait");
    cmd->add_flag("--echo", o->echo, "Do not read stdin: send every received message back until the peer closes");
    cmd->add_flag("--base64", o->base64, "Print binary messages as base64 instead of hex");
    return [o] { return run_ws(*o); };
}

}  // namespace herald::cli
