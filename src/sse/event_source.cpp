// The EventSource handle, and turning a request into an event stream.
#include <herald/sse/event_source.hpp>

#include <algorithm>
#include <utility>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/use_awaitable.hpp>

#include <herald/http/http_error.hpp>
#include <herald/http/request.hpp>

#include "http/connection.hpp"
#include "net/on_loop.hpp"
#include "server_impl.hpp"
#include "sse/stream.hpp"

namespace herald {
namespace {

using sse::Stream;
using Bytes = std::shared_ptr<const std::string>;

// Coroutines here take only handles and shared bytes, which are alive wherever they resume.
Task<std::error_code> send_bytes(std::shared_ptr<Stream> s, Bytes bytes) {
    if (!s) co_return std::make_error_code(std::errc::not_connected);
    if (!s->loop().context().get_executor().running_in_this_thread())
        co_return co_await asio::co_spawn(s->loop().context(), send_bytes(s, bytes), asio::use_awaitable);
    if (!s->queue(*bytes)) co_return std::make_error_code(std::errc::not_connected);
    co_return co_await s->wait_written(s->queued_total());
}

Task<void> wait_ended(std::shared_ptr<Stream> s, std::optional<std::chrono::milliseconds> idle) {
    if (!s) co_return;
    if (!s->loop().context().get_executor().running_in_this_thread()) {
        co_await asio::co_spawn(s->loop().context(), wait_ended(s, idle), asio::use_awaitable);
        co_return;
    }
    co_await s->wait_ended(idle);
}

Task<void> end_stream(std::shared_ptr<Stream> s) {
    if (!s) co_return;
    if (!s->loop().context().get_executor().running_in_this_thread()) {
        co_await asio::co_spawn(s->loop().context(), end_stream(s), asio::use_awaitable);
        co_return;
    }
    const auto target = (s->end(), s->queued_total());
    co_await s->wait_written(target);
}

// Encodes on the calling thread, so a bad event name or id throws where the mistake was made.
Bytes encoded(const sse::Event& event) {
    auto bytes = std::make_shared<std::string>();
    sse::encode(event, *bytes);
    return bytes;
}

Bytes encoded_data(std::string_view data) { return encoded(sse::Event{.data = std::string(data)}); }

// Held by the handler's handles only (never the registry's): a handler that returns or throws without
// closing its stream must not leave the client connected to a stream nobody will ever write or end.
struct HandlerLease {
    std::shared_ptr<Stream> stream;
    explicit HandlerLease(std::shared_ptr<Stream> s) noexcept : stream(std::move(s)) {}
    HandlerLease(const HandlerLease&) = delete;
    HandlerLease& operator=(const HandlerLease&) = delete;
    ~HandlerLease() {
        // A stream already over needs nothing, and its loop may be shutting down.
        if (!stream->active()) return;
        auto& loop = stream->loop();  // before the move below: argument order is unspecified
        net::run_on_loop(loop, [s = std::move(stream)] { s->end(); });
    }
};

}  // namespace

EventSource EventSource::owning(std::shared_ptr<sse::Stream> stream) {
    EventSource source(stream);
    source.owner_ = std::make_shared<HandlerLease>(std::move(stream));
    return source;
}

Task<std::error_code> EventSource::send(std::string_view data) { return send_bytes(stream_, encoded_data(data)); }

Task<std::error_code> EventSource::send(const sse::Event& event) { return send_bytes(stream_, encoded(event)); }

Task<std::error_code> EventSource::send(std::string_view value, std::string_view field) {
    auto bytes = std::make_shared<std::string>();
    sse::encode_field(field, value, *bytes);
    return send_bytes(stream_, std::move(bytes));
}

bool EventSource::post(std::string_view data) { return post(sse::Event{.data = std::string(data)}); }

bool EventSource::post(const sse::Event& event) { return stream_ && stream_->active() && post_encoded(encoded(event)); }

bool EventSource::post_encoded(std::shared_ptr<const std::string> bytes) {
    auto s = stream_;
    if (!s || !s->active() || !bytes) return false;
    net::run_on_loop(s->loop(), [s, bytes = std::move(bytes)] { s->queue(*bytes); });
    return true;
}

std::size_t EventSourceRegistry::broadcast(const sse::Event& event, const std::function<bool(std::string_view)>& filter) {
    Bytes bytes = encoded(event);
    auto targets = filter ? find(filter) : all();
    // Grouped by loop: one post reaches all of a loop's streams, not one post per stream.
    std::vector<std::pair<net::Loop*, std::vector<EventSource>>> by_loop;
    std::size_t queued = 0;
    for (auto& target : targets) {
        Stream* s = target.stream();
        if (!s->active()) continue;
        ++queued;
        auto it = std::find_if(by_loop.begin(), by_loop.end(), [s](const auto& group) { return group.first == &s->loop(); });
        if (it == by_loop.end()) {
            it = by_loop.emplace(by_loop.end(), &s->loop(), std::vector<EventSource>{});
            it->second.reserve(targets.size());
        }
        it->second.push_back(std::move(target));
    }
    for (auto& [loop, streams] : by_loop)
        net::run_on_loop(*loop, [streams = std::move(streams), bytes] {
            for (const auto& target : streams) target.stream()->queue(*bytes);
        });
    return queued;
}

void EventSource::append_header(std::string_view name, std::string_view value) {
    if (!stream_) throw error("append_header(): no stream behind this EventSource");
    // Headers change the stream's own state: they must be set on its loop, before the first send.
    if (!stream_->loop().context().get_executor().running_in_this_thread())
        throw error("append_header(): call it from the route handler, before the first send");
    stream_->append_header(name, value);
}

Task<Response> EventSource::close() {
    co_await end_stream(stream_);
    co_return Response(200);  // never sent: the stream was the response
}

Task<void> EventSource::wait_for_fail() { return wait_ended(stream_, std::nullopt); }
Task<void> EventSource::wait_for_fail(std::chrono::milliseconds idle) { return wait_ended(stream_, idle); }
Task<void> EventSource::keep_alive() { return wait_ended(stream_, std::nullopt); }

void EventSource::ping_policy(EventSourcePing policy) {
    if (auto s = stream_) net::run_on_loop(s->loop(), [s, p = std::move(policy)] { s->start_ping_policy(p); });
}

void EventSource::cancel() {
    if (auto s = stream_) net::run_on_loop(s->loop(), [s] { s->cancel_queued(); });
}

void EventSource::drop() {
    if (auto s = stream_) net::run_on_loop(s->loop(), [s] { s->drop(); });
}

bool EventSource::is_active() const noexcept { return stream_ && stream_->active(); }
std::string_view EventSource::id() const noexcept { return stream_ ? std::string_view(stream_->id()) : std::string_view{}; }
std::string_view EventSource::last_event_id() const noexcept {
    return stream_ ? std::string_view(stream_->last_event_id()) : std::string_view{};
}
std::uint64_t EventSource::sent_content_length() const noexcept { return stream_ ? stream_->sent_content_length() : 0; }
std::size_t EventSource::buffered_amount() const noexcept { return stream_ ? stream_->buffered_amount() : 0; }

// ---- the request side ----

Task<EventSource> Request::event_source() {
    if (!connection_) throw error("event_source(): the request is not on a live connection");
    co_return co_await event_source(connection_->loop().server().options.event_source);
}

Task<EventSource> Request::event_source(std::string_view id) {
    if (!connection_) throw error("event_source(): the request is not on a live connection");
    EventSourceOptions options = connection_->loop().server().options.event_source;
    options.id = std::string(id);
    co_return co_await event_source(options);
}

Task<EventSource> Request::event_source(const EventSourceOptions& given) {
    EventSourceOptions options = given;
    if (!connection_)
        throw error("event_source(): the request is not on a live connection (use a coroutine handler, once)");
    http::Connection* conn = connection_;
    auto& registry = conn->loop().server().event_sources;
    if (!options.id.empty() && options.duplicate_id == DuplicateIdPolicy::reject_new && registry.get(options.id))
        throw HttpError(Response::error(409, "an event stream with this id is already open"), "duplicate id");
    std::string last_id;
    if (auto h = header("Last-Event-ID"); h && h->size() <= options.max_last_event_id) last_id = std::string(*h);

    connection_ = nullptr;  // one stream per request
    auto detached = conn->detach();
    conn->log_response(*this, 200);
    auto stream = std::make_shared<sse::Stream>(conn->loop(), std::move(detached.socket), std::move(options),
                                                std::move(last_id));
    EventSource source(stream);  // the registry's handle: it does not keep the stream open
    if (method() == Method::head) stream->head_only();
    stream->start(std::move(detached.output));
    if (!stream->id().empty()) {
        std::optional<EventSource> replaced;
        const bool replace = stream->options().duplicate_id == DuplicateIdPolicy::replace_old;
        if (!registry.add(stream->id(), source, replace, replaced)) {
            stream->drop();
            throw HttpError(Response::error(409, "an event stream with this id is already open"), "duplicate id");
        }
        if (replaced) replaced->drop();
    }
    co_return EventSource::owning(std::move(stream));
}

SyncEventSource Request::event_source_sync() {
    if (!connection_) throw error("event_source_sync(): the request is not on a live connection");
    return SyncEventSource(net::wait_on_loop(connection_->loop(), event_source()));
}

SyncEventSource Request::event_source_sync(std::string_view id) {
    if (!connection_) throw error("event_source_sync(): the request is not on a live connection");
    return SyncEventSource(net::wait_on_loop(connection_->loop(), event_source(std::string(id))));
}

SyncEventSource Request::event_source_sync(const EventSourceOptions& options) {
    if (!connection_) throw error("event_source_sync(): the request is not on a live connection");
    return SyncEventSource(net::wait_on_loop(connection_->loop(), event_source(options)));
}

namespace {
// append_header() must run on the stream's loop; its error (head already sent) comes back to the caller.
Task<void> append_header_on_loop(std::shared_ptr<Stream> s, std::shared_ptr<const std::pair<std::string, std::string>> h) {
    s->append_header(h->first, h->second);
    co_return;
}
}  // namespace

void SyncEventSource::append_header(std::string_view name, std::string_view value) {
    auto* stream = source_.stream();
    if (!stream) throw error("append_header(): no stream behind this SyncEventSource");
    auto header = std::make_shared<const std::pair<std::string, std::string>>(std::string(name), std::string(value));
    net::wait_on_loop(stream->loop(), append_header_on_loop(stream->shared_from_this(), header));
}

bool SyncEventSource::send(std::string_view data) {
    return source_ && !net::wait_on_loop(source_.stream()->loop(), source_.send(data));
}

bool SyncEventSource::send(const sse::Event& event) {
    return source_ && !net::wait_on_loop(source_.stream()->loop(), source_.send(event));
}

void SyncEventSource::wait_for_fail() {
    if (source_) net::wait_on_loop(source_.stream()->loop(), source_.wait_for_fail());
}

void SyncEventSource::wait_for_fail(std::chrono::milliseconds idle) {
    if (source_) net::wait_on_loop(source_.stream()->loop(), source_.wait_for_fail(idle));
}

void SyncEventSource::keep_alive() {
    if (source_) net::wait_on_loop(source_.stream()->loop(), source_.keep_alive());
}

Response SyncEventSource::close() {
    if (source_) net::wait_on_loop(source_.stream()->loop(), source_.close());
    return Response(200);
}

}  // namespace herald
