// sse::Client's handle, its state's transitions and callbacks, next(), and connect(); the connection
// coroutines are in client_stream.cpp.
#include <herald/sse/client.hpp>

#include <asio/co_spawn.hpp>
#include <asio/dispatch.hpp>
#include <asio/post.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>

#include <herald/sse/event.hpp>

#include "client/exchange.hpp"
#include "log.hpp"
#include "sse/client_protocol.hpp"
#include "sse/client_stream.hpp"

namespace herald::sse {
namespace {

constexpr auto kAwait = asio::experimental::as_tuple(asio::use_awaitable);

std::size_t event_bytes(const ParsedEvent& e) noexcept {
    return e.type.size() + e.data.size() + e.last_event_id.size() + sizeof(ParsedEvent);
}

struct ConnectRequest {
    Url url;
    ClientOptions options;
    std::function<void(Client)> before_start;  // Vapor's on_connected: callbacks set before any event
};

Task<Client> open_client(std::shared_ptr<ConnectRequest> req) {
    auto executor = co_await asio::this_coro::executor;
    auto st = std::make_shared<ClientState>(client::io_context_of(executor), req->url, std::move(req->options));
    const Attempt attempt = co_await open_stream(st);
    if (attempt.kind != Attempt::opened) {
        st->ready = ReadyState::closed;
        throw ConnectError(attempt.why, attempt.http_status);
    }
    st->ready = ReadyState::open;
    Client client(st);
    if (req->before_start) req->before_start(client);
    // Spawned, not awaited: the stream is read once this coroutine's caller suspends, so callbacks it
    // sets right after connect() returns see every event.
    asio::co_spawn(executor, run_client(st), [](std::exception_ptr e) {
        if (!e) return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            log().error("SSE client stopped by an exception: {}", ex.what());
        }
    });
    co_return client;
}

Task<std::optional<ParsedEvent>> next_event(std::shared_ptr<ClientState> st) {
    while (st->queue.empty() && st->ready != ReadyState::closed) {
        if (st->receiver) throw herald::error("next(): another next() is already waiting on this SSE client");
        st->receiver_woken = false;
        asio::steady_timer timer(st->io, std::chrono::hours(24));
        st->receiver = &timer;
        co_await timer.async_wait(kAwait);
        st->receiver = nullptr;
        if (!st->receiver_woken && timer.expiry() > asio::steady_timer::clock_type::now())
            co_return std::nullopt;  // cancelled by the caller (an Asio cancellation slot)
    }
    if (st->queue.empty()) co_return std::nullopt;
    ParsedEvent event = std::move(st->queue.front());
    st->queue.pop_front();
    st->queued_bytes -= event_bytes(event);
    if (!st->queue_full()) ClientState::wake(st->reader_pause);
    co_return event;
}

std::shared_ptr<ConnectRequest> make_request(std::string_view url, ClientOptions options,
                                             std::function<void(Client)> before_start) {
    check_request_headers(options.headers);
    if (!is_valid_id(options.last_event_id))
        throw herald::error("last_event_id may not hold CR, LF or NUL");
    return std::make_shared<ConnectRequest>(ConnectRequest{Url::parse(url), std::move(options), std::move(before_start)});
}

}  // namespace

// ---- state ----

ClientState::ClientState(asio::io_context& context, Url url_, ClientOptions options_)
    : io(context), url(std::move(url_)), stream_url(url), options(std::move(options_)), parser(options.max_event_bytes) {
    parser.set_last_event_id(options.last_event_id);
}

void ClientState::wake(asio::steady_timer* timer) noexcept {
    if (timer) timer->cancel();
}

void ClientState::wake_receiver() noexcept {
    receiver_woken = true;
    wake(receiver);
}

template <class F>
void ClientState::with_handle(F&& f) {
    Client client(shared_from_this());
    // A throwing callback must not end the stream: log and go on, as the server's callbacks do.
    try {
        f(client);
    } catch (const std::exception& e) {
        log().warn("SSE client callback threw: {}", e.what());
    }
}

void ClientState::deliver(const ParsedEvent& event) {
    if (stopping()) return;
    if (on_event) {
        with_handle([&](Client& c) { on_event(c, event); });
        return;
    }
    queued_bytes += event_bytes(event);
    queue.push_back(event);
    wake_receiver();
}

void ClientState::opened() {
    ready = ReadyState::open;
    if (on_open) with_handle([&](Client& c) { on_open(c); });
}

void ClientState::interrupted(const std::string& why) {
    ready = ReadyState::connecting;
    error = why;
    if (on_error) with_handle([&](Client& c) { on_error(c, why); });
}

void ClientState::finish(EndReason reason, const std::string& why) {
    if (stopping()) return;
    end = reason;
    ready = ReadyState::closed;
    error = why;
    wake_receiver();
    wake(reader_pause);
    if (on_error && reason != EndReason::closed) with_handle([&](Client& c) { on_error(c, why); });
    // Callbacks often hold a handle, which holds them: drop them to end the cycle, later, because one of
    // them may be running (close() from on_event).
    asio::post(io, [self = shared_from_this()] {
        self->on_event = nullptr;
        self->on_open = nullptr;
        self->on_error = nullptr;
    });
}

void ClientState::close_now() {
    if (stopping()) return;
    // Events still queued are dropped: after close(), as in a browser, nothing more is delivered.
    queue.clear();
    queued_bytes = 0;
    finish(EndReason::closed, {});
    std::error_code ignored;
    if (socket) socket->close(ignored);  // the coroutine reading it wakes with an error and leaves
    wake(sleeper);
}

// ---- handle ----

ClientState& Client::state() const {
    if (!state_) throw herald::error("sse::Client: empty handle");
    return *state_;
}

Task<std::optional<ParsedEvent>> Client::next() {
    state();  // throws for an empty handle
    return next_event(state_);
}

void Client::on_event(std::function<void(Client&, const ParsedEvent&)> f) { state().on_event = std::move(f); }
void Client::on_open(std::function<void(Client&)> f) { state().on_open = std::move(f); }
void Client::on_error(std::function<void(Client&, std::string_view)> f) { state().on_error = std::move(f); }

void Client::close() {
    if (state_) asio::dispatch(state_->io, [st = state_] { st->close_now(); });
}

ReadyState Client::ready_state() const noexcept {
    return state_ ? state_->ready.load() : ReadyState::closed;
}
EndReason Client::end_reason() const noexcept { return state_ ? state_->end : EndReason::none; }
const std::string& Client::error() const noexcept {
    static const std::string none;
    return state_ ? state_->error : none;
}
const std::string& Client::last_event_id() const noexcept {
    static const std::string none;
    return state_ ? state_->parser.last_event_id() : none;
}
std::chrono::milliseconds Client::retry() const noexcept {
    return state_ ? state_->retry_delay() : ClientOptions{}.retry;
}
std::string Client::url() const { return state().stream_url.to_string(); }

// ---- connect ----

Task<Client> connect(std::string_view url, ClientOptions options) {
    return open_client(make_request(url, std::move(options), {}));
}

void connect(std::string_view url, const asio::any_io_executor& executor, std::function<void(Client)> on_connected,
             std::function<void(std::exception_ptr)> on_error, ClientOptions options) {
    asio::co_spawn(executor, open_client(make_request(url, std::move(options), std::move(on_connected))),
                   [on_error = std::move(on_error)](std::exception_ptr e, const Client&) {
                       if (e) client::report_failure(e, on_error);
                   });
}

}  // namespace herald::sse
