#include "net/output_queue.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>
#include <string>
#include <vector>

namespace herald::net {
namespace {
constexpr int kMaxIovecs = 64;
constexpr std::size_t kCoalesceLimit = 16 * 1024;
// A new buffer starts with room for a few more small pieces, so pieces queued in one loop turn (a
// burst of events for one client) grow it without a chain of reallocations. Below 1 KiB, with the
// string's terminator and the allocator's header, it stays in glibc's per-thread cache (tcache).
constexpr std::size_t kFirstReserve = 1000;

// The chunks of drained queues (OutputQueue::chunk_), and their small buffers, kept for the next queue
// on this thread. Answers wait for the end of the loop's batch, so hundreds of queues hold a chunk at
// once and free them together: more than malloc's per-thread cache keeps, and the rest would go
// through its slow paths every turn. The lists of drained queues are kept the same way, as a queue
// drains and fills again on every read of a connection that answers more than a chunk holds; a list
// keeps its last buffer, so the next queue takes both in one step. Bounded: 256 chunks, 256 buffers
// and 256 short lists, each with at most one buffer, of at most 4 KiB per thread. Buffers are kept at
// their full size (see Buffer), zeroed once when first made.
thread_local bool pool_gone = false;  // trivially destructible: readable during thread exit

class BufferPool {
public:
    static constexpr std::size_t max_capacity = 4096;

    BufferPool() = default;
    BufferPool(const BufferPool&) = delete;
    BufferPool& operator=(const BufferPool&) = delete;
    ~BufferPool() {
        pool_gone = true;
        auto& cache = detail::chunk_cache;
        while (cache.count > 0) ::operator delete(cache.chunks[--cache.count]);
    }

    // Chunks live in detail::chunk_cache, which OutputQueue also takes from inline; one given back on
    // this thread makes its pool, whose destructor frees them.
    char* take_chunk() {
        auto& cache = detail::chunk_cache;
        return cache.count > 0 ? cache.chunks[--cache.count] : static_cast<char*>(::operator new(OutputQueue::chunk_bytes));
    }
    void give_chunk(char* chunk) noexcept {
        auto& cache = detail::chunk_cache;
        if (cache.count < detail::ChunkCache::capacity)
            cache.chunks[cache.count++] = chunk;
        else
            ::operator delete(chunk);
    }

    // A buffer of at least `size` bytes, all of them in use (its size is its capacity).
    std::string take(std::size_t size) {
        std::string buffer;
        if (!free_.empty() && size <= free_.back().size()) {
            buffer = std::move(free_.back());
            free_.pop_back();
        } else {
            buffer.reserve(std::max(size, kFirstReserve));
            buffer.resize(buffer.capacity());
        }
        return buffer;
    }

    static bool poolable(std::size_t capacity) noexcept { return capacity >= kFirstReserve && capacity <= max_capacity; }

    void give(std::string& buffer) noexcept {
        if (!poolable(buffer.capacity()) || free_.size() == max_buffers) return;
        if (free_.capacity() == 0) {
            try {
                free_.reserve(max_buffers);  // once per thread
            } catch (const std::bad_alloc&) {
                return;
            }
        }
        buffer.resize(buffer.capacity());  // stays a no-op for a buffer that came from here
        free_.push_back(std::move(buffer));
    }

    // Lists are handed over by swapping with the queue's own (empty, without capacity): no vector is
    // made or destroyed on the way.

    // `into` becomes an empty list, with room when one was kept.
    void take_list(std::vector<QueuedBuffer>& into) noexcept {
        if (lists_.empty()) return;
        into.swap(lists_.back());
        lists_.pop_back();
        if (!into.empty()) {
            give(into.back().own);
            into.clear();
        }
    }

    // `into` becomes a list of one buffer of our own, none of it used, with room for `size` (<=
    // max_capacity) bytes.
    void take_list_with_buffer(std::size_t size, std::vector<QueuedBuffer>& into) {
        if (!lists_.empty() && !lists_.back().empty() && lists_.back().back().own.size() >= size) {
            into.swap(lists_.back());
            lists_.pop_back();
            return;
        }
        take_list(into);
        into.push_back(QueuedBuffer{.own = take(size)});
    }

    // Takes a drained queue's list (every buffer but the last already emptied), which is left empty
    // and without capacity.
    void give_list(std::vector<QueuedBuffer>& list) noexcept {
        std::string* last = !list.empty() && !list.back().is_view() ? &list.back().own : nullptr;
        const bool keep = list.capacity() != 0 && list.capacity() <= max_list_capacity && lists_.size() < max_buffers &&
                          (!last || poolable(last->capacity())) && reserve_lists();
        if (!keep) {
            if (last) give(*last);
            std::vector<QueuedBuffer>().swap(list);
            return;
        }
        if (!last) {
            list.clear();
        } else {
            if (list.size() > 1) {
                list.front() = std::move(list.back());
                list.resize(1);
            }
            QueuedBuffer& kept = list.front();
            kept.own.resize(kept.own.capacity());  // stays a no-op for a buffer that came from here
            kept.used = 0;
        }
        lists_.emplace_back().swap(list);
    }

private:
    bool reserve_lists() noexcept {
        if (lists_.capacity() != 0) return true;
        try {
            lists_.reserve(max_buffers);  // once per thread
            return true;
        } catch (const std::bad_alloc&) {
            return false;
        }
    }

    static constexpr std::size_t max_buffers = 256;
    static constexpr std::size_t max_list_capacity = 16;
    std::vector<std::string> free_;
    std::vector<std::vector<QueuedBuffer>> lists_;
};

thread_local BufferPool pool;

void recycle(std::string& buffer) noexcept {
    if (!pool_gone) pool.give(buffer);
}

}  // namespace

void OutputQueue::copy_out_of_line(char* to, std::string_view bytes) noexcept {
    std::memcpy(to, bytes.data(), bytes.size());
}

void OutputQueue::append(std::string_view bytes) {
    if (!bytes.empty()) std::memcpy(extend(bytes.size()), bytes.data(), bytes.size());
}

char* OutputQueue::extend_slow(std::size_t size) {
    if (empty() && size <= chunk_bytes && !pool_gone) {
        return start_chunk(pool.take_chunk(), size);  // the usual first piece of a drained queue
    }
    chunk_limit_ = chunk_used_;  // the chunk is full: what follows goes after it, into buffers_
    if (buffers_.capacity() == 0 && size <= BufferPool::max_capacity && !pool_gone)
        pool.take_list_with_buffer(size, buffers_);
    // Small pieces coalesce up to kCoalesceLimit; otherwise a new buffer, with room for the small
    // pieces that follow it in this turn.
    const bool can_grow = back_appendable() && buffers_.back().used + size <= kCoalesceLimit;
    if (!can_grow) add(Buffer{.own = pool_gone ? std::string(size, '\0') : pool.take(size)});
    Buffer& back = buffers_.back();
    const std::size_t at = back.used;
    if (back.own.size() < at + size)
        back.own.resize(std::max(at + size, std::min(2 * back.own.size(), kCoalesceLimit)));
    back.used = at + size;
    queued_ += size;
    return back.own.data() + at;
}

void OutputQueue::push(std::string bytes) {
    if (bytes.empty()) return;
    if (bytes.size() <= kCoalesceLimit / 4) {
        append(bytes);
        return;
    }
    queued_ += bytes.size();
    const std::size_t used = bytes.size();
    add(Buffer{.own = std::move(bytes), .used = used});
}

void OutputQueue::push_shared(std::shared_ptr<const std::string> owner, std::string_view bytes) {
    if (bytes.empty()) return;
    queued_ += bytes.size();
    add(Buffer{.owner = std::move(owner), .shared = bytes});
}

void OutputQueue::push_borrowed(std::string_view bytes) {
    if (bytes.empty()) return;
    queued_ += bytes.size();
    add(Buffer{.shared = bytes});
}

void OutputQueue::own_borrowed_pieces() {
    for (std::size_t i = head_; i < buffers_.size(); ++i) {
        Buffer& b = buffers_[i];
        if (!b.is_borrowed()) continue;
        // The front buffer may be partly written: only its unwritten bytes are kept.
        const std::size_t skip = i == head_ ? offset_ : 0;
        if (i == head_) offset_ = 0;
        b.own.assign(b.shared.substr(skip));
        b.used = b.own.size();
        b.shared = {};
    }
}

bool OutputQueue::holds_borrowed() const noexcept {
    for (std::size_t i = head_; i < buffers_.size(); ++i)
        if (buffers_[i].is_borrowed()) return true;
    return false;
}

void OutputQueue::add(Buffer buffer) {
    chunk_limit_ = chunk_used_;  // the buffer goes after the chunk's bytes
    if (buffers_.capacity() == 0 && !pool_gone) pool.take_list(buffers_);
    // A queue that never drains completely must not grow a tail of written slots.
    if (head_ >= 32 && head_ * 2 >= buffers_.size()) {
        buffers_.erase(buffers_.begin(), buffers_.begin() + static_cast<std::ptrdiff_t>(head_));
        head_ = 0;
    }
    buffers_.push_back(std::move(buffer));
}

void OutputQueue::pop_front() noexcept {
    offset_ = 0;
    if (++head_ < buffers_.size()) {
        recycle(buffers_[head_ - 1].own);
        buffers_[head_ - 1] = Buffer{};  // release its bytes now, not when the queue drains
        return;
    }
    // Drained: give the memory back (the last buffer with the list), so an idle connection holds none.
    if (!pool_gone)
        pool.give_list(buffers_);
    else
        std::vector<Buffer>().swap(buffers_);
    head_ = 0;
}

void OutputQueue::release_chunk() noexcept {
    if (!pool_gone)
        pool.give_chunk(chunk_);
    else
        ::operator delete(chunk_);
    chunk_ = nullptr;
    chunk_used_ = chunk_limit_ = 0;
}

OutputQueue::Flush OutputQueue::flush(int fd) {
    while (!empty()) {
        iovec iov[kMaxIovecs];
        int count = 0;
        if (chunk_) {
            iov[0].iov_base = chunk_;
            iov[0].iov_len = chunk_used_;
            count = 1;
        }
        for (std::size_t i = head_; i < buffers_.size() && count < kMaxIovecs; ++i, ++count) {
            const std::size_t skip = i == head_ ? offset_ : 0;
            iov[count].iov_base = const_cast<char*>(buffers_[i].data()) + skip;
            iov[count].iov_len = buffers_[i].size() - skip;
        }
        // One buffer (the usual burst of small frames coalesced) goes out by send(): sendmsg() copies
        // and checks a message header and an iovec array first.
        ssize_t n;
        if (count == 1) {
            n = ::send(fd, iov[0].iov_base, iov[0].iov_len, MSG_NOSIGNAL);
        } else {
            msghdr msg{};
            msg.msg_iov = iov;
            msg.msg_iovlen = static_cast<std::size_t>(count);
            n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
        }
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return Flush::blocked;
            return Flush::failed;
        }
        auto left = static_cast<std::size_t>(n);
        written_ += left;
        if (chunk_) {
            if (left < chunk_used_) {
                std::memmove(chunk_, chunk_ + left, chunk_used_ - left);
                chunk_used_ = static_cast<std::uint16_t>(chunk_used_ - left);
                if (head_ < buffers_.size()) chunk_limit_ = chunk_used_;
                left = 0;
            } else {
                left -= chunk_used_;
                release_chunk();
            }
        }
        while (left > 0) {
            const std::size_t rest = buffers_[head_].size() - offset_;
            if (left < rest) {
                offset_ += left;
                left = 0;
            } else {
                left -= rest;
                pop_front();
            }
        }
    }
    return Flush::done;
}

void OutputQueue::truncate(std::uint64_t total) noexcept {
    if (total < written_) total = written_;
    while (queued_ > total && head_ < buffers_.size()) {
        auto& back = buffers_.back();
        const bool front = buffers_.size() - head_ == 1;
        const std::size_t start = front ? offset_ : 0;
        const std::size_t unwritten = back.size() - start;
        const auto excess = static_cast<std::size_t>(queued_ - total);
        if (excess >= unwritten) {
            queued_ -= unwritten;
            if (front) {
                std::vector<Buffer>().swap(buffers_);
                head_ = 0;
                offset_ = 0;
            } else {
                buffers_.pop_back();
            }
        } else {
            if (back.is_view())
                back.shared.remove_suffix(excess);
            else
                back.used -= excess;
            queued_ -= excess;
        }
    }
    if (!chunk_ || head_ < buffers_.size()) return;
    // The chunk is the last piece (again): cut it, and it takes appended bytes.
    const auto excess = static_cast<std::size_t>(queued_ > total ? queued_ - total : 0);  // its unwritten bytes at most
    chunk_used_ = static_cast<std::uint16_t>(chunk_used_ - excess);
    queued_ -= excess;
    if (chunk_used_ == 0)
        release_chunk();
    else
        chunk_limit_ = chunk_bytes;
}

void OutputQueue::clear() noexcept {
    if (chunk_) release_chunk();
    std::vector<Buffer>().swap(buffers_);
    head_ = 0;
    offset_ = 0;
    written_ = queued_;
}

}  // namespace herald::net
