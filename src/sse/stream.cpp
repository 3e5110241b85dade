#include "sse/stream.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include <asio/execution_context.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>

#include <herald/error.hpp>

#include "http/connection.hpp"
#include "log.hpp"
#include "net/loop.hpp"
#include "server_impl.hpp"

namespace herald::sse {
namespace {
constexpr auto kAwait = asio::experimental::as_tuple(asio::use_awaitable);
// Streams written per loop turn by the flusher; the loop polls its sockets between two slices. Small
// slices let a publish be read sooner, so more events share each client's write (measured with
// bench/sse_fanout.sh, 1,000 clients, one publish at a time: 64 gave ~2.5 events per write, 4-8 gave
// ~5); an epoll_wait per 8 writes costs little.
constexpr std::size_t kFlushSlice = 8;
}  // namespace

// One per loop (an Asio service of its io_context, so loop thread only): writes the streams that have
// bytes queued, a slice per loop turn. Between slices the loop reads its sockets, so publishes that
// arrive while a broadcast is being written join the bytes of the streams not yet written: each
// client gets one write for all the events queued since its last one, not one write per event.
class FlushService final : public asio::execution_context::service {
public:
    static asio::execution_context::id id;

    explicit FlushService(asio::io_context& context) : service(context), context_(context) {}

    /// Lists a stream to be written (once until it is).
    void add(std::shared_ptr<Stream> stream) {
        waiting_.push_back(std::move(stream));
        if (!posted_) post();
    }

private:
    void shutdown() override {
        current_.clear();
        waiting_.clear();
    }

    void post() {
        posted_ = true;
        asio::post(context_, [this] { run(); });
    }

    // Writes the next slice of this round's streams; a round takes the streams listed before it began,
    // so a stream listed again meanwhile waits for the next round, behind the others.
    void run() {
        posted_ = false;
        if (next_ == current_.size()) {
            current_.clear();
            next_ = 0;
            current_.swap(waiting_);
        }
        const std::size_t end = std::min(current_.size(), next_ + kFlushSlice);
        for (; next_ < end; ++next_) {
            auto stream = std::move(current_[next_]);
            stream->flush_due_ = false;
            stream->flush();
        }
        if (next_ < current_.size() || !waiting_.empty()) post();
    }

    asio::io_context& context_;
    std::vector<std::shared_ptr<Stream>> current_;  // this round, written from next_ on
    std::vector<std::shared_ptr<Stream>> waiting_;  // listed during this round
    std::size_t next_ = 0;
    bool posted_ = false;
};

asio::execution_context::id FlushService::id;

Stream::Stream(net::Loop& loop, asio::ip::tcp::socket socket, EventSourceOptions options, std::string last_event_id)
    : loop_(loop),
      flusher_(asio::use_service<FlushService>(loop.context())),
      socket_(std::move(socket)),
      options_(std::move(options)),
      last_event_id_(std::move(last_event_id)),
      last_send_(std::chrono::steady_clock::now()) {
    ping_deadline_.owner = this;
    ping_deadline_.fire = [](net::Deadline& d) { static_cast<Stream*>(d.owner)->on_ping_deadline(); };
}

Stream::~Stream() {
    net::Deadlines::cancel(ping_deadline_);
    loop_.remove(*this);
}

void Stream::start(std::string output) {
    loop_.add(*this);
    out_.push(std::move(output));
    if (options_.ping_policy) start_ping_policy(*options_.ping_policy);
    if (loop_.draining()) drain();
    if (!out_.empty()) schedule_flush();
    wait_readable();
}

// ---- the client leaving ----

void Stream::wait_readable() {
    if (read_armed_ || finished_) return;
    read_armed_ = true;
    socket_.async_wait(asio::ip::tcp::socket::wait_read, [self = shared_from_this()](std::error_code ec) {
        self->read_armed_ = false;
        self->on_readable(ec);
    });
}

void Stream::on_readable(std::error_code ec) {
    if (finished_) return;
    if (ec) {
        finish();
        return;
    }
    // A client says nothing on an event stream; whatever it sends is dropped. EOF means it left.
    char* buf = loop_.read_buffer();
    for (;;) {
        ssize_t n = ::recv(socket_.native_handle(), buf, net::Loop::read_buffer_size, 0);
        if (n > 0) continue;
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            wait_readable();
            return;
        }
        finish();
        return;
    }
}

// ---- writing ----

void Stream::write_head() {
    if (head_sent_) return;
    head_sent_ = true;
    Headers headers;
    headers.add("Content-Type", "text/event-stream");
    headers.add("Cache-Control", "no-cache");
    headers.add("X-Accel-Buffering", "no");  // tells nginx-style proxies not to buffer the stream
    headers.add("Connection", "close");       // the stream's end is the connection's end
    for (const auto& [name, value] : options_.headers) headers.add(name, value);
    std::string head = "HTTP/1.1 200 OK\r\n";
    const auto& server_header = loop_.server().options.server_header;
    if (!server_header.empty()) head.append("Server: ").append(server_header).append("\r\n");
    head.append("Date: ").append(loop_.date.now()).append("\r\n");
    for (const auto& [name, value] : headers) head.append(name).append(": ").append(value).append("\r\n");
    head.append("\r\n");
    out_.push(std::move(head));
    body_queued_ = out_.queued();  // body bytes are what comes after this
}

bool Stream::queue(std::string_view bytes) {
    if (finished_ || ending_) return false;
    write_head();
    if (head_only_) {
        end();
        return false;
    }
    // A client that is reading keeps the backlog near zero: one event larger than the limit still goes.
    if (out_.buffered() != 0 && out_.buffered() + bytes.size() > options_.max_backlog_bytes) {
        log().debug("event stream {}: client not reading, backlog over {} bytes: dropped", options_.id,
                    options_.max_backlog_bytes);
        loop_.server().slow_consumers_dropped.fetch_add(1, std::memory_order_relaxed);
        finish();
        return false;
    }
    const auto start = out_.queued();
    out_.append(bytes);
    events_.emplace_back(start, out_.queued());
    last_send_ = std::chrono::steady_clock::now();
    buffered_.store(out_.buffered(), std::memory_order_relaxed);
    schedule_flush();
    return true;
}

bool Stream::queue(const Event& event) {
    std::string bytes;
    encode(event, bytes);  // throws for CR/LF/NUL in event or id: never written
    return queue(bytes);
}

void Stream::append_header(std::string_view name, std::string_view value) {
    if (head_sent_)
        throw error("append_header(\"" + std::string(name) +
                    "\"): the response head was already sent; headers must come before the first message");
    options_.headers.add(name, value);
}

void Stream::schedule_flush() {
    if (flush_due_ || write_armed_ || finished_) return;
    flush_due_ = true;
    flusher_.add(shared_from_this());
}

void Stream::flush() {
    if (finished_) return;
    auto result = out_.flush(socket_.native_handle());
    buffered_.store(out_.buffered(), std::memory_order_relaxed);
    while (!events_.empty() && events_.front().second <= out_.written()) events_.pop_front();
    if (out_.written() > body_queued_) sent_.store(out_.written() - body_queued_, std::memory_order_relaxed);
    for (auto* w : writers_) w->cancel();  // senders waiting for their bytes re-check
    if (result == net::OutputQueue::Flush::failed) {
        finish();  // a failed write: the client is gone
        return;
    }
    if (result == net::OutputQueue::Flush::blocked) {
        wait_writable();
        return;
    }
    if (ending_) finish();
}

void Stream::wait_writable() {
    if (write_armed_) return;
    write_armed_ = true;
    socket_.async_wait(asio::ip::tcp::socket::wait_write, [self = shared_from_this()](std::error_code ec) {
        self->write_armed_ = false;
        if (ec) {
            self->finish();
            return;
        }
        self->flush();
    });
}

Task<std::error_code> Stream::wait_written(std::uint64_t target) {
    auto self = shared_from_this();
    while (out_.written() < target && !finished_ && !cancelled(target)) {
        asio::steady_timer timer(loop_.context(), asio::steady_timer::time_point::max());
        writers_.push_back(&timer);
        co_await timer.async_wait(kAwait);  // woken by writer progress or the end
        std::erase(writers_, &timer);
    }
    if (cancelled(target)) co_return std::make_error_code(std::errc::operation_canceled);
    if (out_.written() < target) co_return std::make_error_code(std::errc::broken_pipe);
    co_return std::error_code{};
}

// ---- ending ----

void Stream::end() {
    if (finished_ || ending_) return;
    write_head();  // an empty stream still answers 200
    ending_ = true;
    schedule_flush();
}

void Stream::finish() noexcept {
    if (finished_) return;
    finished_ = true;
    active_.store(false, std::memory_order_release);
    net::Deadlines::cancel(ping_deadline_);
    std::error_code ec;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    out_.clear();
    buffered_ = 0;
    for (auto* w : writers_) w->cancel();
    for (auto* w : enders_) w->cancel();
    if (!options_.id.empty()) {
        try {
            loop_.server().event_sources.remove(options_.id, EventSource(shared_from_this()));
        } catch (...) {
            // shared_from_this() fails only while the stream is being destroyed, when it is no longer listed.
        }
    }
    loop_.remove(*this);
}

Task<void> Stream::wait_ended(std::optional<std::chrono::milliseconds> idle) {
    auto self = shared_from_this();
    if (!finished_ && !ending_) {  // the client sees the stream open while we wait
        write_head();
        if (head_only_)
            end();
        else
            schedule_flush();
    }
    while (!finished_) {
        asio::steady_timer timer(loop_.context());
        if (idle)
            timer.expires_at(last_send_ + *idle);
        else
            timer.expires_at(asio::steady_timer::time_point::max());
        enders_.push_back(&timer);  // woken only by the end; sends move the idle deadline, checked on expiry
        auto [ec] = co_await timer.async_wait(kAwait);
        std::erase(enders_, &timer);
        if (finished_) break;
        if (!ec && idle && std::chrono::steady_clock::now() >= last_send_ + *idle) {
            finish();  // nothing was sent for `idle`: the stream ends (Sisk's WaitForFail(timeout))
            break;
        }
    }
}

void Stream::start_ping_policy(EventSourcePing policy) {
    ping_ = std::move(policy);
    // The first ping waits an interval: sending it at once would send the head and close the window
    // in which the handler may still append_header().
    loop_.deadlines.schedule(ping_deadline_, ping_->interval);
}

void Stream::on_ping_deadline() {
    if (finished_ || ending_ || !ping_) return;
    std::string bytes;
    if (ping_->data.empty())
        encode_comment(ping_->comment, bytes);
    else
        encode(Event{.data = ping_->data}, bytes);
    const auto keep = last_send_;  // a ping is not a message: it does not reset wait_for_fail's idle time
    queue(bytes);
    last_send_ = keep;
    if (!finished_) loop_.deadlines.schedule(ping_deadline_, ping_->interval);
}

void Stream::cancel_queued() {
    // Keep the head (and earlier responses) and the rest of an event already partly written.
    const auto written = out_.written();
    while (!events_.empty() && events_.front().second <= written) events_.pop_front();
    std::uint64_t keep = std::max(body_queued_, written);
    if (!events_.empty() && events_.front().first < written) keep = std::max(keep, events_.front().second);
    cancelled_from_ = keep;
    cancelled_to_ = out_.queued();
    out_.truncate(keep);
    while (!events_.empty() && events_.back().first >= keep) events_.pop_back();
    buffered_.store(out_.buffered(), std::memory_order_relaxed);
    for (auto* w : writers_) w->cancel();
}

void Stream::drop() { finish(); }

void Stream::drain() {
    // A server going down ends its streams; browsers reconnect elsewhere after their retry delay.
    end();
}

void Stream::close() noexcept { finish(); }

}  // namespace herald::sse
