#include "net/deadlines.hpp"

#include <algorithm>

namespace herald::net {

class DeadlineList {
public:
    explicit DeadlineList(std::chrono::milliseconds duration) : duration(duration) {}
    std::chrono::milliseconds duration;
    Deadline* head = nullptr;
    Deadline* tail = nullptr;
    std::size_t count = 0;

    void push_back(Deadline& e) noexcept {
        e.list = this;
        e.next = nullptr;
        e.prev = tail;
        (tail ? tail->next : head) = &e;
        tail = &e;
        ++count;
    }
    void unlink(Deadline& e) noexcept {
        (e.prev ? e.prev->next : head) = e.next;
        (e.next ? e.next->prev : tail) = e.prev;
        e.prev = e.next = nullptr;
        e.list = nullptr;
        --count;
    }
};

Deadlines::Deadlines(asio::io_context& context) : timer_(context) {}

Deadlines::~Deadlines() {
    for (auto& list : lists_)
        while (list->head) list->unlink(*list->head);
}

DeadlineList& Deadlines::list_for(std::chrono::milliseconds after) {
    for (auto& list : lists_)
        if (list->duration == after) return *list;
    lists_.push_back(std::make_unique<DeadlineList>(after));
    return *lists_.back();
}

void Deadlines::schedule(Deadline& entry, std::chrono::milliseconds after) {
    cancel(entry);
    auto& list = list_for(after);
    entry.when = Clock::now() + after;
    list.push_back(entry);
    if (entry.when < armed_for_) arm(entry.when);
}

void Deadlines::cancel(Deadline& entry) noexcept {
    if (entry.list) entry.list->unlink(entry);
}

std::size_t Deadlines::size() const noexcept {
    std::size_t n = 0;
    for (const auto& list : lists_) n += list->count;
    return n;
}

void Deadlines::shutdown() {
    shut_down_ = true;
    timer_.cancel();
}

void Deadlines::arm(Clock::time_point when) {
    if (shut_down_) return;
    armed_for_ = when;
    timer_.expires_at(when);
    timer_.async_wait([this](std::error_code ec) {
        if (ec) return;  // cancelled: re-armed earlier, or shut down
        on_timer();
    });
}

void Deadlines::on_timer() {
    armed_for_ = Clock::time_point::max();
    auto now = Clock::now();
    // Fire one entry at a time: a callback may schedule or cancel others, including in this list.
    // Index, not iterators: a callback scheduling a duration new to this loop (the linger after a
    // 408) appends to lists_, which may move its elements; the lists themselves stay put.
    for (bool fired = true; fired;) {
        fired = false;
        for (std::size_t i = 0; i < lists_.size(); ++i) {
            DeadlineList& list = *lists_[i];
            if (list.head && list.head->when <= now) {
                Deadline& e = *list.head;
                list.unlink(e);
                e.fire(e);
                fired = true;
            }
        }
    }
    auto next = Clock::time_point::max();
    for (auto& list : lists_)
        if (list->head) next = std::min(next, list->head->when);
    if (next != Clock::time_point::max() && next < armed_for_) arm(next);
}

}  // namespace herald::net
