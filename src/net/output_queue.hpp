#pragma once
// Bytes waiting to be written to one socket, flushed with gathered non-blocking writes. Shared by
// WebSocket sessions and event streams; the owner decides when to flush (once per loop turn).
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

namespace herald::net {

class OutputQueue {
public:
    enum class Flush : std::uint8_t { done, blocked, failed };

    /// Queues bytes; small pieces are appended to the last queued buffer so a burst is one iovec.
    void append(std::string_view bytes);
    /// Queues a whole buffer without copying it again.
    void push(std::string bytes);
    /// Writes as much as the socket takes: done (all written), blocked (EAGAIN) or failed (peer gone).
    Flush flush(int fd);
    /// Forgets everything queued (a slow reader is being dropped).
    void clear() noexcept;
    /// Drops the queued bytes past the absolute position `total` (not below written()).
    void truncate(std::uint64_t total) noexcept;

    bool empty() const noexcept { return buffers_.empty(); }
    std::size_t buffered() const noexcept { return static_cast<std::size_t>(queued_ - written_); }
    /// Bytes queued and bytes written since the start; a send is complete once written() reaches the
    /// queued() value read right after queueing it.
    std::uint64_t queued() const noexcept { return queued_; }
    std::uint64_t written() const noexcept { return written_; }

private:
    std::deque<std::string> buffers_;
    std::size_t offset_ = 0;  // bytes of buffers_.front() already written
    std::uint64_t queued_ = 0;
    std::uint64_t written_ = 0;
};

}  // namespace herald::net
