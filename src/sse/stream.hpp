#pragma once
// One event stream: a response head written before the first event, events queued and flushed by its
// loop's FlushService, the read side watched for the client leaving, a ping policy, and waiters.
#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include <herald/sse/event_source.hpp>

#include "net/deadlines.hpp"
#include "net/loop_member.hpp"
#include "net/output_queue.hpp"

namespace herald::net {
class Loop;
}

namespace herald::sse {

class FlushService;

class Stream final : public net::LoopMember, public std::enable_shared_from_this<Stream> {
public:
    Stream(net::Loop& loop, asio::ip::tcp::socket socket, EventSourceOptions options, std::string last_event_id);
    ~Stream();

    /// Starts watching the connection; `output` holds bytes of earlier responses not yet written.
    void start(std::string output);

    net::Loop& loop() noexcept { return loop_; }
    const EventSourceOptions& options() const noexcept { return options_; }

    // ---- loop thread ----
    /// Queues encoded event bytes (the head first, once); false when the stream has ended.
    bool queue(std::string_view bytes);
    /// Encodes and queues an event; false when the stream has ended. Throws herald::error for an
    /// event the encoder refuses.
    bool queue(const Event& event);
    Task<std::error_code> wait_written(std::uint64_t target);
    std::uint64_t queued_total() const noexcept { return out_.queued(); }
    /// Adds a response header; throws herald::error once the head is out.
    void append_header(std::string_view name, std::string_view value);
    /// Ends the stream after what is queued is written (the head goes out first if it never did).
    void end();
    Task<void> wait_ended(std::optional<std::chrono::milliseconds> idle);
    void start_ping_policy(EventSourcePing policy);
    /// A HEAD request: the head is written, no event ever is (RFC 9110 §9.3.2).
    void head_only() noexcept { head_only_ = true; }
    void cancel_queued();
    void drop();

    // ---- any thread ----
    bool active() const noexcept { return active_.load(std::memory_order_acquire); }
    const std::string& id() const noexcept { return options_.id; }
    const std::string& last_event_id() const noexcept { return last_event_id_; }
    std::uint64_t sent_content_length() const noexcept { return sent_.load(std::memory_order_relaxed); }
    std::size_t buffered_amount() const noexcept { return buffered_.load(std::memory_order_relaxed); }

    void drain() override;
    void close() noexcept override;

private:
    friend class FlushService;

    void write_head();
    void wait_readable();
    void on_readable(std::error_code ec);
    void schedule_flush();
    void flush();
    void wait_writable();
    void finish() noexcept;
    void on_ping_deadline();
    bool cancelled(std::uint64_t target) const noexcept { return target > cancelled_from_ && target <= cancelled_to_; }

    net::Loop& loop_;
    FlushService& flusher_;
    asio::ip::tcp::socket socket_;
    EventSourceOptions options_;
    std::string last_event_id_;
    net::OutputQueue out_;
    std::optional<EventSourcePing> ping_;
    net::Deadline ping_deadline_;
    std::vector<asio::steady_timer*> writers_;  // send() calls waiting for their bytes to be written
    std::vector<asio::steady_timer*> enders_;   // wait_for_fail() / keep_alive() calls
    std::deque<std::pair<std::uint64_t, std::uint64_t>> events_;  // [start, end) of events not fully written
    std::chrono::steady_clock::time_point last_send_;
    std::uint64_t body_queued_ = 0;
    std::atomic<std::uint64_t> sent_{0};
    std::atomic<std::size_t> buffered_{0};
    std::atomic<bool> active_{true};
    std::uint64_t cancelled_from_ = 0;  // the last cancel() dropped the queued bytes [from, to)
    std::uint64_t cancelled_to_ = 0;
    bool head_sent_ = false;
    bool head_only_ = false;
    bool ending_ = false;
    bool finished_ = false;
    bool read_armed_ = false;
    bool write_armed_ = false;
    bool flush_due_ = false;  // listed with the flusher
};

}  // namespace herald::sse
