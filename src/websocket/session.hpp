#pragma once
// One WebSocket connection after the upgrade: a single reader parsing every frame in the loop's
// buffer, a queue of encoded frames flushed with one gathered write per loop turn, and the closing
// handshake. Lives on one loop; other threads reach it by posting. Its socket leaves Asio for the
// loop's edge-triggered poller (net::Poller) and is read and written with plain system calls.
#include <atomic>
#include <list>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include <herald/websocket/frame.hpp>
#include <herald/websocket/websocket.hpp>

#include "net/deadlines.hpp"
#include "net/loop_member.hpp"
#include "net/output_queue.hpp"
#include "net/poller.hpp"
#include "net/reactor.hpp"

namespace herald::websocket {

// A data frame of this size or more is written in place into its message, grown to size at its header.
inline constexpr std::uint64_t kLargeFrameBytes = 64 * 1024;
// Such a frame with at least this much payload still to come is read straight into the message.
inline constexpr std::uint64_t kDirectReadBytes = 16 * 1024;
// One such read takes at most this much (and grows the message at most this far ahead of its bytes).
inline constexpr std::uint64_t kPayloadReadMax = 256 * 1024;
// Message buffers up to this size are reused by the next message of the same read.
inline constexpr std::size_t kRecycleBytes = 4096;

// What a session keeps of its WebSocketOptions: the handshake's fields (subprotocols, origins,
// headers) are spent by the time it exists, and an idle connection should not carry them. The id
// lives with the subprotocol (Session::Names), which most connections do not have.
struct SessionOptions {
    explicit SessionOptions(const WebSocketOptions& o)
        : max_message_bytes(o.max_message_bytes),
          buffer_size(o.buffer_size),
          max_backlog_bytes(o.max_backlog_bytes),
          receive_timeout(o.receive_timeout),
          close_timeout(o.close_timeout),
          keepalive_interval(o.keepalive_interval),
          keepalive_timeout(o.keepalive_timeout),
          backlog_policy(o.backlog_policy),
          duplicate_id(o.duplicate_id),
          filter_ping_messages(o.filter_ping_messages) {}

    std::size_t max_message_bytes;
    std::size_t buffer_size;
    std::size_t max_backlog_bytes;
    std::chrono::milliseconds receive_timeout;
    std::chrono::milliseconds close_timeout;
    std::chrono::milliseconds keepalive_interval;
    std::chrono::milliseconds keepalive_timeout;
    BacklogPolicy backlog_policy;
    DuplicateIdPolicy duplicate_id;
    bool filter_ping_messages;
};

class Session final : public net::LoopMember, public net::PollClient, public std::enable_shared_from_this<Session> {
public:
    /// A server session (role server) registers under options.id in `registry`; a client session
    /// (role client) masks what it sends and accepts only unmasked frames.
    Session(net::Reactor& loop, asio::ip::tcp::socket socket, WebSocketOptions options, std::string subprotocol,
            Headers request_headers, Role role = Role::server, WebSocketRegistry* registry = nullptr);
    ~Session();

    /// Starts reading; `input` holds bytes that came with the upgrade request, `output` unsent handshake bytes.
    void start(std::string input, std::string output);

    net::Reactor& loop() noexcept { return loop_; }
    bool on_loop_thread() const noexcept { return loop_.poller.dispatching_here() || in_loop_context(); }
    const SessionOptions& options() const noexcept { return options_; }

    // ---- loop thread ----
    /// Encodes and queues one message: errc{} when queued, not_connected once closed, no_buffer_space
    /// when the backlog policy dropped it.
    [[gnu::always_inline]] std::errc queue_message(Opcode opcode, std::string_view payload) {
        return queue_frames(opcode, payload, /*owner=*/nullptr);
    }
    /// The usual small message sent while this loop parses a read (an echo, a reply): encoded into the
    /// output queue's chunk (a new one from the thread's pool when the queue is empty) with no call on
    /// the way, so that the caller needs no stack frame. False, with nothing done, when it needs more
    /// than that; queue_message() then does it all.
    [[gnu::always_inline]] bool try_queue_small(Opcode opcode, std::string_view payload) noexcept {
        const std::size_t n = payload.size();
        if (n > net::OutputQueue::inline_copy_max || !loop_.poller.dispatching_here() || !consuming_) return false;
        if (sending_stopped() || past_backlog(n) || !one_small_frame(n)) return false;
        char* at = out_.try_extend_or_start(small_frame_size(n));
        if (!at) return false;
        encode_small_frame(at, opcode, payload);
        buffered_.store(out_.buffered(), std::memory_order_relaxed);
        last_activity_ = last_received_;  // as queue_frames() within a read
        flush_wanted_ = true;
        return true;
    }
    /// As queue_message() for a message a callback was handed without a copy (it lies in the read
    /// buffer: see queue_planned()). Nothing when `message` owns its bytes (queue it otherwise).
    std::optional<std::errc> queue_borrowed_message(const Message& message);
    /// As queue_message(), but a large payload is written from `payload` itself, not copied.
    std::errc queue_shared_message(Opcode opcode, const std::shared_ptr<const std::string>& payload);
    /// Payloads from this size on are queued by reference (shared) or as buffers of their own.
    static constexpr std::size_t share_min_bytes = 4096;
    /// A received payload made shareable for queue_shared_message(); once written, a large buffer is
    /// kept for reuse by a later message received on the same thread.
    static std::shared_ptr<const std::string> share_payload(std::string payload);
    /// Waits until every byte queued so far up to `target` (a queued_total()) is written.
    Task<std::error_code> wait_written(std::uint64_t target);
    std::uint64_t queued_total() const noexcept { return out_.queued(); }
    Task<std::optional<Message>> receive(std::chrono::milliseconds timeout);
    /// Sends our Close (once), then waits for the peer's or close_timeout.
    void start_close(CloseCode code, std::string_view reason);
    Task<void> wait_close_handshake(CloseCode code);
    Task<void> wait_for_close(std::optional<std::chrono::milliseconds> idle);

    // ---- callbacks (set on the loop thread) ----
    /// One callback behind a pointer: an unset one costs 8 bytes, not a std::function's 32.
    template <class Signature>
    class Slot;
    template <class... Args>
    class Slot<void(Args...)> {
    public:
        Slot& operator=(std::function<void(Args...)> f) {
            fn_ = f ? std::make_unique<std::function<void(Args...)>>(std::move(f)) : nullptr;
            return *this;
        }
        explicit operator bool() const noexcept { return fn_ != nullptr; }
        void operator()(Args... args) const { (*fn_)(std::forward<Args>(args)...); }

    private:
        std::unique_ptr<std::function<void(Args...)>> fn_;
    };
    struct Callbacks {
        Slot<void(WebSocket&, std::string_view)> on_text;
        Slot<void(WebSocket&, std::span<const std::byte>)> on_binary;
        Slot<void(WebSocket&, Message&)> on_message;
        Slot<void(WebSocket&, CloseCode, std::string_view)> on_close;
        Slot<void(WebSocket&, std::string_view)> on_ping;
        Slot<void(WebSocket&, std::string_view)> on_pong;
    };
    /// Created on first use: an idle connection that sets none (a receive() loop) carries none.
    Callbacks& callbacks();

    // ---- any thread ----
    WebSocketState state() const noexcept { return state_.load(std::memory_order_acquire); }
    std::optional<CloseCode> close_code() const;
    std::string close_reason() const;
    const std::string& subprotocol() const noexcept;
    const asio::ip::tcp::endpoint& remote_endpoint() const noexcept { return remote_; }
    std::size_t buffered_amount() const noexcept { return buffered_.load(std::memory_order_relaxed); }

    /// Built on first use from the compact copy kept per connection.
    const Headers& request_headers() const noexcept;
    const std::string& id() const noexcept;
    /// Starts (or replaces) Sisk's data ping (loop thread).
    void start_ping_policy(PingPolicy policy);
    /// Sends a Close and closes TCP once it is written, without waiting for the peer (loop thread).
    void drop(CloseCode code, std::string_view reason);

    void drain() override;
    void close() noexcept override;
    void on_ready(std::uint32_t events) override;
    void on_batch_end() override;

private:
    void read_ready();
    void resume_reading();
    void read_some();
    void consume(char* data, std::size_t size);
    std::size_t recv_into(char* at, std::size_t room);
    void begin_input() noexcept;
    void end_input();
    void parse_frames(char* data, std::size_t size);
    bool is_whole_message(const FrameHeader& h, std::size_t available) const noexcept;
    void take_whole_message(Opcode opcode, const MaskKey* key, std::span<char> payload);
    // Makes room for a data frame's payload; nothing to do for a small one that fits (the usual case).
    void prepare_payload(std::uint64_t length) {
        if (length >= kLargeFrameBytes || incoming_.capacity() - incoming_.size() < length)
            grow_payload(length);
    }
    void grow_payload(std::uint64_t length);
    char* payload_room(std::size_t bytes);
    bool take_payload(std::span<char> piece, bool stored);
    bool wants_payload_read() const noexcept;
    void read_payload();
    void handle_control(std::string_view payload);
    void deliver();
    bool wants_callbacks(bool text) const noexcept;
    void call_callbacks(Message& message);
    // Sisk's ping messages echoed back by clients are keep-alive noise, not application data.
    bool is_ping_echo(bool text, std::string_view bytes) const { return text && rare_ && is_ping_policy_echo(bytes); }
    bool is_ping_policy_echo(std::string_view bytes) const;
    WebSocket& input_handle();
    void call(const Slot<void(WebSocket&, std::string_view)>& callback, std::string_view data);
    void callback_failed(std::string_view what);
    void fail(const ProtocolError& error);
    void send_close(CloseCode code, std::string_view reason);
    void queue_control(Opcode opcode, std::string_view payload);
    FrameHeader with_mask(FrameHeader h) const;
    void finish(CloseCode code, std::string_view reason);
    // Within a read, consume() flushes once all input is parsed; otherwise a flush is posted.
    void schedule_flush() {
        if (consuming_)
            flush_wanted_ = true;
        else
            post_flush();
    }
    void post_flush();
    void flush();
    void flush_if_wanted();
    // One unmasked frame of a payload under share_min_bytes: its size, and its bytes written at `at`.
    [[gnu::always_inline]] static std::size_t small_frame_size(std::size_t payload_size) noexcept {
        return frame_header_size(FrameHeader{.payload_length = payload_size}) + payload_size;
    }
    [[gnu::always_inline]] static void encode_small_frame(char* at, Opcode opcode, std::string_view payload) noexcept {
        const FrameHeader header{.opcode = opcode, .payload_length = payload.size()};
        encode_frame_header(header, at);
        net::OutputQueue::copy(at + frame_header_size(header), payload);
    }
    // Inline, for the usual small message (an echo, a chat line): one frame encoded straight into the
    // queue, without a FragmentPlan (its division) or its loop. `owner`: the large payload pieces are
    // written from it (null: see queue_planned()). Forced, with queue_message(): GCC's own choice flips
    // with each new caller, and an echo then pays a call and its prologue per message.
    [[gnu::always_inline]] std::errc queue_frames(Opcode opcode, std::string_view payload,
                                                  const std::shared_ptr<const std::string>* owner) {
        if (sending_stopped()) return std::errc::not_connected;
        if (over_backlog(payload.size())) return finished_ ? std::errc::not_connected : std::errc::no_buffer_space;
        if (one_small_frame(payload.size())) {
            encode_small_frame(out_.extend(small_frame_size(payload.size())), opcode, payload);
        } else {
            queue_planned(opcode, payload, owner);
        }
        buffered_.store(out_.buffered(), std::memory_order_relaxed);
        // A message sent is activity for wait_for_close(idle): within a read, at the time it began,
        // otherwise at the loop's batch time (a clock read only outside a batch).
        last_activity_ = consuming_ ? last_received_ : loop_.poller.now();
        schedule_flush();
        return {};
    }
    void queue_planned(Opcode opcode, std::string_view payload, const std::shared_ptr<const std::string>* owner);
    bool in_read_buffer(std::string_view bytes) const noexcept;
    bool in_loop_context() const noexcept;
    void wait_writable();
    void close_socket() noexcept;
    void linger_close();
    void discard_input();
    void wake_writers() noexcept;
    void wake_closers() noexcept;
    struct Rare;
    Rare& rare();
    void on_ping_deadline();
    void on_keepalive_deadline();
    // The conditions both send paths check: nothing more may be sent; `bytes` more would pass
    // max_backlog_bytes; a payload of `size` goes out as one frame encoded straight into the queue.
    bool sending_stopped() const noexcept { return close_sent_ || finished_ || transport_dead_; }
    bool past_backlog(std::size_t bytes) const noexcept {
        return buffered_.load(std::memory_order_relaxed) + bytes > options_.max_backlog_bytes;
    }
    bool one_small_frame(std::size_t size) const noexcept {
        return size < share_min_bytes && frame_options_.role == Role::server &&
               (options_.buffer_size == 0 || size <= options_.buffer_size);
    }
    // past_backlog(), with the policy then applied (backlog_full()).
    bool over_backlog(std::size_t bytes) { return past_backlog(bytes) && backlog_full(bytes); }
    bool backlog_full(std::size_t bytes);

    net::Reactor& loop_;
    WebSocketRegistry* registry_;
    int fd_ = -1;  // in the loop's poller, which keeps the session alive, until close_socket()
    asio::ip::tcp::endpoint remote_;
    SessionOptions options_;
    // Set at construction and never changed, so any thread may read them; absent when both are empty.
    struct Names {
        std::string id;
        std::string subprotocol;
    };
    std::unique_ptr<const Names> names_;
    // The upgrade request's fields as "name\0value\0..." (a Headers object per connection would cost
    // several allocations, and most handlers never ask); request_headers() builds it once.
    std::string request_fields_;
    mutable std::once_flag request_headers_once_;
    mutable std::unique_ptr<Headers> request_headers_;
    net::Deadline keepalive_deadline_;
    std::chrono::steady_clock::time_point last_received_;
    FrameOptions frame_options_;
    FrameSequencer sequencer_;

    // reading
    std::string tail_;  // a partial frame header or control payload kept between reads
    FrameHeader frame_{};
    std::uint64_t frame_left_ = 0;
    std::uint64_t frame_pos_ = 0;
    std::string incoming_;  // the message being assembled (callbacks get it in a Message, then it is back)
    std::list<Message> inbox_;  // not a deque: libstdc++'s allocates its map and a block even when empty
    std::size_t inbox_bytes_ = 0;
    std::size_t payload_end_ = 0;  // message_'s size once a large frame is in (reading_payload_)
    // The flags side by side: an idle connection is mostly this object, so padding counts.
    bool in_frame_ = false;
    bool readable_ = false;         // an edge came and the socket may still hold input
    bool peer_shut_ = false;        // the peer's FIN (or an error) was seen: read until recv says so
    bool reading_ = false;          // inside read_ready()
    bool resume_posted_ = false;
    bool reading_payload_ = false;  // the current (large) frame is written in place: prepare_payload()
    bool consuming_ = false;        // input is being parsed: flushes wait for its end
    bool flush_wanted_ = false;
    WebSocket input_handle_;  // only while input is parsed (input_handle()), else empty

    // writing
    net::OutputQueue out_;
    std::atomic<std::size_t> buffered_{0};
    bool flush_posted_ = false;
    bool flush_deferred_ = false;  // to the end of the poller's batch
    bool write_armed_ = false;
    bool close_sent_ = false;
    bool close_after_flush_ = false;
    bool transport_dead_ = false;
    bool lingering_ = false;  // our Close is out and our side shut down: input is read and dropped
    bool reading_stopped_ = false;  // (a reading flag, kept here where the object has a spare byte)

    asio::steady_timer* receiver_ = nullptr;  // a waiting receive(), woken by cancelling its timer
    std::chrono::steady_clock::time_point last_activity_;
    std::unique_ptr<Callbacks> callbacks_;
    // What few connections use, made on first use on the loop thread (rare()): an idle connection
    // carries none of it.
    std::unique_ptr<Rare> rare_;

    std::atomic<WebSocketState> state_{WebSocketState::open};
    // Written once, before state_ turns closed (release); other threads read it (and the reason, in
    // rare_) only after that.
    std::optional<CloseCode> close_code_;
    bool finished_ = false;
};

}  // namespace herald::websocket
