#pragma once
// The Server-Sent Events client: a browser's EventSource (WHATWG HTML §9.2) for C++ programs. It asks
// for text/event-stream, follows redirects, reconnects after the server's `retry` delay sending
// Last-Event-ID, and stops for good where a browser does (204, another status, another content type).
//
//   asio::io_context io;
//   asio::co_spawn(io, []() -> herald::Task<void> {
//       auto events = co_await herald::sse::connect("http://127.0.0.1:8080/events");
//       while (auto e = co_await events.next())      // empty once the client stopped for good
//           std::cout << e->type << ": " << e->data << "\n";
//   }, asio::detached);
//   io.run();
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <asio/any_io_executor.hpp>

#include <herald/client/connect_error.hpp>
#include <herald/error.hpp>
#include <herald/http/headers.hpp>
#include <herald/sse/parser.hpp>
#include <herald/task.hpp>

namespace herald::sse {

class ClientState;

/// Settings of one client.
struct ClientOptions {
    Headers headers{};                      ///< extra request fields (Authorization, Cookie, ...)
    std::string last_event_id{};            ///< sent as Last-Event-ID from the first request, until the stream sets an id
    bool reconnect = true;                  ///< false: stop at the first disconnect instead of reconnecting
    std::chrono::milliseconds retry{3'000};  ///< reconnection delay until the server sends a retry field
    std::size_t max_redirects = 10;          ///< redirects followed per connection attempt; one more fails it
    std::chrono::milliseconds connect_timeout{10'000};   ///< name resolution and TCP connect
    std::chrono::milliseconds response_timeout{10'000};  ///< request sent to response head received
    /// No byte (event, comment or ping) for this long: the connection counts as lost. 0: wait forever.
    std::chrono::milliseconds idle_timeout{0};
    std::size_t max_event_bytes = 1 << 20;  ///< one event's size (and a line's); a bigger one fails the client
    /// Events received but not yet taken by next(): past this many bytes the client stops reading (the
    /// server sees TCP backpressure) until next() takes some.
    std::size_t max_queued_bytes = 1 << 20;
};

/// Where a client stands, as EventSource.readyState.
enum class ReadyState : std::uint8_t {
    connecting,  ///< opening the first connection, or waiting to reconnect / reconnecting
    open,        ///< a stream is open: events flow
    closed,      ///< stopped for good: end_reason() says why
};

/// Why a client stopped for good.
enum class EndReason : std::uint8_t {
    none,        ///< it has not stopped
    closed,      ///< close() was called, or the last Client handle was dropped
    no_content,  ///< the server answered 204 No Content: it asks clients not to reconnect
    ended,       ///< the server ended the stream and options.reconnect is false
    lost,        ///< the connection broke (reset, idle timeout, truncated body) and options.reconnect is false
    failed,      ///< another status, another content type, too many redirects, an event too big: error() says why
};

/// Thrown by connect() when the first connection attempt fails: unreachable server, timeout, or an
/// answer that is not an event stream (then http_status() is its status, e.g. 204, 404 or 200).
using ConnectError = herald::ConnectError;

/// A cheap, copyable handle to one client, which runs until close() or until it stops for good, handle or
/// not (as a WebSocket does). Members run on the client's io_context thread, except close() and
/// ready_state(), which are safe from any thread. Callbacks are dropped once it stops.
class Client {
public:
    Client() = default;
    explicit Client(std::shared_ptr<ClientState> state) noexcept : state_(std::move(state)) {}

    /// The next event; empty once the client has stopped for good (and no event is left). One waiter at
    /// a time. Events go to on_event instead when it is set.
    Task<std::optional<ParsedEvent>> next();

    /// Called for every event, on the loop, instead of queuing it for next().
    void on_event(std::function<void(Client&, const ParsedEvent&)> f);
    /// Called when the stream reopens after a disconnect (the first open is connect() completing).
    void on_open(std::function<void(Client&)> f);
    /// Called when a connection fails or ends, with why: then ready_state() is connecting when the client
    /// will reconnect, closed when it stopped for good (not called for close()).
    void on_error(std::function<void(Client&, std::string_view)> f);

    /// Stops for good: drops the connection or the pending reconnection; next() returns empty.
    void close();

    ReadyState ready_state() const noexcept;
    /// Why the client stopped (none while it runs).
    EndReason end_reason() const noexcept;
    /// Why the last connection failed or ended (empty when nothing went wrong yet).
    const std::string& error() const noexcept;
    /// The last event ID: sent as Last-Event-ID when reconnecting.
    const std::string& last_event_id() const noexcept;
    /// The delay before a reconnection: the server's last retry field, or options.retry.
    std::chrono::milliseconds retry() const noexcept;
    /// The URL the open (or last) stream came from, after redirects.
    std::string url() const;

    explicit operator bool() const noexcept { return state_ != nullptr; }

private:
    ClientState& state() const;
    std::shared_ptr<ClientState> state_;
};

/// Opens an event stream at `url` (http://host[:port]/path?query; IPv6 as [addr]) on the calling
/// coroutine's io_context and returns once it is open; events start flowing after the caller's next
/// suspension, so callbacks set right away see every event. Unlike a browser, a first attempt that
/// fails throws ConnectError instead of retrying (or herald::error for a malformed URL, https:// before
/// TLS support, or a header holding CR, LF or NUL).
Task<Client> connect(std::string_view url, ClientOptions options = {});

/// Vapor's style: connects on `executor` (an io_context's) and calls `on_connected` with the open client
/// on its loop before any event is delivered, so callbacks set there see every event. On failure
/// `on_error` gets the exception (without it, the failure is logged).
void connect(std::string_view url, const asio::any_io_executor& executor, std::function<void(Client)> on_connected,
             std::function<void(std::exception_ptr)> on_error = {}, ClientOptions options = {});

}  // namespace herald::sse
