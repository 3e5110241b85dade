// A driver of sse::Client for integration tests (tests/integration/test_sse_client.py): connects in the
// coroutine style (next()) or Vapor's (callbacks), and prints what happens as one JSON object per line:
//   {"kind":"connected","state":"open","url":U}     connect() completed
//   {"kind":"event","type":T,"data":D,"id":I}
//   {"kind":"open","state":S} / {"kind":"error","state":S,"why":W}   the callbacks
//   {"kind":"connect_failed","status":N,"why":W}    connect() threw
//   {"kind":"end","reason":R,"why":W,"last_event_id":I,"retry":MS}  the client stopped for good
// Flags: --style next|vapor, --close-after N (close() after N events, from the loop or the callback),
// --no-reconnect, --retry-ms, --max-redirects, --max-event-bytes, --max-queued-bytes, --idle-timeout-ms,
// --last-event-id, --header 'Name: value' (repeatable), --next-delay-ms (a slow next() loop),
// --deadline-ms (close() then, so a test never hangs).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <herald/herald.hpp>

#include "client_flags.hpp"

using namespace herald;

namespace {

struct Settings {
    std::string url;
    std::string style = "next";
    long close_after = 0;
    long deadline_ms = 20'000;
    long next_delay_ms = 0;  // a slow consumer: wait this long after each event before next()
    sse::ClientOptions options;
};

const char* name(sse::ReadyState s) {
    switch (s) {
        case sse::ReadyState::connecting: return "connecting";
        case sse::ReadyState::open: return "open";
        case sse::ReadyState::closed: return "closed";
    }
    return "?";
}

const char* name(sse::EndReason r) {
    switch (r) {
        case sse::EndReason::none: return "none";
        case sse::EndReason::closed: return "closed";
        case sse::EndReason::no_content: return "no_content";
        case sse::EndReason::ended: return "ended";
        case sse::EndReason::lost: return "lost";
        case sse::EndReason::failed: return "failed";
    }
    return "?";
}

void print(const std::string& line) {
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

using cli::json_string;

void print_event(const sse::ParsedEvent& e) {
    print("{\"kind\":\"event\",\"type\":" + json_string(e.type) + ",\"data\":" + json_string(e.data) +
          ",\"id\":" + json_string(e.last_event_id) + "}");
}

void print_end(const sse::Client& c) {
    print("{\"kind\":\"end\",\"reason\":\"" + std::string(name(c.end_reason())) + "\",\"why\":" + json_string(c.error()) +
          ",\"last_event_id\":" + json_string(c.last_event_id()) + ",\"retry\":" + std::to_string(c.retry().count()) + "}");
}

// Watches a client: callbacks print, the deadline closes it. In Vapor's style nothing loops on next(),
// so the end is printed where the client stops: on_error in state closed, or right after our close().
struct Run {
    Settings settings;
    asio::io_context io{1};
    asio::steady_timer deadline{io};
    long events = 0;
    bool callbacks_only = false;
};

void close_client(const std::shared_ptr<Run>& run, sse::Client& client) {
    client.close();
    if (!run->callbacks_only) return;  // the next() loop prints the end
    print_end(client);
    run->deadline.cancel();
}

void watch(const std::shared_ptr<Run>& run, sse::Client& client) {
    print("{\"kind\":\"connected\",\"state\":\"" + std::string(name(client.ready_state())) + "\",\"url\":" +
          json_string(client.url()) + "}");
    client.on_open([](sse::Client& c) { print("{\"kind\":\"open\",\"state\":\"" + std::string(name(c.ready_state())) + "\"}"); });
    client.on_error([run](sse::Client& c, std::string_view why) {
        print("{\"kind\":\"error\",\"state\":\"" + std::string(name(c.ready_state())) + "\",\"why\":" + json_string(why) + "}");
        if (run->callbacks_only && c.ready_state() == sse::ReadyState::closed) {
            print_end(c);
            run->deadline.cancel();
        }
    });
    run->deadline.expires_after(std::chrono::milliseconds(run->settings.deadline_ms));
    run->deadline.async_wait([run, client](std::error_code ec) mutable {
        if (ec) return;
        print("{\"kind\":\"deadline\"}");
        close_client(run, client);
    });
}

Task<void> next_style(std::shared_ptr<Run> run) {
    sse::Client client;
    std::string failure;
    int status = 0;
    try {
        client = co_await sse::connect(run->settings.url, run->settings.options);
    } catch (const sse::ConnectError& e) {
        failure = e.what();
        status = e.http_status();
    }
    if (!failure.empty()) {
        print("{\"kind\":\"connect_failed\",\"status\":" + std::to_string(status) + ",\"why\":" + json_string(failure) + "}");
        co_return;
    }
    watch(run, client);
    while (auto event = co_await client.next()) {
        print_event(*event);
        if (++run->events == run->settings.close_after) client.close();
        if (run->settings.next_delay_ms > 0) {
            asio::steady_timer pause(run->io, std::chrono::milliseconds(run->settings.next_delay_ms));
            co_await pause.async_wait(asio::use_awaitable);
        }
    }
    print_end(client);
    run->deadline.cancel();
}

void vapor_style(const std::shared_ptr<Run>& run) {
    run->callbacks_only = true;
    sse::connect(
        run->settings.url, run->io.get_executor(),
        [run](sse::Client client) {
            watch(run, client);
            client.on_event([run](sse::Client& c, const sse::ParsedEvent& e) {
                print_event(e);
                if (++run->events == run->settings.close_after) close_client(run, c);
            });
        },
        [](std::exception_ptr e) {
            try {
                std::rethrow_exception(e);
            } catch (const sse::ConnectError& ex) {
                print("{\"kind\":\"connect_failed\",\"status\":" + std::to_string(ex.http_status()) +
                      ",\"why\":" + json_string(ex.what()) + "}");
            }
        },
        run->settings.options);
}

Settings parse(int argc, char** argv) {
    Settings s;
    std::vector<std::string> headers;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "missing value after %s\n", argv[i]);
                std::exit(2);
            }
            return argv[++i];
        };
        auto ms = [&] { return std::chrono::milliseconds(std::stol(value())); };
        if (a == "--style") s.style = value();
        else if (a == "--close-after") s.close_after = std::stol(value());
        else if (a == "--deadline-ms") s.deadline_ms = std::stol(value());
        else if (a == "--next-delay-ms") s.next_delay_ms = std::stol(value());
        else if (a == "--max-queued-bytes") s.options.max_queued_bytes = std::stoul(value());
        else if (a == "--no-reconnect") s.options.reconnect = false;
        else if (a == "--retry-ms") s.options.retry = ms();
        else if (a == "--max-redirects") s.options.max_redirects = std::stoul(value());
        else if (a == "--max-event-bytes") s.options.max_event_bytes = std::stoul(value());
        else if (a == "--idle-timeout-ms") s.options.idle_timeout = ms();
        else if (a == "--last-event-id") s.options.last_event_id = value();
        else if (a == "--header") headers.push_back(value());
        else s.url = std::string(a);
    }
    s.options.headers = cli::parse_header_flags(headers);
    return s;
}

}  // namespace

int main(int argc, char** argv) {
    auto run = std::make_shared<Run>();
    run->settings = parse(argc, argv);
    if (run->settings.style == "vapor")
        vapor_style(run);
    else
        asio::co_spawn(run->io, next_style(run), [](std::exception_ptr e) {
            if (e) std::rethrow_exception(e);
        });
    run->io.run();
    return 0;
}
