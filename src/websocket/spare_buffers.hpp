#pragma once
// Spare message buffers of one thread, bounded in count and bytes (internal).
#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

namespace herald::websocket {

// Freed buffers kept for the next message received on the same thread, so that steady traffic
// allocates no memory per message: see the thread's pools in session.cpp.
class SpareBuffers {
public:
    struct Limits {
        std::size_t min_bytes;   // smaller buffers are simply freed
        std::size_t max_bytes;   // and larger ones
        std::size_t max_buffers;
        std::size_t max_total_bytes;
    };

    explicit SpareBuffers(Limits limits) : limits_(limits) { spare_.reserve(limits.max_buffers); }
    SpareBuffers(const SpareBuffers&) = delete;
    SpareBuffers& operator=(const SpareBuffers&) = delete;

    // A buffer of at least `capacity` bytes (its old contents, if any, are the caller's to cut), or none.
    std::string take(std::size_t capacity) {
        for (std::size_t i = spare_.size(); i-- > 0;) {
            if (spare_[i].capacity() < capacity) continue;
            std::string buffer = std::move(spare_[i]);
            bytes_ -= buffer.capacity();
            if (i + 1 != spare_.size()) spare_[i] = std::move(spare_.back());
            spare_.pop_back();
            return buffer;
        }
        return {};
    }

    // Keeps the buffer (which is left empty) if the limits allow, in place of smaller ones when they do
    // not; otherwise leaves it alone. Without the replacing, a pool filled by one workload's buffers
    // (64 KiB messages) would refuse the larger ones of the next (1 MiB) for good, and every one of its
    // messages would be fresh memory again.
    void give(std::string& buffer) noexcept {
        const std::size_t bytes = buffer.capacity();
        if (bytes < limits_.min_bytes || bytes > limits_.max_bytes || bytes > limits_.max_total_bytes) return;
        while (spare_.size() == limits_.max_buffers || bytes_ + bytes > limits_.max_total_bytes) {
            const auto smallest = std::min_element(spare_.begin(), spare_.end(), [](const auto& a, const auto& b) {
                return a.capacity() < b.capacity();
            });
            if (smallest == spare_.end() || smallest->capacity() >= bytes) return;
            bytes_ -= smallest->capacity();
            std::iter_swap(smallest, spare_.end() - 1);
            spare_.pop_back();  // frees it
        }
        // Kept at its size: the next user overwrites what it needs and cuts the rest, without zeroing.
        spare_.push_back(std::move(buffer));
        bytes_ += bytes;
    }

private:
    Limits limits_;
    std::vector<std::string> spare_;
    std::size_t bytes_ = 0;
};

}  // namespace herald::websocket
