// The WebSocket handle: every call is forwarded to the session on its own loop.
#include <herald/websocket/websocket.hpp>

#include <asio/co_spawn.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>

#include <herald/error.hpp>

#include "net/reactor.hpp"
#include "net/on_loop.hpp"
#include "websocket/session.hpp"

namespace herald {
namespace {

using websocket::Opcode;
using websocket::Session;

template <class F>
void run_on_loop(const std::shared_ptr<Session>& s, F f) {
    net::run_on_loop(s->loop(), std::move(f));
}

// Coroutines below take only handles and values that are cheap to copy: the payload is owned by a
// shared string, so it is alive wherever and whenever the coroutine resumes.
using Payload = std::shared_ptr<const std::string>;

Task<std::error_code> send_message(std::shared_ptr<Session> s, Opcode opcode, Payload payload) {
    if (!s) co_return std::make_error_code(std::errc::not_connected);
    if (!s->on_loop_thread())
        co_return co_await asio::co_spawn(s->loop().context(), send_message(s, opcode, payload), asio::use_awaitable);
    if (const auto e = s->queue_shared_message(opcode, payload); e != std::errc{}) co_return std::make_error_code(e);
    co_return co_await s->wait_written(s->queued_total());
}


Task<std::optional<Message>> receive_message(std::shared_ptr<Session> s, std::chrono::milliseconds timeout) {
    if (!s) co_return std::nullopt;
    if (!s->on_loop_thread())
        co_return co_await asio::co_spawn(s->loop().context(), receive_message(s, timeout), asio::use_awaitable);
    co_return co_await s->receive(timeout);
}

Task<void> close_session(std::shared_ptr<Session> s, CloseCode code, Payload reason) {
    if (!s) co_return;
    if (!s->on_loop_thread()) {
        co_await asio::co_spawn(s->loop().context(), close_session(s, code, reason), asio::use_awaitable);
        co_return;
    }
    s->start_close(code, *reason);
    co_await s->wait_close_handshake(code);
}

Task<void> wait_session_closed(std::shared_ptr<Session> s, std::optional<std::chrono::milliseconds> idle) {
    if (!s) co_return;
    if (!s->on_loop_thread()) {
        co_await asio::co_spawn(s->loop().context(), wait_session_closed(s, idle), asio::use_awaitable);
        co_return;
    }
    co_await s->wait_for_close(idle);
}

// Codes such as 1005 or 1006 describe a closure but may not be sent: refuse them where they are asked for.
void check_sendable(CloseCode code) {
    const auto value = static_cast<std::uint16_t>(code);
    if (code != CloseCode::no_status && !websocket::is_valid_wire_close_code(value))
        throw error("close code " + std::to_string(value) + " may not be sent in a Close frame");
}

Payload payload_of(std::string_view text) { return std::make_shared<const std::string>(text); }
Payload payload_of(std::span<const std::byte> bytes) {
    return std::make_shared<const std::string>(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

}  // namespace

Task<std::optional<Message>> WebSocket::receive() {
    return receive_message(session_, session_ ? session_->options().receive_timeout : std::chrono::milliseconds{0});
}

Task<std::optional<Message>> WebSocket::receive(std::chrono::milliseconds timeout) {
    return receive_message(session_, timeout);
}

Task<std::error_code> WebSocket::send(std::string_view text) {
    return send_message(session_, Opcode::text, payload_of(text));
}

Task<std::error_code> WebSocket::send(const Message& message) {
    return send_message(session_, message.is_text() ? Opcode::text : Opcode::binary, payload_of(message.text()));
}

Task<std::error_code> WebSocket::send(std::span<const std::byte> bytes) {
    return send_message(session_, Opcode::binary, payload_of(bytes));
}

// On the connection's own loop a post is queued at once, without a shared copy of the payload.
[[gnu::noinline]] static bool post_queued(const std::shared_ptr<Session>& s, Opcode opcode, std::string_view payload) {
    if (!s || s->state() != WebSocketState::open) return false;
    if (s->on_loop_thread()) return s->queue_message(opcode, payload) == std::errc{};
    auto shared = std::make_shared<const std::string>(payload);
    asio::post(s->loop().context(), [s, opcode, shared] { s->queue_message(opcode, *shared); });
    return true;
}

// Inline where it is called, the usual small reply needs no call nor stack frame of its own (an echo
// callback then costs its dispatch and this); anything else takes post_queued(), a tail call.
[[gnu::always_inline]] static inline bool post_view(const std::shared_ptr<Session>& s, Opcode opcode, std::string_view payload) {
    if (s && s->state() == WebSocketState::open && s->try_queue_small(opcode, payload)) return true;
    return post_queued(s, opcode, payload);
}

bool WebSocket::post(std::string_view text) { return post_view(session_, Opcode::text, text); }

// A large message is written from where it lies, not copied. Out of line: kept out of post(Message&&),
// the small messages' path stays small enough to be inlined where an echo calls it.
[[gnu::noinline]] static bool post_large(const std::shared_ptr<Session>& s, Opcode opcode, Message&& message) {
    if (!s || s->state() != WebSocketState::open) return false;
    if (s->on_loop_thread()) {
        // Echoing the message a callback was just handed: written from the read buffer.
        if (const auto e = s->queue_borrowed_message(message)) return *e == std::errc{};
        return s->queue_shared_message(opcode, Session::share_payload(message.release())) == std::errc{};
    }
    auto payload = Session::share_payload(message.release());
    asio::post(s->loop().context(), [s, opcode, payload] { s->queue_shared_message(opcode, payload); });
    return true;
}

bool WebSocket::post(Message&& message) {
    const auto opcode = message.is_text() ? Opcode::text : Opcode::binary;
    // Small payloads are copied into the output buffer anyway: leave them where they are.
    if (message.size() < Session::share_min_bytes) return post_view(session_, opcode, message.text());
    return post_large(session_, opcode, std::move(message));
}

bool WebSocket::post_binary(std::span<const std::byte> bytes) {
    return post_view(session_, Opcode::binary,
                     std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

Task<Response> WebSocket::close(CloseCode code, std::string_view reason) {
    check_sendable(code);
    co_await close_session(session_, code, payload_of(reason));
    // The connection was upgraded: this response only ends the route handler and is never sent.
    co_return Response(101);
}

Task<void> WebSocket::wait_for_close() { return wait_session_closed(session_, std::nullopt); }

Task<void> WebSocket::wait_for_close(std::chrono::milliseconds idle) { return wait_session_closed(session_, idle); }

void WebSocket::on_text(std::function<void(WebSocket&, std::string_view)> f) {
    if (auto s = session_) run_on_loop(s, [s, f = std::move(f)]() mutable { s->callbacks().on_text = std::move(f); });
}

void WebSocket::on_binary(std::function<void(WebSocket&, std::span<const std::byte>)> f) {
    if (auto s = session_) run_on_loop(s, [s, f = std::move(f)]() mutable { s->callbacks().on_binary = std::move(f); });
}

void WebSocket::on_message(std::function<void(WebSocket&, Message&)> f) {
    if (auto s = session_) run_on_loop(s, [s, f = std::move(f)]() mutable { s->callbacks().on_message = std::move(f); });
}

void WebSocket::on_close(std::function<void(WebSocket&, CloseCode, std::string_view)> f) {
    if (auto s = session_) run_on_loop(s, [s, f = std::move(f)]() mutable { s->callbacks().on_close = std::move(f); });
}

void WebSocket::on_ping(std::function<void(WebSocket&, std::string_view)> f) {
    if (auto s = session_) run_on_loop(s, [s, f = std::move(f)]() mutable { s->callbacks().on_ping = std::move(f); });
}

void WebSocket::on_pong(std::function<void(WebSocket&, std::string_view)> f) {
    if (auto s = session_) run_on_loop(s, [s, f = std::move(f)]() mutable { s->callbacks().on_pong = std::move(f); });
}

WebSocketState WebSocket::state() const noexcept {
    return session_ ? session_->state() : WebSocketState::closed;
}

std::optional<CloseCode> WebSocket::close_code() const noexcept {
    return session_ ? session_->close_code() : std::nullopt;
}

std::string WebSocket::close_reason() const { return session_ ? session_->close_reason() : std::string{}; }

std::string_view WebSocket::subprotocol() const noexcept {
    return session_ ? std::string_view(session_->subprotocol()) : std::string_view{};
}

const asio::ip::tcp::endpoint& WebSocket::remote_endpoint() const noexcept {
    static const asio::ip::tcp::endpoint none;
    return session_ ? session_->remote_endpoint() : none;
}

std::size_t WebSocket::buffered_amount() const noexcept { return session_ ? session_->buffered_amount() : 0; }

std::string_view WebSocket::id() const noexcept { return session_ ? std::string_view(session_->id()) : std::string_view{}; }

const Headers& WebSocket::request_headers() const noexcept {
    static const Headers none;
    return session_ ? session_->request_headers() : none;
}

void WebSocket::ping_policy(PingPolicy policy) {
    if (auto s = session_) run_on_loop(s, [s, p = std::move(policy)]() mutable { s->start_ping_policy(std::move(p)); });
}

void WebSocket::drop(CloseCode code, std::string_view reason) {
    check_sendable(code);
    if (auto s = session_) run_on_loop(s, [s, code, r = std::string(reason)] { s->drop(code, r); });
}

net::Reactor& WebSocket::session_loop() const {
    if (!session_) throw error("no connection behind this WebSocket handle");
    return session_->loop();
}

}  // namespace herald
