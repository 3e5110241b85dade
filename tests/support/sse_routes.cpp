// Routes that exercise Server-Sent Events for tests/integration/test_sse.py, test_sse_api.py and
// sse_chromium.test.mjs. Every stream route is a coroutine handler unless it says "blocking".
//
//   GET /sse/basic                   named events, ids, retry, multi-line data, a comment, a custom
//                                    field, after append_header("X-Sse-Test", "appended"); then closes
//   GET /sse/last-event-id[?limit=]  one event "last-event-id" with data "[<last_event_id()>]"; closes
//   GET /sse/no-content              204 without opening a stream
//   GET /sse/append-after-send       sends, then append_header() again: the exception's message (or
//                                    "no exception") comes as the event "append-header-error"
//   GET /sse/idle?ms=[&id=][&tag=]   sends "open", wait_for_fail(ms), closes; counts tag as finished
//   GET /sse/open?...                the general stream: id, policy=reject, max_backlog, ping_ms,
//                                    ping_data, tag; sends "registered as <id>", keep_alive(), closes,
//                                    and counts tag as finished once keep_alive() returned
//   GET /sse/ping-method?ms=[&data=] event_source(), then the ping_policy() member (the seed's WithPing)
//   GET /sse/finished?tag=           how many streams of that tag returned from their wait
//   GET /sse/registry/count[?prefix=], /sse/registry/has?id=
//   GET /sse/registry/send?id=&text=         (blocking) get(id), a SyncEventSource send from a worker
//   GET /sse/registry/broadcast?prefix=&text= (blocking) find(starts_with), a send to each; answers
//                                    how many sends succeeded
//   GET /sse/flood?prefix=&n=&size=&pace=    (blocking) n events of `size` bytes to every stream whose
//                                    id starts with prefix: posted to the others, and a blocking send
//                                    to the `pace` stream (so the flood goes at that reader's speed)
//   GET /sse/sync[?ms=]              (blocking) event_source_sync(): two sends, their result as an
//                                    event, wait_for_fail(ms), close
//   GET /sse/browser?tag=[&mode=204] counts requests and records their Last-Event-ID; sends hello
//                                    (echoing the Last-Event-ID), a "news" event and a message with
//                                    ids, retry 200 ms, and closes; with mode=204, requests after the
//                                    first are answered 204
//   GET /sse/requests?tag=           "<count>\n" then each request's Last-Event-ID header, one a line
//   GET /sse/silent?mode=[&id=][&ms=][&tag=]  opens a stream and waits at once, without sending:
//                                    mode keep-alive, wait-for-fail, or wait-for-fail(ms) otherwise
//   GET /sse/fail[?send=1][&mode=return]  event_source(), with send=1 sends "before", then throws
//                                    (mode=return: returns a Response without close() instead)
//   GET /sse/fail-sync[?send=1]      (blocking) the same after event_source_sync(), and throws
//   GET /sse/cancel-unwritten        posts two events, cancel() at once, sends "kept", closes
//   GET /sse/cancel-partial?size=    sends "start", posts three events of `size` bytes, waits 300 ms (the
//                                    loop writes what the socket takes), cancel(), sends "after", closes
//
// Events are named before the co_await that sends them: GCC 12 destroys an aggregate temporary made
// inside a co_await expression twice (docs/websockets.md), so co_await sse.send(sse::Event{...}) crashes.
#include "sse_routes.hpp"

#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

using namespace std::chrono_literals;

namespace herald::testing {
namespace {

struct SseState {
    std::mutex mutex;
    std::map<std::string, int, std::less<>> finished;
    std::map<std::string, std::vector<std::string>, std::less<>> requests;  // Last-Event-ID per request

    void finish(const std::string& tag) {
        if (tag.empty()) return;
        std::lock_guard lock(mutex);
        ++finished[tag];
    }
    int finished_count(const std::string& tag) {
        std::lock_guard lock(mutex);
        auto it = finished.find(tag);
        return it == finished.end() ? 0 : it->second;
    }
};

long number(const Request& req, std::string_view name, long fallback) {
    auto v = req.query(name);
    return v ? std::strtol(v->c_str(), nullptr, 10) : fallback;
}

std::string text(const Request& req, std::string_view name) { return req.query(name).value_or(""); }

Task<void> sleep_for(std::chrono::milliseconds ms) {
    asio::steady_timer timer(co_await asio::this_coro::executor, ms);
    co_await timer.async_wait(asio::use_awaitable);
}

}  // namespace

void add_sse_routes(Server& server) {
    auto state = std::make_shared<SseState>();

    server.get("/sse/basic", [](Request& req) -> Task<Response> {
        auto sse = co_await req.event_source();
        sse.append_header("X-Sse-Test", "appended");
        co_await sse.send("hello");
        const sse::Event news{.event = "news", .data = "first", .id = "1"};
        co_await sse.send(news);
        const sse::Event retry{.retry = 1500ms};
        co_await sse.send(retry);
        const sse::Event mixed_line_ends{.data = "a\rb\nc\r\nd"};
        co_await sse.send(mixed_line_ends);
        const sse::Event multi{.event = "multi", .data = "line 1\nline 2\n", .id = "2"};
        co_await sse.send(multi);
        const sse::Event comment{.comment = "just a comment"};
        co_await sse.send(comment);
        co_await sse.send("custom value\nsecond", "custom");
        const sse::Event bye{.event = "bye", .data = "", .id = "3"};
        co_await sse.send(bye);
        co_return co_await sse.close();
    });

    server.get("/sse/last-event-id", [](Request& req) -> Task<Response> {
        EventSourceOptions options;
        options.max_last_event_id = static_cast<std::size_t>(number(req, "limit", 1024));
        auto sse = co_await req.event_source(options);
        const sse::Event echo{.event = "last-event-id", .data = "[" + std::string(sse.last_event_id()) + "]"};
        co_await sse.send(echo);
        co_return co_await sse.close();
    });

    server.get("/sse/no-content", [](Request&) { return Response(204); });

    server.get("/sse/append-after-send", [](Request& req) -> Task<Response> {
        auto sse = co_await req.event_source();
        sse.append_header("X-Before", "in time");
        co_await sse.send("first");
        std::string outcome = "no exception";
        try {
            sse.append_header("X-After", "too late");
        } catch (const herald::error& e) {
            outcome = e.what();
        }
        const sse::Event outcome_event{.event = "append-header-error", .data = outcome};
        co_await sse.send(outcome_event);
        co_return co_await sse.close();
    });

    server.get("/sse/idle", [state](Request& req) -> Task<Response> {
        auto ms = std::chrono::milliseconds(number(req, "ms", 300));
        auto tag = text(req, "tag");
        auto sse = co_await req.event_source(text(req, "id"));
        co_await sse.send("open");
        co_await sse.wait_for_fail(ms);
        state->finish(tag);
        co_return co_await sse.close();
    });

    server.get("/sse/open", [state](Request& req) -> Task<Response> {
        EventSourceOptions options;
        options.id = text(req, "id");
        if (text(req, "policy") == "reject") options.duplicate_id = DuplicateIdPolicy::reject_new;
        if (auto max = number(req, "max_backlog", 0); max > 0) options.max_backlog_bytes = static_cast<std::size_t>(max);
        if (auto ping = number(req, "ping_ms", 0); ping > 0) {
            EventSourcePing policy;
            policy.interval = std::chrono::milliseconds(ping);
            policy.data = text(req, "ping_data");
            options.ping_policy = policy;
        }
        auto tag = text(req, "tag");
        auto sse = co_await req.event_source(options);
        const sse::Event registered{.event = "registered", .data = "registered as " + std::string(sse.id())};
        co_await sse.send(registered);
        co_await sse.keep_alive();
        state->finish(tag);
        co_return co_await sse.close();
    });

    server.get("/sse/ping-method", [](Request& req) -> Task<Response> {
        auto sse = co_await req.event_source();
        sse.ping_policy({.data = text(req, "data"), .interval = std::chrono::milliseconds(number(req, "ms", 100))});
        co_await sse.keep_alive();
        co_return co_await sse.close();
    });

    server.get("/sse/finished", [state](Request& req) {
        return Response::text(std::to_string(state->finished_count(text(req, "tag"))));
    });

    server.get("/sse/registry/count", [&server](Request& req) {
        auto prefix = text(req, "prefix");
        auto found = server.event_sources().find([&](std::string_view id) { return id.starts_with(prefix); });
        return Response::text(std::to_string(prefix.empty() ? server.event_sources().count() : found.size()));
    });

    server.get("/sse/registry/has", [&server](Request& req) {
        auto found = server.event_sources().get(text(req, "id"));
        return Response::text(found && found->is_active() ? "1" : "0");
    });

    server.get_blocking("/sse/registry/send", [&server](Request& req) {
        auto found = server.event_sources().get(text(req, "id"));
        if (!found) return Response::error(404, "no such event stream");
        SyncEventSource sync(*found);
        const bool sent = sync.send(sse::Event{.event = "direct", .data = text(req, "text")});
        return Response::text(sent ? "sent" : "failed");
    });

    server.get_blocking("/sse/registry/broadcast", [&server](Request& req) {
        auto prefix = text(req, "prefix");
        auto targets = server.event_sources().find([&](std::string_view id) { return id.starts_with(prefix); });
        int sent = 0;
        for (auto& target : targets) sent += SyncEventSource(target).send(sse::Event{.event = "broadcast", .data = text(req, "text")}) ? 1 : 0;
        return Response::text(std::to_string(sent));
    });

    server.get_blocking("/sse/flood", [&server](Request& req) {
        auto prefix = text(req, "prefix");
        auto pace = text(req, "pace");
        const long n = number(req, "n", 64);
        const auto size = static_cast<std::size_t>(number(req, "size", 65536));
        auto targets = server.event_sources().find([&](std::string_view id) { return id.starts_with(prefix); });
        long paced = 0;
        long posted = 0;
        for (long i = 0; i < n; ++i) {
            sse::Event event{.event = "flood", .data = std::string(size, static_cast<char>('a' + i % 26)),
                             .id = std::to_string(i)};
            for (auto& target : targets) {
                if (target.id() == pace)
                    paced += SyncEventSource(target).send(event) ? 1 : 0;
                else
                    posted += target.post(event) ? 1 : 0;
            }
        }
        return Response::text("targets " + std::to_string(targets.size()) + " paced " + std::to_string(paced) +
                              " posted " + std::to_string(posted));
    });

    server.get_blocking("/sse/sync", [](Request& req) {
        const auto ms = std::chrono::milliseconds(number(req, "ms", 200));
        auto sse = req.event_source_sync();
        const bool first = sse.send("sync hello");
        const bool second = sse.send(sse::Event{.event = "sync", .data = "second", .id = "s2"});
        sse.send(sse::Event{.event = "sent", .data = first && second ? "both" : "not both"});
        sse.wait_for_fail(ms);
        return sse.close();
    });

    server.get("/sse/browser", [state](Request& req) -> Task<Response> {
        auto tag = text(req, "tag");
        std::size_t n = 0;
        {
            std::lock_guard lock(state->mutex);
            auto& seen = state->requests[tag];
            seen.push_back(std::string(req.header("Last-Event-ID").value_or("(none)")));
            n = seen.size();
        }
        if (text(req, "mode") == "204" && n > 1) co_return Response(204);
        const auto k = std::to_string(n);
        auto sse = co_await req.event_source();
        const sse::Event hello{.event = "hello",
                                     .data = "request " + k + " last-event-id [" + std::string(sse.last_event_id()) + "]",
                                     .retry = 200ms};
        co_await sse.send(hello);
        const sse::Event news{.event = "news", .data = "news " + k, .id = tag + "-" + k + "-1"};
        co_await sse.send(news);
        const sse::Event plain{.data = "plain " + k, .id = tag + "-" + k + "-2"};
        co_await sse.send(plain);
        co_return co_await sse.close();
    });

    server.get("/sse/silent", [state](Request& req) -> Task<Response> {
        const auto mode = text(req, "mode");
        const auto tag = text(req, "tag");
        auto sse = co_await req.event_source(text(req, "id"));
        if (mode == "keep-alive")
            co_await sse.keep_alive();
        else if (mode == "wait-for-fail")
            co_await sse.wait_for_fail();
        else
            co_await sse.wait_for_fail(std::chrono::milliseconds(number(req, "ms", 5000)));
        state->finish(tag);
        co_return co_await sse.close();
    });

    server.get_blocking("/sse/fail-sync", [](Request& req) -> Response {
        auto sse = req.event_source_sync();
        if (text(req, "send") == "1") sse.send("before");
        throw std::runtime_error("the handler failed after event_source_sync()");
    });

    server.get("/sse/fail", [](Request& req) -> Task<Response> {
        auto sse = co_await req.event_source();
        if (text(req, "send") == "1") co_await sse.send("before");
        if (text(req, "mode") == "return") co_return Response(200);
        throw std::runtime_error("the handler failed after event_source()");
    });

    server.get("/sse/cancel-unwritten", [](Request& req) -> Task<Response> {
        auto sse = co_await req.event_source();
        sse.post("dropped 1");
        sse.post("dropped 2");
        sse.cancel();
        co_await sse.send("kept");
        co_return co_await sse.close();
    });

    server.get("/sse/cancel-partial", [](Request& req) -> Task<Response> {
        const auto size = static_cast<std::size_t>(number(req, "size", 8 << 20));
        EventSourceOptions options;
        options.max_backlog_bytes = 8 * size;  // the events wait for the client: no drop
        auto sse = co_await req.event_source(options);
        co_await sse.send("start");
        for (int i = 0; i < 3; ++i)
            sse.post(sse::Event{.event = "big", .data = std::string(size, static_cast<char>('a' + i)), .id = std::to_string(i)});
        co_await sleep_for(300ms);
        sse.cancel();
        const sse::Event after{.event = "after-cancel", .data = "after"};
        co_await sse.send(after);
        co_return co_await sse.close();
    });

    server.get("/sse/requests", [state](Request& req) {
        std::lock_guard lock(state->mutex);
        auto it = state->requests.find(text(req, "tag"));
        std::string out = std::to_string(it == state->requests.end() ? 0 : it->second.size()) + "\n";
        if (it != state->requests.end())
            for (const auto& id : it->second) out += id + "\n";
        return Response::text(out);
    });
}

}  // namespace herald::testing
