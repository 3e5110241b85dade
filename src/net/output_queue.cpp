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

// Small buffers of drained queues, kept for the next queue on this thread. Answers wait for the end of
// the loop's batch, so hundreds of queues hold a buffer at once and free them together: more than
// malloc's per-thread cache keeps, and the rest would go through its slow paths every turn. Bounded:
// 256 buffers of at most 4 KiB per thread. Buffers are kept at their full size (see Buffer), zeroed
// once when first made. The lists of drained queues are kept the same way (256 short ones), as a
// queue drains and fills again on every read of a busy connection.
thread_local bool pool_gone = false;  // trivially destructible: readable during thread exit

class BufferPool {
public:
    static constexpr std::size_t max_capacity = 4096;

    BufferPool() = default;
    BufferPool(const BufferPool&) = delete;
    BufferPool& operator=(const BufferPool&) = delete;
    ~BufferPool() { pool_gone = true; }

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

    void give(std::string& buffer) noexcept {
        const std::size_t capacity = buffer.capacity();
        if (capacity < kFirstReserve || capacity > max_capacity || free_.size() == max_buffers) return;
        if (free_.capacity() == 0) {
            try {
                free_.reserve(max_buffers);  // once per thread
            } catch (const std::bad_alloc&) {
                return;
            }
        }
        buffer.resize(capacity);  // stays a no-op for a buffer that came from here
        free_.push_back(std::move(buffer));
    }

    // An empty list, with room when one was kept.
    std::vector<QueuedBuffer> take_list() noexcept {
        if (lists_.empty()) return {};
        std::vector<QueuedBuffer> list = std::move(lists_.back());
        lists_.pop_back();
        return list;
    }

    void give_list(std::vector<QueuedBuffer>& list) noexcept {
        if (list.capacity() == 0 || list.capacity() > max_list_capacity || lists_.size() == max_buffers) return;
        if (lists_.capacity() == 0) {
            try {
                lists_.reserve(max_buffers);  // once per thread
            } catch (const std::bad_alloc&) {
                return;
            }
        }
        list.clear();
        lists_.push_back(std::move(list));
    }

private:
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

[[gnu::noinline]] void OutputQueue::copy(char* to, std::string_view bytes) noexcept { std::memcpy(to, bytes.data(), bytes.size()); }

void OutputQueue::append(std::string_view bytes) {
    if (!bytes.empty()) std::memcpy(extend(bytes.size()), bytes.data(), bytes.size());
}

char* OutputQueue::extend_slow(std::size_t size) {
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

void OutputQueue::own_borrowed() {
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

void OutputQueue::add(Buffer buffer) {
    if (buffers_.capacity() == 0 && !pool_gone) buffers_ = pool.take_list();
    // A queue that never drains completely must not grow a tail of written slots.
    if (head_ >= 32 && head_ * 2 >= buffers_.size()) {
        buffers_.erase(buffers_.begin(), buffers_.begin() + static_cast<std::ptrdiff_t>(head_));
        head_ = 0;
    }
    buffers_.push_back(std::move(buffer));
}

void OutputQueue::pop_front() noexcept {
    offset_ = 0;
    recycle(buffers_[head_].own);
    if (++head_ < buffers_.size()) {
        buffers_[head_ - 1] = Buffer{};  // release its bytes now, not when the queue drains
        return;
    }
    // Drained: give the memory back, so an idle connection holds none.
    if (!pool_gone) pool.give_list(buffers_);
    std::vector<Buffer>().swap(buffers_);
    head_ = 0;
}

OutputQueue::Flush OutputQueue::flush(int fd) {
    while (!empty()) {
        iovec iov[kMaxIovecs];
        int count = 0;
        for (std::size_t i = head_; i < buffers_.size() && count < kMaxIovecs; ++i, ++count) {
            const std::size_t skip = count == 0 ? offset_ : 0;
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
    while (queued_ > total && !empty()) {
        auto& back = buffers_.back();
        const bool front = buffers_.size() - head_ == 1;
        const std::size_t start = front ? offset_ : 0;
        const std::size_t unwritten = back.size() - start;
        const auto excess = static_cast<std::size_t>(queued_ - total);
        if (excess >= unwritten) {
            queued_ -= unwritten;
            if (front) {
                clear();
                return;
            }
            buffers_.pop_back();
        } else {
            if (back.is_view())
                back.shared.remove_suffix(excess);
            else
                back.used -= excess;
            queued_ -= excess;
        }
    }
}

void OutputQueue::clear() noexcept {
    std::vector<Buffer>().swap(buffers_);
    head_ = 0;
    offset_ = 0;
    written_ = queued_;
}

}  // namespace herald::net
