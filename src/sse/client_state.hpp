#pragma once
// The inside of an sse::Client: what its handles, its next() waiters and its connection coroutines
// share. Everything here is touched on the client's io_context thread only, except `ready`.
#include <atomic>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include <herald/client/url.hpp>
#include <herald/sse/client.hpp>
#include <herald/sse/parser.hpp>

#include "client/body_decoder.hpp"

namespace herald::sse {

class ClientState : public std::enable_shared_from_this<ClientState> {
public:
    ClientState(asio::io_context& context, Url url, ClientOptions options);

    /// Delivers a parsed event: to on_event when set, else to the queue next() reads.
    void deliver(const ParsedEvent& event);
    /// The stream reopened: ready_state open, on_open.
    void opened();
    /// A connection failed or ended and the client will reconnect: ready_state connecting, on_error.
    void interrupted(const std::string& why);
    /// Stops for good for `reason` (on_error with `why` unless the user closed it).
    void finish(EndReason reason, const std::string& why);
    /// close(): stops for good at once, cancelling whatever the connection coroutines wait for.
    void close_now();
    /// True once the client stopped for good: the coroutines leave at their next step.
    bool stopping() const noexcept { return end != EndReason::none; }
    /// The queue is over options.max_queued_bytes and nobody takes events by callback: stop reading.
    bool queue_full() const noexcept { return !on_event && queued_bytes > options.max_queued_bytes; }
    /// The delay before reconnecting.
    std::chrono::milliseconds retry_delay() const noexcept { return parser.retry().value_or(options.retry); }
    /// Wakes a coroutine parked on `timer` (next(), the paused reader, the reconnection delay).
    static void wake(asio::steady_timer* timer) noexcept;

    asio::io_context& io;
    const Url url;   // as given: every reconnection starts from it, following redirects again
    Url stream_url;  // where the open (or last) stream came from
    const ClientOptions options;
    Parser parser;

    // The current connection, while one is being opened or read. close_now() closes the socket to cancel
    // what waits on it; only the coroutine that opened it destroys it.
    std::optional<asio::ip::tcp::socket> socket;
    std::optional<client::BodyDecoder> body;
    std::string body_start;  // the body bytes that arrived with the response head

    std::atomic<ReadyState> ready{ReadyState::connecting};
    EndReason end = EndReason::none;
    std::string error;

    std::deque<ParsedEvent> queue;
    std::size_t queued_bytes = 0;
    // Coroutines parked on a timer, woken by cancelling it.
    asio::steady_timer* receiver = nullptr;      // next()
    bool receiver_woken = false;                 // set by whoever wakes next(), so a foreign cancel is told apart
    asio::steady_timer* reader_pause = nullptr;  // the reader, while the queue is full
    asio::steady_timer* sleeper = nullptr;       // the reconnection delay

    std::function<void(Client&, const ParsedEvent&)> on_event;
    std::function<void(Client&)> on_open;
    std::function<void(Client&, std::string_view)> on_error;

private:
    void wake_receiver() noexcept;
    template <class F>
    void with_handle(F&& f);
};

}  // namespace herald::sse
