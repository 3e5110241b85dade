#include "websocket/session.hpp"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>

#include <herald/error.hpp>
#include <herald/websocket/close_code.hpp>

#include "log.hpp"
#include "net/reactor.hpp"
#include "websocket/mask_source.hpp"
#include "websocket/spare_buffers.hpp"

namespace herald::websocket {
namespace {

constexpr auto kAwait = asio::experimental::as_tuple(asio::use_awaitable);
// The receive queue: past this many bytes waiting for receive(), reading pauses (TCP pushes back).
constexpr std::size_t kInboxPauseBytes = 4 << 20;

// Output up to this size waits for the end of the poller's batch (flush_if_wanted()).
constexpr std::size_t kDeferFlushBytes = 16 * 1024;

bool would_block(int err) noexcept { return err == EAGAIN || err == EWOULDBLOCK; }

// Message buffers freed on a thread are kept for the next message received there (a loop's thread,
// in practice). Large ones: without them every megabyte-sized message is fresh memory from the
// kernel (glibc gives the top of the heap back once it is free, and the page faults and zeroing of
// the next allocation cost more than the payload's copies). Small ones: a connection gives its buffer
// back at the end of each read (an idle connection keeps none), and the next read of any connection
// takes it instead of a malloc and free per read. Bounded in count and bytes.
thread_local bool spares_gone = false;  // trivially destructible: readable during thread exit

struct ThreadSpares {
    SpareBuffers large{
        {.min_bytes = kLargeFrameBytes, .max_bytes = 16 << 20, .max_buffers = 8, .max_total_bytes = 16 << 20}};
    SpareBuffers small{{.min_bytes = 16, .max_bytes = kRecycleBytes, .max_buffers = 8, .max_total_bytes = 32 << 10}};
    // A buffer freed later in the thread's exit (a session outliving it) is then simply freed.
    ~ThreadSpares() { spares_gone = true; }
};

thread_local ThreadSpares spares;

const std::string kNoName;

}  // namespace

// Coroutines waiting for writes or the close are woken by cancelling their timers.
struct Session::Rare {
    std::optional<PingPolicy> ping_policy;
    net::Deadline ping_deadline;
    std::vector<asio::steady_timer*> writers;
    std::vector<asio::steady_timer*> closers;
    std::unique_ptr<asio::steady_timer> close_timer;
    std::string close_reason;
};

Session::Rare& Session::rare() {
    if (!rare_) {
        rare_ = std::make_unique<Rare>();
        rare_->ping_deadline.owner = this;
        rare_->ping_deadline.fire = [](net::Deadline& d) { static_cast<Session*>(d.owner)->on_ping_deadline(); };
    }
    return *rare_;
}

Session::Session(net::Reactor& loop, asio::ip::tcp::socket socket, WebSocketOptions options, std::string subprotocol,
                 Headers request_headers, Role role, WebSocketRegistry* registry)
    : loop_(loop),
      registry_(registry),
      options_(options),
      names_(options.id.empty() && subprotocol.empty() ? nullptr
                                                        : std::make_unique<const Names>(options.id, std::move(subprotocol))),
      frame_options_{.role = role, .max_payload_bytes = options_.max_message_bytes},
      sequencer_(MessageLimits{.max_message_bytes = options_.max_message_bytes}),
      last_activity_(std::chrono::steady_clock::now()) {
    std::size_t bytes = 0;
    for (const auto& [name, value] : request_headers) bytes += name.size() + value.size() + 2;
    request_fields_.reserve(bytes);
    for (const auto& [name, value] : request_headers)
        request_fields_.append(name).append(1, '\0').append(value).append(1, '\0');
    std::error_code ec;
    remote_ = socket.remote_endpoint(ec);
    fd_ = socket.release(ec);
    if (ec) throw std::system_error(ec, "websocket: taking the socket from Asio");
    if (const int flags = ::fcntl(fd_, F_GETFL); flags >= 0 && !(flags & O_NONBLOCK))
        ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
    last_received_ = last_activity_;
    if (options.ping_policy) rare().ping_policy = std::move(options.ping_policy);
    keepalive_deadline_.owner = this;
    keepalive_deadline_.fire = [](net::Deadline& d) { static_cast<Session*>(d.owner)->on_keepalive_deadline(); };
}

Session::~Session() {
    if (fd_ >= 0) ::close(fd_);  // never started
    if (rare_) net::Deadlines::cancel(rare_->ping_deadline);
    net::Deadlines::cancel(keepalive_deadline_);
    loop_.remove(*this);
}

const std::string& Session::subprotocol() const noexcept { return names_ ? names_->subprotocol : kNoName; }

const std::string& Session::id() const noexcept { return names_ ? names_->id : kNoName; }

Session::Callbacks& Session::callbacks() {
    if (!callbacks_) callbacks_ = std::make_unique<Callbacks>();
    return *callbacks_;
}

const Headers& Session::request_headers() const noexcept {
    std::call_once(request_headers_once_, [this] {
        auto headers = std::make_unique<Headers>();
        std::string_view rest = request_fields_;
        while (!rest.empty()) {
            const auto name_end = rest.find('\0');
            const auto value_end = rest.find('\0', name_end + 1);
            if (value_end == std::string_view::npos) break;  // cannot happen: the parser refuses NUL in fields
            headers->add(rest.substr(0, name_end), rest.substr(name_end + 1, value_end - name_end - 1));
            rest.remove_prefix(value_end + 1);
        }
        request_headers_ = std::move(headers);
    });
    return *request_headers_;
}

bool Session::in_loop_context() const noexcept { return loop_.context().get_executor().running_in_this_thread(); }

void Session::start(std::string input, std::string output) {
    loop_.add(*this);
    try {
        loop_.poller.add(fd_, *this, shared_from_this());  // input already waiting, and room to write, come at once
    } catch (const std::system_error& e) {
        log().warn("websocket {}: {}", remote_.address().to_string(), e.what());
        close_socket();
        return;
    }
    if (!output.empty()) {
        out_.push(std::move(output));
        wait_writable();
    }
    if (loop_.draining()) drain();
    if (rare_ && rare_->ping_policy) on_ping_deadline();  // Sisk's Start() sends the first one at once
    if (options_.keepalive_interval.count() > 0) loop_.deadlines.schedule(keepalive_deadline_, options_.keepalive_interval);
    if (!input.empty()) {
        // Frames that came right behind the handshake: parse them from the loop buffer as if just read.
        std::memcpy(loop_.read_buffer(), input.data(), std::min(input.size(), net::Reactor::read_buffer_size));
        consume(loop_.read_buffer(), std::min(input.size(), net::Reactor::read_buffer_size));
    }
}

// ---- reading ----

void Session::on_ready(std::uint32_t events) {
    if (write_armed_ && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
        write_armed_ = false;
        flush();
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        readable_ = true;
        if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) peer_shut_ = true;
        read_ready();
    }
}

// Edge-triggered: reads while the socket may hold input (until a short read or EAGAIN) and the session
// wants it. A pause (full inbox) leaves readable_ set for resume_reading().
void Session::read_ready() {
    if (reading_) return;  // already inside the loop below, which goes on
    reading_ = true;
    while (readable_ && !transport_dead_) {
        if (lingering_) {
            discard_input();
            break;
        }
        if (reading_stopped_ || finished_ || inbox_bytes_ > kInboxPauseBytes) break;
        read_some();
    }
    reading_ = false;
}

// Input left in the socket when reading paused brings no new edge: go on from here.
void Session::resume_reading() {
    if (!readable_ || reading_ || resume_posted_ || inbox_bytes_ > kInboxPauseBytes) return;
    resume_posted_ = true;
    asio::post(loop_.context(), [self = shared_from_this()] {
        self->resume_posted_ = false;
        self->read_ready();
    });
}

void Session::read_some() {
    if (wants_payload_read()) {
        read_payload();
        return;
    }
    char* buf = loop_.read_buffer();
    const std::size_t have = tail_.size();  // never more than a frame header or a control payload
    std::memcpy(buf, tail_.data(), have);
    // Sisk's WebSocketBufferSize also sets the read chunk (with its frame headers, so power-of-two
    // messages that fill it do not leave their last bytes to a read of their own); the default reads
    // what the loop buffer holds.
    const std::size_t chunk = net::with_header_room(std::max<std::size_t>(options_.buffer_size, 256));
    const std::size_t room = std::min(net::Reactor::read_buffer_size - have, chunk);
    if (const std::size_t n = recv_into(buf + have, room)) {
        tail_.clear();
        consume(buf, have + n);
    }
}

// One recv: the byte count, or 0 when nothing came (the next input brings an edge, or the peer is gone).
std::size_t Session::recv_into(char* at, std::size_t room) {
    for (;;) {
        ssize_t n = ::recv(fd_, at, room, 0);
        if (n > 0) {
            // A short read emptied the socket: what comes later is a new edge. Not so once the peer's
            // FIN is known: its EOF is still to be read, and brings no edge of its own.
            if (static_cast<std::size_t>(n) < room && !peer_shut_) readable_ = false;
            return static_cast<std::size_t>(n);
        }
        if (n < 0 && errno == EINTR) continue;
        readable_ = false;
        if (!(n < 0 && would_block(errno))) finish(CloseCode::abnormal, {});  // gone without a Close frame
        return 0;
    }
}

// Everything the callbacks queue while one read is parsed leaves in one write at its end, without a
// post per connection and turn.
void Session::consume(char* data, std::size_t size) {
    begin_input();
    parse_frames(data, size);
    end_input();
}

void Session::begin_input() noexcept {
    last_received_ = loop_.poller.now();
    consuming_ = true;
}

void Session::end_input() {
    consuming_ = false;
    flush_if_wanted();
    out_.own_borrowed();  // the read buffer is about to be reused
    input_handle_ = WebSocket();  // the caller holds the session too: this is never its last owner
}

void Session::parse_frames(char* data, std::size_t size) {
    while (size > 0 && !reading_stopped_) {
        if (!in_frame_) {
            // The usual small message, recognized from its first two bytes.
            if (const std::size_t whole = usual_message_frame_size(std::string_view(data, size), frame_options_);
                whole != 0 && !sequencer_.in_message()) {
                const bool masked = frame_options_.role == Role::server;
                MaskKey key;
                if (masked) std::memcpy(key.data(), data + 2, key.size());
                const std::size_t header_size = masked ? 6 : 2;
                take_whole_message(static_cast<Opcode>(data[0] & 0x0F), masked ? &key : nullptr,
                                   std::span<char>(data + header_size, whole - header_size));
                data += whole;
                size -= whole;
                continue;
            }
            // Anything else, field by field (the parser tries the usual header in one step first).
            const auto r = parse_frame_header(std::string_view(data, size), frame_options_);
            if (r.status == ParseStatus::incomplete) break;
            if (r.status == ParseStatus::error) {
                fail(r.error);
                return;
            }
            const FrameHeader& header = r.header;
            const std::size_t header_size = r.header_size;
            if (is_whole_message(header, size - header_size)) {
                const std::size_t whole = header_size + static_cast<std::size_t>(header.payload_length);
                take_whole_message(header.opcode, header.masked ? &header.mask_key : nullptr,
                                   std::span<char>(data + header_size, static_cast<std::size_t>(header.payload_length)));
                data += whole;
                size -= whole;
                continue;
            }
            // A control payload (at most 125 bytes) is handled whole: keep its header until it all arrived.
            if (is_control(header.opcode) && size - header_size < header.payload_length) break;
            if (auto e = sequencer_.on_header(header)) {
                fail(*e);
                return;
            }
            frame_ = header;
            if (!is_control(frame_.opcode)) prepare_payload(frame_.payload_length);
            frame_left_ = frame_.payload_length;
            frame_pos_ = 0;
            in_frame_ = true;
            data += header_size;
            size -= header_size;
        }
        const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(size, frame_left_));
        if (!take_payload(std::span<char>(data, take), false)) return;
        data += take;
        size -= take;
    }
    if (reading_stopped_ || finished_) return;
    if (size > 0 || !tail_.empty()) tail_.assign(data, size);  // an unfinished header, or a control frame not yet whole
    // Between messages an idle connection keeps no message buffer: a small one serves the next read
    // of this loop, of any connection.
    if (!in_frame_ && incoming_.empty() && incoming_.capacity() > std::string().capacity()) {
        spares.small.give(incoming_);
        std::string().swap(incoming_);
    }
}

// The usual message: one final text or binary frame without RSV bits, smaller than a large frame,
// its payload all in the buffer, outside a fragmented message. It is checked by the sequencer in one
// step (same rules, same errors as frame by frame) and delivered at once.
bool Session::is_whole_message(const FrameHeader& h, std::size_t available) const noexcept {
    // A large one, too, when callbacks take it: they get it where it lies (the message buffer is only
    // for messages received into it).
    return h.fin && (h.opcode == Opcode::text || h.opcode == Opcode::binary) && !h.rsv1 && !h.rsv2 && !h.rsv3 &&
           h.payload_length <= available && !sequencer_.in_message() &&
           (h.payload_length < kLargeFrameBytes || wants_callbacks(h.opcode == Opcode::text));
}

// `key`: the masking key, null for an unmasked frame.
[[gnu::always_inline]] inline void Session::take_whole_message(Opcode opcode, const MaskKey* key, std::span<char> payload) {
    if (key) {
        // A small payload is unmasked inline; the call and the wide loops pay off from a few words on.
        if (payload.size() <= max_control_payload)
            apply_mask_small(payload, *key);
        else
            apply_mask(payload, *key);
    }
    if (auto e = sequencer_.on_whole_message(opcode, payload)) {
        fail(*e);
        return;
    }
    const std::string_view bytes(payload.data(), payload.size());
    const bool text = opcode == Opcode::text;
    if (wants_callbacks(text)) {
        // The callbacks get the bytes where they were read: copied only if they keep the message.
        Message message(text, bytes);
        call_callbacks(message);
        return;
    }
    prepare_payload(payload.size());
    incoming_.append(bytes);
    deliver();
}

// Reserves the message's announced size once (already checked against the limit), not by doubling
// while a large frame arrives. A large frame's bytes are then written in place (reading_payload_) at
// payload_end_ - frame_left_, into a reused buffer when there is one: its old bytes are overwritten,
// not zeroed first. incoming_.size() may run ahead of the bytes written, never past payload_end_.
void Session::grow_payload(std::uint64_t length) {
    const auto size = incoming_.size() + static_cast<std::size_t>(length);
    if (length >= kLargeFrameBytes && incoming_.empty()) {
        incoming_ = spares.large.take(size);
        if (incoming_.size() > size) incoming_.resize(size);
    } else if (incoming_.capacity() < size && incoming_.empty() && size <= kRecycleBytes) {
        incoming_ = spares.small.take(size);
        incoming_.clear();
    }
    if (incoming_.capacity() < size) incoming_.reserve(size);
    if (length < kLargeFrameBytes) return;
    payload_end_ = size;
    reading_payload_ = true;
}

// Where the next `bytes` of a large frame go. The string grows (zero-filled) only as far as the bytes
// about to arrive: a peer that announces a large frame and sends little commits little memory.
char* Session::payload_room(std::size_t bytes) {
    const std::size_t at = payload_end_ - static_cast<std::size_t>(frame_left_);
    if (incoming_.size() < at + bytes) incoming_.resize(at + bytes);
    return incoming_.data() + at;
}

// One piece of the current frame's payload; `stored`: it already lies in place at the end of incoming_.
// False when the frame broke a rule and the connection is failing.
bool Session::take_payload(std::span<char> piece, bool stored) {
    const bool control = is_control(frame_.opcode);
    if (!stored && reading_payload_) {
        // A large frame's bytes in the loop buffer: unmasked on their way into the message, one pass.
        char* to = payload_room(piece.size());
        if (frame_.masked)
            copy_masked(piece, to, frame_.mask_key, static_cast<std::size_t>(frame_pos_));
        else
            std::memcpy(to, piece.data(), piece.size());
        piece = std::span<char>(to, piece.size());
        stored = true;
    } else if (frame_.masked) {
        apply_mask(piece, frame_.mask_key, static_cast<std::size_t>(frame_pos_));
    }
    if (!control) {
        if (auto e = sequencer_.on_payload(piece)) {
            fail(*e);
            return false;
        }
        if (!stored) incoming_.append(piece.data(), piece.size());
    }
    frame_pos_ += piece.size();
    frame_left_ -= piece.size();
    if (frame_left_ != 0) return true;
    in_frame_ = false;
    if (reading_payload_) {
        reading_payload_ = false;
        incoming_.resize(payload_end_);  // cuts what a reused buffer held past the frame
    }
    if (auto e = sequencer_.on_frame_end()) {
        fail(*e);
        return false;
    }
    if (control)
        handle_control(std::string_view(piece.data(), piece.size()));  // always whole (parse_frames())
    else if (sequencer_.message_complete())
        deliver();
    return true;
}

// The rest of a large data frame is received straight into the message buffer, which was grown to
// the announced size: no pass through the loop buffer and no copy, and as few reads as the socket
// allows. A read never goes past the frame, so the next header is parsed from the loop buffer again.
bool Session::wants_payload_read() const noexcept {
    return reading_payload_ && frame_left_ >= kDirectReadBytes && tail_.empty();
}

void Session::read_payload() {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(frame_left_, kPayloadReadMax));
    char* at = payload_room(want);
    const std::size_t n = recv_into(at, want);
    if (n == 0) return;
    begin_input();
    take_payload(std::span<char>(at, n), true);
    end_input();
}

void Session::deliver() {
    const bool text = sequencer_.message_opcode() == Opcode::text;
    if (wants_callbacks(text)) {
        Message message(text, std::move(incoming_));
        call_callbacks(message);
        // The buffer serves the next message, unless the callbacks took it; a large one goes back to the pool.
        incoming_ = std::move(message.data_);
        if (incoming_.capacity() > kRecycleBytes) {
            spares.large.give(incoming_);
            std::string().swap(incoming_);
        }
        incoming_.clear();
        return;
    }
    if (is_ping_echo(text, incoming_)) {
        incoming_.clear();
        return;
    }
    last_activity_ = last_received_;  // wait_for_close(idle) counts messages only
    inbox_bytes_ += incoming_.size();
    inbox_.emplace_back(text, std::move(incoming_));
    incoming_.clear();  // moved from: empty in practice, and now by rule
    if (receiver_) receiver_->cancel();
}

bool Session::wants_callbacks(bool text) const noexcept {
    const Callbacks* c = callbacks_.get();
    return c && (c->on_message || (text ? bool(c->on_text) : bool(c->on_binary)));
}

// A complete message to the callbacks, as a view and as the Message itself (which they may move from).
[[gnu::always_inline]] inline void Session::call_callbacks(Message& message) {
    const bool text = message.is_text();
    if (is_ping_echo(text, message.text())) return;
    last_activity_ = last_received_;  // wait_for_close(idle) counts messages only
    const Callbacks& c = *callbacks_;
    WebSocket& handle = input_handle();
    try {
        if (text && c.on_text) c.on_text(handle, message.text());
        if (!text && c.on_binary) c.on_binary(handle, message.bytes());
        if (c.on_message) c.on_message(handle, message);
    } catch (const std::exception& e) {
        callback_failed(e.what());
    }
}

bool Session::is_ping_policy_echo(std::string_view bytes) const {
    return rare_->ping_policy && options_.filter_ping_messages && bytes == rare_->ping_policy->data;
}

void Session::handle_control(std::string_view payload) {
    switch (frame_.opcode) {
        case Opcode::ping:
            if (!close_sent_) queue_control(Opcode::pong, payload);
            if (callbacks_ && callbacks_->on_ping) call(callbacks_->on_ping, payload);
            return;
        case Opcode::pong:
            if (callbacks_ && callbacks_->on_pong) call(callbacks_->on_pong, payload);
            return;
        case Opcode::close: {
            auto parsed = parse_close_payload(payload);
            if (parsed.error) {
                fail(*parsed.error);
                return;
            }
            std::string reason(parsed.status.reason);
            // Echo the peer's code (RFC 6455 §5.5.1); a Close without a code is answered without one.
            if (!close_sent_) send_close(parsed.status.code, {});
            reading_stopped_ = true;
            close_after_flush_ = true;  // the server closes TCP first (§7.1.1)
            finish(parsed.status.code, reason);
            schedule_flush();
            return;
        }
        default: return;
    }
}

// The handle callbacks get while input is parsed: made once per read, not per message (each
// shared_from_this() is an atomic compare-and-swap), and let go when the read is done (end_input()).
WebSocket& Session::input_handle() {
    if (!input_handle_) input_handle_ = WebSocket(shared_from_this());
    return input_handle_;
}

void Session::call(const Slot<void(WebSocket&, std::string_view)>& callback, std::string_view data) {
    try {
        callback(input_handle(), data);
    } catch (const std::exception& e) {
        callback_failed(e.what());
    }
}

// A callback that throws ends its connection with 1011, as a route handler that throws gets a 500:
// the server and its other connections go on.
void Session::callback_failed(std::string_view what) {
    log().error("websocket {}: a callback threw: {}", remote_.address().to_string(), what);
    fail(ProtocolError{CloseCode::internal_error, "internal error"});
}

void Session::fail(const ProtocolError& error) {
    log().debug("websocket {}: closing with {}: {}", remote_.address().to_string(),
                static_cast<int>(error.code), error.reason);
    reading_stopped_ = true;
    if (!close_sent_) send_close(error.code, error.reason);
    close_after_flush_ = true;
    finish(error.code, error.reason);
    schedule_flush();
}

// ---- closing ----

void Session::send_close(CloseCode code, std::string_view reason) {
    close_sent_ = true;
    queue_control(Opcode::close, make_close_payload(code, reason));
    if (state() == WebSocketState::open) state_.store(WebSocketState::closing, std::memory_order_release);
    schedule_flush();
}

void Session::finish(CloseCode code, std::string_view reason) {
    if (finished_) return;
    finished_ = true;
    close_code_ = code;
    rare().close_reason = reason;  // made now, so rare_ no longer changes once other threads may read it
    state_.store(WebSocketState::closed, std::memory_order_release);  // publishes the two above
    if (rare_) net::Deadlines::cancel(rare_->ping_deadline);
    net::Deadlines::cancel(keepalive_deadline_);
    if (registry_ && !id().empty()) registry_->remove(id(), WebSocket(shared_from_this()));
    if (code == CloseCode::abnormal) {
        transport_dead_ = true;
        close_socket();
    } else if (out_.empty()) {
        close_socket();
    } else {
        close_after_flush_ = true;
        // A peer that stops reading must not keep the socket forever.
        rare().close_timer = std::make_unique<asio::steady_timer>(loop_.context(), options_.close_timeout);
        rare_->close_timer->async_wait([self = shared_from_this()](std::error_code ec) {
            if (!ec) self->close_socket();
        });
    }
    if (receiver_) receiver_->cancel();
    wake_closers();
    wake_writers();
    if (callbacks_ && callbacks_->on_close) {
        WebSocket handle(shared_from_this());
        auto callback = std::move(callbacks_->on_close);
        try {
            callback(handle, code, reason);
        } catch (const std::exception& e) {
            log().error("websocket {}: on_close threw: {}", remote_.address().to_string(), e.what());
        }
    }
    loop_.remove(*this);
}

void Session::close_socket() noexcept {
    transport_dead_ = true;
    if (fd_ >= 0) {
        loop_.poller.remove(fd_, *this);
        ::shutdown(fd_, SHUT_RDWR);
        ::close(fd_);
        fd_ = -1;
    }
    out_.clear();
    buffered_ = 0;
    if (rare_ && rare_->close_timer) rare_->close_timer->cancel();
    wake_writers();
    wake_closers();
    if (receiver_) receiver_->cancel();
    if (!finished_) finish(CloseCode::abnormal, {});
}

void Session::wake_writers() noexcept {
    if (rare_)
        for (auto* t : rare_->writers) t->cancel();
}

void Session::wake_closers() noexcept {
    if (rare_)
        for (auto* t : rare_->closers) t->cancel();
}

void Session::drain() {
    if (finished_ || close_sent_) return;
    send_close(CloseCode::going_away, "server shutting down");
    // The peer's answer completes the handshake; without one, close_timeout ends it.
    rare().close_timer = std::make_unique<asio::steady_timer>(loop_.context(), options_.close_timeout);
    rare_->close_timer->async_wait([self = shared_from_this()](std::error_code ec) {
        if (!ec) self->close_socket();
    });
}

void Session::close() noexcept { close_socket(); }

void Session::start_close(CloseCode code, std::string_view reason) {
    if (!finished_ && !close_sent_) send_close(code, reason);
}

Task<void> Session::wait_close_handshake(CloseCode code) {
    auto self = shared_from_this();
    if (finished_) co_return;
    asio::steady_timer timer(loop_.context(), options_.close_timeout);
    rare().closers.push_back(&timer);
    auto [ec] = co_await timer.async_wait(kAwait);
    std::erase(rare().closers, &timer);
    if (!ec && !finished_) {
        // The peer never answered our Close: the handshake ends with our code.
        finish(code, "close handshake timed out");
        close_socket();
    }
}

Task<void> Session::wait_for_close(std::optional<std::chrono::milliseconds> idle) {
    auto self = shared_from_this();
    while (!finished_) {
        asio::steady_timer timer(loop_.context());
        if (idle)
            timer.expires_at(last_activity_ + *idle);
        else
            timer.expires_at(asio::steady_timer::time_point::max());
        rare().closers.push_back(&timer);
        auto [ec] = co_await timer.async_wait(kAwait);
        std::erase(rare().closers, &timer);
        if (finished_) break;
        if (ec) co_return;  // cancelled by the caller
        if (idle && std::chrono::steady_clock::now() >= last_activity_ + *idle) {
            start_close(CloseCode::normal, "idle");
            co_await wait_close_handshake(CloseCode::normal);
            break;
        }
    }
}

// ---- receiving ----

Task<std::optional<Message>> Session::receive(std::chrono::milliseconds timeout) {
    auto self = shared_from_this();
    if (inbox_.empty() && !finished_) {
        if (receiver_) throw herald::error("receive(): another receive() is already waiting on this WebSocket");
        // milliseconds::max() means "no timeout": keep the deadline representable.
        asio::steady_timer timer(loop_.context(), std::min(timeout, std::chrono::milliseconds(std::chrono::hours(24 * 365))));
        receiver_ = &timer;
        co_await timer.async_wait(kAwait);  // woken by a message, the close, the timeout or a cancel
        receiver_ = nullptr;
    }
    if (inbox_.empty()) co_return std::nullopt;  // closed, timed out or cancelled
    Message message = std::move(inbox_.front());
    inbox_.pop_front();
    inbox_bytes_ -= message.size();
    resume_reading();  // reading may have paused on a full inbox
    co_return message;
}

// ---- sending ----

std::shared_ptr<const std::string> Session::share_payload(std::string payload) {
    // The buffer goes back to the spares of the thread that frees it, normally this loop's after the write.
    return std::shared_ptr<const std::string>(new std::string(std::move(payload)), [](const std::string* p) {
        std::unique_ptr<std::string> owned(const_cast<std::string*>(p));
        if (!spares_gone) spares.large.give(*owned);
    });
}

std::optional<std::errc> Session::queue_borrowed_message(const Message& message) {
    if (!message.borrowed_.data()) return std::nullopt;
    return queue_message(message.is_text() ? Opcode::text : Opcode::binary, message.borrowed_);
}

// Bytes of the input this connection is parsing right now: the loop's read buffer keeps them unchanged
// until end_input() gives whatever is still queued of them bytes of its own.
bool Session::in_read_buffer(std::string_view bytes) const noexcept {
    const char* buffer = loop_.read_buffer();
    return consuming_ && bytes.data() >= buffer && bytes.data() + bytes.size() <= buffer + net::Reactor::read_buffer_size;
}

std::errc Session::queue_shared_message(Opcode opcode, const std::shared_ptr<const std::string>& payload) {
    return queue_frames(opcode, *payload, &payload);
}

// The rest of queue_frames(): frames planned by size. A large payload stays in `owner` when there is
// one (the queue holds it until written), is written from the read buffer when it lies there (an echo),
// and is otherwise copied once into a buffer of its own.
void Session::queue_planned(Opcode opcode, std::string_view payload, const std::shared_ptr<const std::string>* owner) {
    const FragmentPlan plan(opcode, payload.size(), options_.buffer_size);
    for (std::uint64_t i = 0; i < plan.size(); ++i) {
        auto part = payload.substr(static_cast<std::size_t>(plan.offset(i)),
                                   static_cast<std::size_t>(plan.header(i).payload_length));
        if (frame_options_.role == Role::client) {
            // Masked bytes differ from the payload: each frame is a buffer of its own, masked in place.
            std::string frame;
            append_frame(frame, with_mask(plan.header(i)), part);
            out_.push(std::move(frame));
            continue;
        }
        auto header = encode_frame_header(plan.header(i));
        out_.append(header.view());
        if (part.size() < share_min_bytes)
            out_.append(part);
        else if (owner)
            out_.push_shared(*owner, part);
        else if (in_read_buffer(part))
            out_.push_borrowed(part);
        else
            out_.push(std::string(part));
    }
}

// A client masks every frame it sends with a fresh key (RFC 6455 §5.3); a server sends them unmasked.
FrameHeader Session::with_mask(FrameHeader h) const {
    if (frame_options_.role == Role::client) {
        h.masked = true;
        h.mask_key = next_mask_key();
    }
    return h;
}

void Session::queue_control(Opcode opcode, std::string_view payload) {
    std::string frame;
    append_frame(frame, with_mask(FrameHeader{.opcode = opcode}), payload);
    out_.push(std::move(frame));
    schedule_flush();
}

Task<std::error_code> Session::wait_written(std::uint64_t target) {
    auto self = shared_from_this();
    while (out_.written() < target && !transport_dead_) {
        asio::steady_timer timer(loop_.context(), asio::steady_timer::time_point::max());
        rare().writers.push_back(&timer);
        co_await timer.async_wait(kAwait);  // woken by progress of the writer
        std::erase(rare().writers, &timer);
    }
    if (out_.written() < target) co_return std::make_error_code(std::errc::broken_pipe);
    co_return std::error_code{};
}

void Session::post_flush() {
    if (flush_posted_ || write_armed_ || transport_dead_) return;
    flush_posted_ = true;
    // Everything queued during this loop turn leaves in one gathered write.
    asio::post(loop_.context(), [self = shared_from_this()] {
        self->flush_posted_ = false;
        self->flush();
    });
}

// A few small answers a read queued leave when every socket of the poller's batch has been read, or
// once the batch holds back Poller::defer_budget_bytes: the peer (a load generator, a proxy) then
// finds many of its sockets ready at once, instead of being woken for each answer while the next
// socket is still being parsed, and does not wait long for them. Large output leaves at once: its
// buffers are then free (and reused) for the next message this read brings. So does output that
// borrows from the read buffer (an echo from 4 KiB on): written now, it is not copied before the
// buffer is read into again.
void Session::flush_if_wanted() {
    if (!flush_wanted_) return;
    flush_wanted_ = false;
    if (write_armed_ || flush_deferred_) return;
    // A borrowed piece is at least share_min_bytes: smaller output holds none.
    const std::size_t bytes = out_.buffered();
    if (bytes < kDeferFlushBytes && (bytes < share_min_bytes || !out_.holds_borrowed()) && loop_.poller.defer(*this, bytes))
        flush_deferred_ = true;
    else
        flush();
}

void Session::on_batch_end() {
    flush_deferred_ = false;
    if (!write_armed_) flush();
}

void Session::flush() {
    if (!transport_dead_) {
        auto result = out_.flush(fd_);
        buffered_.store(out_.buffered(), std::memory_order_relaxed);
        if (result == net::OutputQueue::Flush::blocked) {
            wake_writers();
            wait_writable();
            return;
        }
        if (result == net::OutputQueue::Flush::failed) {
            close_socket();  // the peer is gone: 1006
            return;
        }
    }
    wake_writers();
    if (out_.empty() && close_after_flush_) linger_close();
}

// Our Close has left: end our side with a FIN and read (and drop) what the peer still sends until it
// closes too, or close_timeout. Closing a socket with unread input would send a reset instead, and a
// peer that is still writing (a message over the limit, say) may then lose our Close (RFC 6455 §7.1.1).
void Session::linger_close() {
    if (lingering_ || transport_dead_) return;
    lingering_ = true;
    if (::shutdown(fd_, SHUT_WR) != 0) {
        close_socket();
        return;
    }
    if (!rare().close_timer) {
        rare().close_timer = std::make_unique<asio::steady_timer>(loop_.context(), options_.close_timeout);
        rare_->close_timer->async_wait([self = shared_from_this()](std::error_code e) {
            if (!e) self->close_socket();
        });
    }
    discard_input();
}

// Lingering: every edge of input ends here (read_ready()).
void Session::discard_input() {
    char* buf = loop_.read_buffer();
    while (!transport_dead_) {
        ssize_t n = ::recv(fd_, buf, net::Reactor::read_buffer_size, 0);
        if (n > 0) continue;
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && would_block(errno)) {
            readable_ = false;
            return;
        }
        close_socket();  // the peer closed its side (or is gone): done
        return;
    }
}

// The next edge of room to write flushes (on_ready()): the queue stopped at EAGAIN, so one will come.
void Session::wait_writable() { write_armed_ = true; }

bool Session::backlog_full(std::size_t bytes) {
    if (options_.backlog_policy == BacklogPolicy::drop_message) {
        log().debug("websocket {}: backlog full, message of {} bytes dropped", remote_.address().to_string(), bytes);
        return true;
    }
    const auto code = options_.backlog_policy == BacklogPolicy::close_try_again_later ? CloseCode::try_again_later
                                                                                      : CloseCode::policy_violation;
    log().warn("websocket {}: outgoing backlog over {} bytes: closing with {}", remote_.address().to_string(),
               options_.max_backlog_bytes, static_cast<int>(code));
    drop(code, "send backlog exceeded");
    return true;
}

void Session::drop(CloseCode code, std::string_view reason) {
    if (finished_) return;
    reading_stopped_ = true;
    // The peer is not reading: what is queued will not drain, so the Close goes out alone.
    out_.clear();
    buffered_ = 0;
    if (!close_sent_) send_close(code, reason);
    close_after_flush_ = true;
    finish(code, reason);
    schedule_flush();
}

void Session::start_ping_policy(PingPolicy policy) {
    rare().ping_policy = std::move(policy);
    on_ping_deadline();  // Sisk's Start() sends the first one at once
}

void Session::on_ping_deadline() {
    if (finished_ || close_sent_ || !rare_ || !rare_->ping_policy) return;
    const auto keep = last_activity_;  // a ping is not a message: wait_for_close(idle) ignores it
    queue_message(Opcode::text, rare_->ping_policy->data);
    last_activity_ = keep;
    loop_.deadlines.schedule(rare_->ping_deadline, rare_->ping_policy->interval);
}

void Session::on_keepalive_deadline() {
    if (finished_) return;
    const auto now = std::chrono::steady_clock::now();
    const auto silent = now - last_received_;
    if (silent >= options_.keepalive_interval + options_.keepalive_timeout) {
        log().debug("websocket {}: no frame for {} ms: peer considered dead", remote_.address().to_string(),
                    std::chrono::duration_cast<std::chrono::milliseconds>(silent).count());
        close_socket();  // 1006: nothing can be exchanged with a dead peer
        return;
    }
    if (silent >= options_.keepalive_interval && !close_sent_) queue_control(Opcode::ping, {});
    // Check again when the peer's answer is due, or when the silence reaches the interval.
    const auto due = silent >= options_.keepalive_interval ? options_.keepalive_interval + options_.keepalive_timeout
                                                           : options_.keepalive_interval;
    auto next = std::chrono::duration_cast<std::chrono::milliseconds>(due - silent) + std::chrono::milliseconds(1);
    loop_.deadlines.schedule(keepalive_deadline_, next);
}

std::optional<CloseCode> Session::close_code() const {
    if (state() != WebSocketState::closed) return std::nullopt;
    return close_code_;
}

std::string Session::close_reason() const {
    if (state() != WebSocketState::closed) return {};
    return rare_ ? rare_->close_reason : std::string();
}

}  // namespace herald::websocket
