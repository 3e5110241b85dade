#include "net/output_queue.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>

namespace herald::net {
namespace {
constexpr int kMaxIovecs = 64;
constexpr std::size_t kCoalesceLimit = 16 * 1024;
// A new buffer starts with room for a few more small pieces, so pieces queued in one loop turn (a
// burst of events for one client) grow it without a chain of reallocations.
constexpr std::size_t kFirstReserve = 1024;
}  // namespace

void OutputQueue::append(std::string_view bytes) {
    if (bytes.empty()) return;
    // The front buffer may be partly written: only later buffers grow.
    const bool can_grow = !buffers_.empty() && !(buffers_.size() == 1 && offset_ > 0) &&
                          buffers_.back().size() + bytes.size() <= kCoalesceLimit;
    if (can_grow) {
        buffers_.back().append(bytes);
    } else {
        auto& buffer = buffers_.emplace_back();
        buffer.reserve(std::max(bytes.size(), kFirstReserve));
        buffer.append(bytes);
    }
    queued_ += bytes.size();
}

void OutputQueue::push(std::string bytes) {
    if (bytes.empty()) return;
    if (bytes.size() <= kCoalesceLimit / 4) {
        append(bytes);
        return;
    }
    queued_ += bytes.size();
    buffers_.push_back(std::move(bytes));
}

OutputQueue::Flush OutputQueue::flush(int fd) {
    while (!buffers_.empty()) {
        iovec iov[kMaxIovecs];
        int count = 0;
        for (auto it = buffers_.begin(); it != buffers_.end() && count < kMaxIovecs; ++it, ++count) {
            const std::size_t skip = count == 0 ? offset_ : 0;
            iov[count].iov_base = it->data() + skip;
            iov[count].iov_len = it->size() - skip;
        }
        msghdr msg{};
        msg.msg_iov = iov;
        msg.msg_iovlen = static_cast<std::size_t>(count);
        ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return Flush::blocked;
            return Flush::failed;
        }
        auto left = static_cast<std::size_t>(n);
        written_ += left;
        while (left > 0) {
            const std::size_t rest = buffers_.front().size() - offset_;
            if (left < rest) {
                offset_ += left;
                left = 0;
            } else {
                left -= rest;
                buffers_.pop_front();
                offset_ = 0;
            }
        }
    }
    return Flush::done;
}

void OutputQueue::truncate(std::uint64_t total) noexcept {
    if (total < written_) total = written_;
    while (queued_ > total && !buffers_.empty()) {
        auto& back = buffers_.back();
        const std::size_t start = buffers_.size() == 1 ? offset_ : 0;
        const std::size_t unwritten = back.size() - start;
        const auto excess = static_cast<std::size_t>(queued_ - total);
        if (excess >= unwritten) {
            queued_ -= unwritten;
            if (buffers_.size() == 1) offset_ = 0;
            buffers_.pop_back();
        } else {
            back.resize(back.size() - excess);
            queued_ -= excess;
        }
    }
}

void OutputQueue::clear() noexcept {
    buffers_.clear();
    offset_ = 0;
    written_ = queued_;
}

}  // namespace herald::net
