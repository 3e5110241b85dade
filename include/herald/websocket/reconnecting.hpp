#pragma once
// A WebSocket client that survives connection loss (seed 003): it reopens the connection with
// exponential backoff and jitter, keeps outgoing messages in a bounded queue while disconnected, and
// resends unanswered requests (dedup.hpp's envelope) after each reconnect, so that with a server-side
// Deduplicator every request takes effect exactly once and every answer arrives.
//
//   herald::websocket::ReconnectingWebSocket ws(io.get_executor(), "ws://127.0.0.1:8080/orders");
//   ws.on_state([](herald::websocket::ConnectionState s) { ... });
//   ws.request("buy 1", [](std::error_code ec, std::string_view answer) { ... });
//   ws.start();
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include <asio/any_io_executor.hpp>

#include <herald/client/backoff.hpp>
#include <herald/websocket/client.hpp>

namespace herald::websocket {

/// Where a reconnecting client stands.
enum class ConnectionState : std::uint8_t {
    connecting,    ///< the first attempt is under way
    open,          ///< connected; queued messages and unanswered requests have been (re)sent
    reconnecting,  ///< the connection was lost or an attempt failed; waiting for the next attempt
    closed,        ///< stopped by stop(), or max_attempts failed attempts in a row
};

/// The name of a state, for logs.
std::string_view to_string(ConnectionState state) noexcept;

/// Settings of a ReconnectingWebSocket.
struct ReconnectOptions {
    ConnectOptions connect{};        ///< each attempt's connect() options
    BackoffPolicy backoff{};         ///< delays between attempts
    unsigned max_attempts = 0;       ///< failed attempts in a row before giving up (closed); 0: never give up
    std::size_t max_queued = 1024;   ///< plain messages kept while disconnected; send() fails beyond it
    std::size_t max_in_flight = 1024;  ///< unanswered requests; request() fails beyond it (≤ the server's window)
    std::string client_id{};         ///< the id requests carry; empty: a random one
};

/// A WebSocket client that reconnects. Construct on an io_context executor; every member may be called
/// from any thread (work is posted to the executor), callbacks run on it.
class ReconnectingWebSocket {
public:
    /// Called with the answer of a request, or with an error: operation_canceled after stop(),
    /// timed_out when the server answered "EXPIRED" (processed, answer lost).
    using AnswerHandler = std::function<void(std::error_code, std::string_view answer)>;

    ReconnectingWebSocket(const asio::any_io_executor& executor, std::string url, ReconnectOptions options = {});
    /// Stops (as stop()) when the last copy goes.
    ~ReconnectingWebSocket();
    ReconnectingWebSocket(const ReconnectingWebSocket&) = delete;
    ReconnectingWebSocket& operator=(const ReconnectingWebSocket&) = delete;

    /// Opens the first connection; reconnects until stop().
    void start();
    /// Closes (1000) and stops reconnecting; pending requests fail with operation_canceled.
    void stop();

    /// Sends text now, or when connected again; false when the queue is full or the client stopped.
    /// A message handed to a connection that then drops may be lost: use request() for what must arrive.
    bool send(std::string text);
    /// Sends binary data, as send().
    bool send_binary(std::string bytes);
    /// Sends a request; `on_answer` gets its answer. Resent after every reconnect until answered.
    /// False (and on_answer not called) when max_in_flight requests are unanswered or the client stopped.
    bool request(std::string payload, AnswerHandler on_answer);

    /// Every message that is not an answer to a request.
    void on_message(std::function<void(const Message&)> f);
    /// Every change of state.
    void on_state(std::function<void(ConnectionState)> f);

    ConnectionState state() const noexcept;
    /// Connections opened so far (1 after the first, 2 after the first reconnect, ...).
    std::uint64_t connections() const noexcept;
    /// Requests sent and not yet answered.
    std::size_t in_flight() const noexcept;
    /// The id this client's requests carry.
    const std::string& client_id() const noexcept;

    class Impl;

private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace herald::websocket
