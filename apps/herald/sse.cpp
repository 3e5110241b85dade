// herald sse URL: a Server-Sent Events client for the terminal and for pipes (like curl -N, but it
// parses the stream, reconnects with Last-Event-ID and stops where a browser would).
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <asio/io_context.hpp>

#include <herald/herald.hpp>

#include "client_flags.hpp"
#include "commands.hpp"

namespace herald::cli {
namespace {

struct SseOptions {
    std::string url;
    std::vector<std::string> headers;
    std::string last_event_id;
    unsigned retry_ms = 3000;
    unsigned max_redirects = 10;
    unsigned connect_timeout_ms = 10'000;
    bool once = false;
    bool json = false;
};

// Exit codes, documented in `herald sse --help`.
constexpr int kExitNormal = 0;  // --once and the server ended the stream, or it answered 204
constexpr int kExitFailed = 1;  // could not connect, or the answer was not an event stream
constexpr int kExitLost = 4;    // --once and the connection broke instead of ending

struct SseRun {
    SseOptions options;
    asio::io_context io{1};
    int exit_code = kExitNormal;
};

void print_event(const SseOptions& o, const sse::ParsedEvent& e) {
    std::string out;
    if (o.json) {
        out = "{\"event\":" + json_string(e.type) + ",\"data\":" + json_string(e.data) + ",\"id\":" +
              json_string(e.last_event_id) + "}\n";
    } else {
        if (e.type != "message") out += "event: " + e.type + "\n";
        if (!e.last_event_id.empty()) out += "id: " + e.last_event_id + "\n";
        out += e.data + "\n\n";
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
}

int exit_code_for(const sse::Client& client) {
    switch (client.end_reason()) {
        case sse::EndReason::ended:
        case sse::EndReason::closed:
            return kExitNormal;
        case sse::EndReason::no_content:
            std::fprintf(stderr, "herald sse: %s\n", client.error().c_str());
            return kExitNormal;
        case sse::EndReason::lost:
            std::fprintf(stderr, "herald sse: %s\n", client.error().c_str());
            return kExitLost;
        case sse::EndReason::failed:
        case sse::EndReason::none:
            break;
    }
    std::fprintf(stderr, "herald sse: %s\n", client.error().c_str());
    return kExitFailed;
}

Task<void> session(std::shared_ptr<SseRun> run) {
    const SseOptions& o = run->options;
    sse::ClientOptions options{
        .headers = parse_header_flags(o.headers),
        .last_event_id = o.last_event_id,
        .reconnect = !o.once,
        .retry = std::chrono::milliseconds(o.retry_ms),
        .max_redirects = o.max_redirects,
        .connect_timeout = std::chrono::milliseconds(o.connect_timeout_ms),
    };
    sse::Client client;
    std::string failure;
    int status = 0;
    try {
        client = co_await sse::connect(o.url, options);
    } catch (const sse::ConnectError& e) {
        failure = e.what();
        status = e.http_status();
    } catch (const herald::error& e) {
        failure = e.what();
    }
    if (!failure.empty()) {
        std::fprintf(stderr, "herald sse: %s\n", failure.c_str());
        run->exit_code = status == 204 ? kExitNormal : kExitFailed;
        co_return;
    }
    client.on_error([](sse::Client& c, std::string_view why) {
        if (c.ready_state() == sse::ReadyState::connecting)
            std::fprintf(stderr, "herald sse: %.*s; reconnecting in %lld ms\n", static_cast<int>(why.size()), why.data(),
                         static_cast<long long>(c.retry().count()));
    });
    while (auto event = co_await client.next()) print_event(o, *event);
    run->exit_code = exit_code_for(client);
}

int run_sse(const SseOptions& o) {
    auto run = std::make_shared<SseRun>();
    run->options = o;
    run_session(run->io, session(run));
    return run->exit_code;
}

}  // namespace

Action add_sse(CLI::App& app) {
    auto o = std::make_shared<SseOptions>();
    auto* cmd = app.add_subcommand("sse", "Server-Sent Events client: prints every event of an event stream");
    cmd->footer(
        "Output: for each event, 'event: TYPE' (unless it is 'message') and 'id: ID' (when the last event ID is "
        "set), then the data as sent (its lines joined by LF), then a blank line; --json prints one "
        "{\"event\",\"data\",\"id\"} object per line instead. Comments and pings print nothing. Reconnects after "
        "the server's retry delay (notes on stderr) until it answers 204 or an error. Exit codes: 0 the stream "
        "ended with --once, or 204 No Content; 1 could not connect, or the answer was not a 200 text/event-stream; "
        "4 the connection broke with --once.");
    cmd->add_option("url", o->url, "http://host[:port]/path")->required();
    cmd->add_option("-H,--header", o->headers, "Extra request header 'Name: value' (repeatable)");
    cmd->add_option("--last-event-id", o->last_event_id, "Send this Last-Event-ID from the first request (resume a stream)");
    cmd->add_flag("--once", o->once, "Stop at the first disconnect instead of reconnecting");
    cmd->add_flag("--json", o->json, "Print one JSON object per event: {\"event\",\"data\",\"id\"}");
    cmd->add_option("--retry", o->retry_ms, "Reconnection delay in ms until the server sends retry:")->capture_default_str();
    cmd->add_option("--max-redirects", o->max_redirects, "Redirects followed per connection")->capture_default_str();
    cmd->add_option("--connect-timeout", o->connect_timeout_ms, "Connect timeout in ms")->capture_default_str();
    return [o] { return run_sse(*o); };
}

}  // namespace herald::cli
