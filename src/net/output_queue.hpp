#pragma once
// Bytes waiting to be written to one socket, flushed with gathered non-blocking writes. Shared by
// WebSocket sessions and event streams; the owner decides when to flush (once per loop turn).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace herald::net {
namespace detail {
// The chunks given back on this thread (see OutputQueue::chunk_), for the next empty queue. Trivially
// destructible, so it stays readable during thread exit; the thread's buffer pool frees them.
struct ChunkCache {
    static constexpr std::uint32_t capacity = 256;
    char* chunks[capacity];
    std::uint32_t count;
};
inline constinit thread_local ChunkCache chunk_cache{};
}  // namespace detail

// One buffer of an OutputQueue (internal): bytes of its own (the first `used` of `own`, which is kept
// at its full capacity so that appending writes no zeros first), or a view (`shared`, never empty when
// queued): into a buffer shared with others (`owner`), or, without an owner, borrowed for a moment
// (see push_borrowed()).
struct QueuedBuffer {
    std::string own{};
    std::size_t used = 0;
    std::shared_ptr<const std::string> owner{};
    std::string_view shared{};
    bool is_view() const noexcept { return shared.data() != nullptr; }
    bool is_borrowed() const noexcept { return is_view() && !owner; }
    const char* data() const noexcept { return is_view() ? shared.data() : own.data(); }
    std::size_t size() const noexcept { return is_view() ? shared.size() : used; }
};

class OutputQueue {
public:
    enum class Flush : std::uint8_t { done, blocked, failed };

    OutputQueue() = default;
    ~OutputQueue() {
        if (chunk_) release_chunk();
    }
    OutputQueue(const OutputQueue&) = delete;  // the chunk is ours alone
    OutputQueue& operator=(const OutputQueue&) = delete;

    /// The size of the thread's chunks (see chunk_), which take a read's usual answers.
    static constexpr std::size_t chunk_bytes = 2048;

    /// Queues bytes; small pieces are appended to the last queued buffer so a burst is one iovec.
    void append(std::string_view bytes);
    /// Queues `size` bytes that the caller writes at the returned address before anything else is
    /// queued or flushed (a frame encoded straight into the queue).
    [[gnu::always_inline]] char* extend(std::size_t size) {
        if (char* at = try_extend(size)) return at;
        return extend_slow(size);
    }
    /// extend() when the chunk has room (the common case, inline and without a call), else null and
    /// nothing queued.
    [[gnu::always_inline]] char* try_extend(std::size_t size) noexcept {
        if (static_cast<std::size_t>(chunk_limit_ - chunk_used_) < size) return nullptr;
        char* at = chunk_ + chunk_used_;
        chunk_used_ = static_cast<std::uint16_t>(chunk_used_ + size);
        queued_ += size;
        return at;
    }
    /// try_extend(), and also for the first bytes of an empty queue while this thread has a chunk at
    /// hand (the first answer of a read): still inline and without a call.
    [[gnu::always_inline]] char* try_extend_or_start(std::size_t size) noexcept {
        if (char* at = try_extend(size)) return at;
        auto& cache = detail::chunk_cache;
        if (!empty() || cache.count == 0 || size > chunk_bytes) return nullptr;
        return start_chunk(cache.chunks[--cache.count], size);
    }
    /// Payloads up to this size are copied by copy() inline, without a call.
    static constexpr std::size_t inline_copy_max = 64;
    /// Copies `bytes` to `to` (space from extend()). Up to inline_copy_max bytes are copied inline in
    /// two to four overlapping moves; longer ones by memcpy out of line (inlined where the size is known
    /// to be small, GCC turns memcpy into `rep movs`, which is slow to start).
    [[gnu::always_inline]] static void copy(char* to, std::string_view bytes) noexcept {
        const std::size_t n = bytes.size();
        const char* from = bytes.data();
        if (n > inline_copy_max) {
            copy_out_of_line(to, bytes);
        } else if (n >= 16) {
            copy_piece<16>(to, from);
            copy_piece<16>(to + n - 16, from + n - 16);
            if (n > 32) {
                copy_piece<16>(to + 16, from + 16);
                copy_piece<16>(to + n - 32, from + n - 32);
            }
        } else if (n >= 8) {
            copy_piece<8>(to, from);
            copy_piece<8>(to + n - 8, from + n - 8);
        } else if (n >= 4) {
            copy_piece<4>(to, from);
            copy_piece<4>(to + n - 4, from + n - 4);
        } else if (n > 0) {
            to[0] = from[0];
            to[n / 2] = from[n / 2];
            to[n - 1] = from[n - 1];
        }
    }
    /// Queues a whole buffer without copying it again.
    void push(std::string bytes);
    /// Queues `bytes`, which lie inside `*owner`, without copying them: the queue holds `owner` until
    /// they are written. Several pieces of one owner may be queued (a large message cut into frames,
    /// one encoded message sent to many connections).
    void push_shared(std::shared_ptr<const std::string> owner, std::string_view bytes);
    /// Queues `bytes` without copying them and without an owner: the caller keeps them unchanged until
    /// it calls own_borrowed(), which copies whatever of them a flush has not written by then.
    void push_borrowed(std::string_view bytes);
    /// Gives every borrowed piece still queued bytes of its own.
    void own_borrowed() {
        if (head_ < buffers_.size()) own_borrowed_pieces();  // the chunk holds bytes of its own
    }
    /// True while a borrowed piece is queued: flushed now, it need not be copied by own_borrowed().
    bool holds_borrowed() const noexcept;
    /// Writes as much as the socket takes: done (all written), blocked (EAGAIN) or failed (peer gone).
    Flush flush(int fd);
    /// Forgets everything queued (a slow reader is being dropped).
    void clear() noexcept;
    /// Drops the queued bytes past the absolute position `total` (not below written()).
    void truncate(std::uint64_t total) noexcept;

    bool empty() const noexcept { return chunk_ == nullptr && head_ == buffers_.size(); }
    std::size_t buffered() const noexcept { return static_cast<std::size_t>(queued_ - written_); }
    /// Bytes queued and bytes written since the start; a send is complete once written() reaches the
    /// queued() value read right after queueing it.
    std::uint64_t queued() const noexcept { return queued_; }
    std::uint64_t written() const noexcept { return written_; }

private:
    using Buffer = QueuedBuffer;
    // Bytes may be appended to the last buffer: it is ours (not shared), and not the front buffer
    // partly written already.
    bool back_appendable() const noexcept {
        return head_ < buffers_.size() && !buffers_.back().is_view() && !(offset_ > 0 && buffers_.size() - head_ == 1);
    }
    char* extend_slow(std::size_t size);
    void add(Buffer buffer);
    void pop_front() noexcept;
    // Makes `chunk` the queue's only piece, with its first `size` bytes queued (to be written at the result).
    [[gnu::always_inline]] char* start_chunk(char* chunk, std::size_t size) noexcept {
        chunk_ = chunk;
        chunk_used_ = static_cast<std::uint16_t>(size);
        chunk_limit_ = chunk_bytes;
        queued_ += size;
        return chunk;
    }
    void release_chunk() noexcept;
    void own_borrowed_pieces();
    static void copy_out_of_line(char* to, std::string_view bytes) noexcept;
    template <std::size_t N>
    static void copy_piece(char* to, const char* from) noexcept {
        char chunk[N];
        std::memcpy(chunk, from, N);
        std::memcpy(to, chunk, N);
    }

    // What a read's answers usually are (a few small frames) goes into a chunk of the thread's pool,
    // taken when the queue is empty and given back once written: no buffer list is made, walked or
    // pooled for it, and an idle connection holds no memory. Its first chunk_used_ bytes are unwritten
    // and come first (a write that stops inside them moves the rest to the front: rare, as Linux takes
    // a write this small whole or not at all); whatever did not fit follows in buffers_, and from then
    // on the chunk takes no more (chunk_limit_, where appending stops, is chunk_bytes while the chunk is
    // the queue's last piece, else chunk_used_; 0 without a chunk).
    char* chunk_ = nullptr;
    std::uint16_t chunk_used_ = 0;
    std::uint16_t chunk_limit_ = 0;
    std::uint32_t head_ = 0;  // first unwritten buffer of buffers_ (32 bits, beside the chunk's sizes)
    // A vector read from head_ on, not a deque: an empty vector owns no memory, and an idle
    // connection should not pay for a deque's eagerly allocated map and block.
    std::vector<Buffer> buffers_;
    std::size_t offset_ = 0;  // bytes of buffers_[head_] already written
    std::uint64_t queued_ = 0;
    std::uint64_t written_ = 0;
};

}  // namespace herald::net
