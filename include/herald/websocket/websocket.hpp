#pragma once
// The WebSocket session API (RFC 6455), one handle type for both styles of the seeds:
// coroutines (`co_await ws.receive()`, Sisk) and callbacks (`ws.on_text(...)`, Vapor).
//
//   router.get("/connect", [](Request& req) -> Task<Response> {
//       auto ws = co_await req.accept_websocket();
//       while (auto msg = co_await ws.receive(30s))     // empty on timeout, cancel or close
//           co_await ws.send("Hello!");
//       co_return co_await ws.close();
//   });
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <asio/ip/tcp.hpp>

#include <herald/http/headers.hpp>
#include <herald/http/response.hpp>
#include <herald/registry.hpp>
#include <herald/task.hpp>
#include <herald/websocket/close_code.hpp>

namespace herald {

/// Sisk's ping policy: an application-level text message sent at an interval (not a Ping frame), which
/// keeps intermediaries from closing a quiet connection. The first one goes out at once.
struct PingPolicy {
    std::string data = "%ping%";                 ///< the text message sent
    std::chrono::milliseconds interval{5'000};   ///< how often
};

/// What happens when an identified connection registers an id that is already live.
enum class DuplicateIdPolicy : std::uint8_t {
    replace_old,  ///< the older connection is closed (1000, "replaced") and the new one takes the id (Sisk)
    reject_new,   ///< the new handshake is refused with 409
};

/// What happens when a connection's unsent bytes would exceed max_backlog_bytes (a slow reader).
enum class BacklogPolicy : std::uint8_t {
    close_policy_violation,  ///< close with 1008
    close_try_again_later,   ///< close with 1013
    drop_message,            ///< drop the message that does not fit; the connection stays
};

/// Settings of one WebSocket connection, given to accept_websocket() or router.ws(); the server's
/// defaults are ServerOptions::websocket.
struct WebSocketOptions {
    std::vector<std::string> subprotocols{};   ///< supported, in order of preference; the first the client offers wins
    std::vector<std::string> allowed_origins{};///< when not empty, other Origin values get 403 (cross-site hijacking)
    Headers headers{};                         ///< extra fields for the 101 response
    std::size_t max_message_bytes = 16 << 20;  ///< incoming message limit → close 1009
    std::size_t buffer_size = 256 << 10;       ///< outgoing frames up to this size; input read in chunks of it plus 1/64 for frame headers (Sisk: 1024)
    std::chrono::milliseconds receive_timeout{30'000};  ///< receive() without a timeout waits this long (Sisk)
    std::chrono::milliseconds close_timeout{5'000};     ///< wait this long for the peer's Close, then drop TCP
    std::size_t max_backlog_bytes = 64 << 20;  ///< unsent bytes allowed; beyond it backlog_policy applies
    BacklogPolicy backlog_policy = BacklogPolicy::close_policy_violation;
    std::string id{};                          ///< non-empty: listed under this id in server.websockets()
    DuplicateIdPolicy duplicate_id = DuplicateIdPolicy::replace_old;
    std::optional<PingPolicy> ping_policy{};   ///< Sisk's data ping, started with the connection
    bool filter_ping_messages = true;          ///< drop incoming messages equal to the ping policy's data
    std::chrono::milliseconds keepalive_interval{0};  ///< send a Ping frame after this much silence; 0: off
    std::chrono::milliseconds keepalive_timeout{10'000};  ///< no frame within interval + this: peer is dead (1006)
};

namespace websocket {
class Session;
}

/// A received message: text (valid UTF-8) or binary.
class Message {
public:
    /// A message of `data`, moved in or copied.
    Message(bool is_text, std::string&& data) noexcept : data_(std::move(data)), text_(is_text) {}
    Message(bool is_text, const std::string& data) : data_(data), text_(is_text) {}
    /// A copy owns its bytes.
    Message(const Message& other) : data_(other.text()), text_(other.text_) {}
    /// A message handed to a callback may still lie in the connection's read buffer (one that came whole
    /// in one read, not copied unless it is kept): moving it copies those bytes, the one allocation a
    /// move can make.
    Message(Message&& other) noexcept : data_(other.take()), text_(other.text_) {}
    Message& operator=(const Message& other) {
        if (this != &other) {
            data_.assign(other.text());
            borrowed_ = {};
            text_ = other.text_;
        }
        return *this;
    }
    Message& operator=(Message&& other) noexcept {
        if (this != &other) {
            data_ = other.take();
            borrowed_ = {};
            text_ = other.text_;
        }
        return *this;
    }
    ~Message() = default;

    bool is_text() const noexcept { return text_; }
    bool is_binary() const noexcept { return !text_; }
    /// The payload as text (for binary messages: the raw bytes).
    std::string_view text() const noexcept { return borrowed_.data() ? borrowed_ : std::string_view(data_); }
    /// The payload as bytes.
    std::span<const std::byte> bytes() const noexcept {
        const std::string_view t = text();
        return {reinterpret_cast<const std::byte*>(t.data()), t.size()};
    }
    std::size_t size() const noexcept { return text().size(); }
    /// Moves the payload out.
    std::string release() noexcept { return take(); }

private:
    friend class websocket::Session;  // assembles messages, and hands callbacks borrowed ones
    // A view of bytes that outlive the message's use (a callback's): never owned.
    Message(bool is_text, std::string_view borrowed) noexcept
        : borrowed_(borrowed.data() ? borrowed : std::string_view("", 0)), text_(is_text) {}
    std::string take() noexcept {
        if (!borrowed_.data()) return std::move(data_);
        std::string copy(borrowed_);
        borrowed_ = {};
        return copy;
    }
    std::string data_;
    std::string_view borrowed_;  // the payload while it lies elsewhere (data() != nullptr), then data_ is empty
    bool text_;
};

/// Where a connection stands.
enum class WebSocketState : std::uint8_t { open, closing, closed };

namespace net {
class Reactor;
}

/// A cheap, copyable handle to one WebSocket connection. Every member is safe from any thread; using a
/// handle after the connection closed is safe too (sends report failure).
class WebSocket {
public:
    WebSocket() = default;
    explicit WebSocket(std::shared_ptr<websocket::Session> session) noexcept : session_(std::move(session)) {}

    /// The next message; empty on close, after options.receive_timeout, or when cancelled.
    Task<std::optional<Message>> receive();
    /// The next message; empty on close, after `timeout`, or when cancelled (Asio cancellation slot).
    Task<std::optional<Message>> receive(std::chrono::milliseconds timeout);

    /// Sends text; completes when the bytes are written (or fails: the connection is gone).
    Task<std::error_code> send(std::string_view text);
    /// Sends a message of the same kind as `message` (echo: text stays text, binary stays binary).
    Task<std::error_code> send(const Message& message);
    /// Sends binary data.
    Task<std::error_code> send(std::span<const std::byte> bytes);
    /// Queues text without waiting; returns false when the connection is closed.
    bool post(std::string_view text);
    /// Queues binary data without waiting; returns false when the connection is closed.
    bool post_binary(std::span<const std::byte> bytes);
    /// Queues a message of the same kind as `message` without waiting, taking its payload: a large one
    /// is written from the message's own buffer without a copy (an echo, from the read buffer it came
    /// in). Returns false when the connection is closed.
    bool post(Message&& message);

    /// Starts the closing handshake with `code` and `reason`, waits for it to finish (or close_timeout),
    /// and returns the Response a route handler returns (Sisk's Close()).
    Task<Response> close(CloseCode code = CloseCode::normal, std::string_view reason = {});
    /// Waits until the connection has closed, by either side.
    Task<void> wait_for_close();
    /// Waits until the connection has closed, or closes it (1000) after `idle` with no message either way.
    Task<void> wait_for_close(std::chrono::milliseconds idle);

    /// Called for every text message (on the connection's loop). Replaces receive() for such messages.
    /// The view is valid during the call. Without on_message(), a message that came in one frame is
    /// passed where it was read, without a copy: the cheapest way to receive.
    void on_text(std::function<void(WebSocket&, std::string_view)> f);
    /// Called for every binary message; as on_text().
    void on_binary(std::function<void(WebSocket&, std::span<const std::byte>)> f);
    /// Called for every message of either kind. The message is the callback's: it may move the payload
    /// out, e.g. to echo it with post(std::move(message)) (a `const Message&` parameter works too).
    void on_message(std::function<void(WebSocket&, Message&)> f);
    /// Called once when the connection closed, with the peer's close code (1006 if it vanished) and reason.
    void on_close(std::function<void(WebSocket&, CloseCode, std::string_view)> f);
    /// Called when a Ping arrives (the Pong is sent automatically).
    void on_ping(std::function<void(WebSocket&, std::string_view)> f);
    /// Called when a Pong arrives.
    void on_pong(std::function<void(WebSocket&, std::string_view)> f);

    WebSocketState state() const noexcept;
    bool is_open() const noexcept { return state() == WebSocketState::open; }
    /// The code the connection closed with: the one in the peer's Close frame when it sent one (also when
    /// it answered ours), ours when the handshake timed out, 1006 when the peer vanished; nullopt while open.
    std::optional<CloseCode> close_code() const noexcept;
    /// The reason that came with close_code().
    std::string close_reason() const;
    /// The negotiated subprotocol ("" when none).
    std::string_view subprotocol() const noexcept;
    const asio::ip::tcp::endpoint& remote_endpoint() const noexcept;
    /// Bytes queued and not yet written.
    std::size_t buffered_amount() const noexcept;
    /// The id this connection is registered under in server.websockets() ("" when none).
    std::string_view id() const noexcept;
    /// The header fields of the upgrade request (server side), or of the server's 101 response (client side).
    const Headers& request_headers() const noexcept;
    /// Starts (or replaces) Sisk's ping policy on this connection.
    void ping_policy(PingPolicy policy);
    /// Closes without waiting for the handshake (the registry's drop_all, server shutdown).
    void drop(CloseCode code = CloseCode::going_away, std::string_view reason = {});
    explicit operator bool() const noexcept { return static_cast<bool>(session_); }
    /// The session behind the handle (library internal).
    websocket::Session* session() const noexcept { return session_.get(); }
    /// The event loop the connection lives on (library internal).
    net::Reactor& session_loop() const;
    /// Handles are equal when they refer to the same connection.
    bool operator==(const WebSocket& other) const noexcept { return session_ == other.session_; }

private:
    std::shared_ptr<websocket::Session> session_;
};

}  // namespace herald

namespace herald {

class Request;

/// server.websockets(): identified WebSocket connections (accept_websocket({.id = "..."})).
class WebSocketRegistry : public Registry<WebSocket> {
public:
    /// Closes every registered connection with `code` (1001 by default).
    void drop_all(CloseCode code = CloseCode::going_away) {
        for (auto& ws : all()) ws.drop(code);
    }
};

/// Blocking access to a WebSocket (Sisk's synchronous API), for handlers that run on the worker pool
/// (`router.get_blocking(...)` or `Route{..., .blocking = true}`); never call it on an event loop.
class SyncWebSocket {
public:
    explicit SyncWebSocket(WebSocket ws) : ws_(std::move(ws)) {}
    /// Sends text and waits until it is written; false once the connection is closed.
    bool send(std::string_view text);
    /// Sends binary data and waits until it is written.
    bool send(std::span<const std::byte> bytes);
    /// The next message; empty after 60 s (Sisk's default), on close or on timeout.
    std::optional<Message> wait_next();
    std::optional<Message> wait_next(std::chrono::milliseconds timeout);
    /// Blocks until the connection closes.
    void wait_for_close();
    /// Blocks until the connection closes, or closes it after `idle` with no message either way.
    void wait_for_close(std::chrono::milliseconds idle);
    /// Closes (handshake included) and returns the Response for the handler to return.
    Response close(CloseCode code = CloseCode::normal, std::string_view reason = {});
    /// The asynchronous handle (callbacks, state, registry id).
    WebSocket& handle() noexcept { return ws_; }

private:
    WebSocket ws_;
};

/// A WebSocket route handler, in any of the seeds' shapes:
/// `Task<void>(WebSocket)` and `Task<void>(Request&, WebSocket)`: the connection is closed (1000) when the
/// coroutine returns, if it is still open; or, callback style, `void(Request&, WebSocket)` / `void(WebSocket)`:
/// the connection outlives the handler and lives on through its callbacks.
class WebSocketHandler {
public:
    WebSocketHandler() = default;
    template <class F>
        requires std::invocable<F&, WebSocket> || std::invocable<F&, Request&, WebSocket>
    WebSocketHandler(F f) {  // NOLINT(google-explicit-constructor): lambdas convert implicitly by design
        if constexpr (std::invocable<F&, Request&, WebSocket>) {
            owns_connection_ = !std::is_void_v<std::invoke_result_t<F&, Request&, WebSocket>>;
            if constexpr (std::is_void_v<std::invoke_result_t<F&, Request&, WebSocket>>)
                fn_ = [f = std::move(f)](Request& req, WebSocket ws) mutable -> Task<void> {
                    f(req, std::move(ws));
                    co_return;
                };
            else
                fn_ = std::move(f);
        } else {
            owns_connection_ = !std::is_void_v<std::invoke_result_t<F&, WebSocket>>;
            if constexpr (std::is_void_v<std::invoke_result_t<F&, WebSocket>>)
                fn_ = [f = std::move(f)](Request&, WebSocket ws) mutable -> Task<void> {
                    f(std::move(ws));
                    co_return;
                };
            else
                fn_ = [f = std::move(f)](Request&, WebSocket ws) mutable -> Task<void> { return f(std::move(ws)); };
        }
    }
    /// Runs the handler on an accepted connection.
    Task<void> operator()(Request& req, WebSocket ws) const { return fn_(req, std::move(ws)); }
    explicit operator bool() const noexcept { return static_cast<bool>(fn_); }
    /// True for coroutine handlers: the connection ends with them.
    bool owns_connection() const noexcept { return owns_connection_; }

private:
    std::function<Task<void>(Request&, WebSocket)> fn_;
    bool owns_connection_ = false;
};

}  // namespace herald
