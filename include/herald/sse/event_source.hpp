#pragma once
// Server-Sent Events on a route (Sisk's event sources, WHATWG "Server-sent events"):
//
//   router.get("/sse", [](Request& req) -> Task<Response> {
//       auto sse = co_await req.event_source("my-index-connection");
//       sse.append_header("Header-Key", "Header-value");    // only before the first send
//       co_await sse.send("Hello, world!");
//       co_await sse.wait_for_fail(15s);                    // ends after 15 s without a send
//       co_return co_await sse.close();
//   });
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include <herald/http/headers.hpp>
#include <herald/http/response.hpp>
#include <herald/registry.hpp>
#include <herald/sse/event.hpp>
#include <herald/task.hpp>
#include <herald/websocket/websocket.hpp>

namespace herald {

namespace sse {
class Stream;
}

/// Keeps a stream alive and finds dead clients: a message at an interval, the first one an interval after
/// the start. A failed write ends the stream.
struct EventSourcePing {
    std::string data{};                         ///< sent as a data event when not empty ...
    std::string comment = "%ping%";             ///< ... else as the comment ": <comment>" (Sisk's default)
    std::chrono::milliseconds interval{5'000};  ///< how often
};

/// Settings of one event stream; the server's defaults are ServerOptions::event_source.
struct EventSourceOptions {
    std::string id{};                            ///< non-empty: listed under this id in server.event_sources()
    DuplicateIdPolicy duplicate_id = DuplicateIdPolicy::replace_old;
    std::size_t max_backlog_bytes = 1 << 20;     ///< a client that stops reading is dropped past this
    std::optional<EventSourcePing> ping_policy{};///< started with the stream
    std::size_t max_last_event_id = 1024;        ///< longer Last-Event-ID values are ignored
    Headers headers{};                           ///< extra response fields (append_header() adds more)
};

/// A cheap, copyable handle to one event stream. Every member is safe from any thread; after the
/// client is gone, sends report failure and nothing else happens. The handle a route handler gets from
/// req.event_source() (and its copies) owns the stream: when the last of them is gone, because the
/// handler returned or threw, the stream ends (what is queued is written first).
class EventSource {
public:
    EventSource() = default;
    explicit EventSource(std::shared_ptr<sse::Stream> stream) noexcept : stream_(std::move(stream)) {}

    /// Sends `data` as one event (multi-line data becomes several data lines); completes once written.
    Task<std::error_code> send(std::string_view data);
    /// Sends a full event (event name, data, id, retry, comment). With GCC 12, name the Event first:
    /// `co_await sse.send(sse::Event{...})` hits a compiler bug that destroys the temporary twice.
    Task<std::error_code> send(const sse::Event& event);
    /// Sisk's Send(value, fieldName): one field per event, newlines safe (one line per line).
    Task<std::error_code> send(std::string_view value, std::string_view field);
    /// Queues without waiting; false when the stream has ended.
    bool post(std::string_view data);
    bool post(const sse::Event& event);
    /// Queues an event already encoded with sse::encode (one encoding shared by many streams).
    bool post_encoded(std::shared_ptr<const std::string> encoded);

    /// Adds a response header. Only before the first send: afterwards it throws herald::error.
    void append_header(std::string_view name, std::string_view value);
    /// Ends the stream (the head is sent first if nothing was) and returns the Response for the
    /// handler to return, which is never sent.
    Task<Response> close();
    /// Waits until a send fails or the client leaves.
    Task<void> wait_for_fail();
    /// Same, and also ends the stream once nothing was sent for `idle` (Sisk's WaitForFail(timeout)).
    Task<void> wait_for_fail(std::chrono::milliseconds idle);
    /// Waits until the connection ends (Sisk's KeepAlive()).
    Task<void> keep_alive();
    /// Starts (or replaces) the ping policy.
    void ping_policy(EventSourcePing policy);
    /// Drops events queued and not yet written (Sisk's Cancel()).
    void cancel();
    /// Ends the stream at once, without waiting (the registry's drop_all, a replaced id).
    void drop();

    /// True while the client is connected and the stream has not been closed.
    bool is_active() const noexcept;
    /// The id this stream is registered under ("" when none).
    std::string_view id() const noexcept;
    /// The request's Last-Event-ID (empty when absent or longer than the limit).
    std::string_view last_event_id() const noexcept;
    /// Body bytes sent so far (Sisk's SentContentLength).
    std::uint64_t sent_content_length() const noexcept;
    /// Bytes queued and not yet written.
    std::size_t buffered_amount() const noexcept;
    /// The stream behind the handle (library internal).
    sse::Stream* stream() const noexcept { return stream_.get(); }
    explicit operator bool() const noexcept { return static_cast<bool>(stream_); }
    /// Handles are equal when they refer to the same stream.
    bool operator==(const EventSource& other) const noexcept { return stream_ == other.stream_; }

private:
    friend class Request;  // event_source() makes the handler's owning handle
    /// The handler's handle: ends the stream once this handle and its copies are gone.
    static EventSource owning(std::shared_ptr<sse::Stream> stream);

    std::shared_ptr<sse::Stream> stream_;
    std::shared_ptr<void> owner_;  // shared by the handler's copies; its release ends the stream
};

/// server.event_sources(): identified, live event streams.
class EventSourceRegistry : public Registry<EventSource> {
public:
    /// Sends `event` to every registered stream whose id satisfies `filter` (all when empty), encoding it
    /// once for all of them; returns how many streams it was queued on.
    std::size_t broadcast(const sse::Event& event, const std::function<bool(std::string_view)>& filter = {});
    /// Ends every registered stream.
    void drop_all() {
        for (auto& source : all()) source.drop();
    }
};

/// Blocking access to an event stream, for handlers on the worker pool (blocking routes): Sisk's
/// synchronous Send / WaitForFail / KeepAlive / Close. Never call it on an event loop.
class SyncEventSource {
public:
    explicit SyncEventSource(EventSource source) : source_(std::move(source)) {}
    bool send(std::string_view data);
    bool send(const sse::Event& event);
    /// Adds a response header before the first send; throws herald::error afterwards.
    void append_header(std::string_view name, std::string_view value);
    void wait_for_fail();
    void wait_for_fail(std::chrono::milliseconds idle);
    void keep_alive();
    Response close();
    /// The asynchronous handle.
    EventSource& handle() noexcept { return source_; }

private:
    EventSource source_;
};

}  // namespace herald
