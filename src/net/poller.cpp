#include "net/poller.hpp"

#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <utility>

#include <asio/post.hpp>

namespace herald::net {
namespace {

constexpr int kBatch = 128;

int make_epoll_set() {
    const int fd = ::epoll_create1(EPOLL_CLOEXEC);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
    return fd;
}

}  // namespace

Poller::Poller(asio::io_context& context) : context_(context), set_(context, make_epoll_set()) {}

Poller::~Poller() {
    std::error_code ec;
    set_.close(ec);
    retired_.clear();
    while (PollClient* c = first_) {
        first_ = c->next_;
        c->prev_ = c->next_ = nullptr;
        c->polled_ = false;
        auto owner = std::move(c->owner_);  // may destroy c
    }
}

void Poller::add(int fd, PollClient& client, std::shared_ptr<void> owner) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = &client;
    if (::epoll_ctl(set_.native_handle(), EPOLL_CTL_ADD, fd, &ev) != 0)
        throw std::system_error(errno, std::generic_category(), "epoll_ctl(ADD)");
    client.owner_ = std::move(owner);
    client.polled_ = true;
    client.prev_ = nullptr;
    client.next_ = first_;
    if (first_) first_->prev_ = &client;
    first_ = &client;
    ++watched_;
    arm();
}

void Poller::remove(int fd, PollClient& client) noexcept {
    if (!client.polled_) return;
    client.polled_ = false;
    epoll_event ev{};
    ::epoll_ctl(set_.native_handle(), EPOLL_CTL_DEL, fd, &ev);
    (client.prev_ ? client.prev_->next_ : first_) = client.next_;
    if (client.next_) client.next_->prev_ = client.prev_;
    client.prev_ = client.next_ = nullptr;
    if (--watched_ == 0 && armed_) {
        // Nothing left to watch: the io_context must be free to run out of work.
        armed_ = false;
        ++generation_;
        std::error_code ec;
        set_.cancel(ec);
    }
    retire(std::move(client.owner_));
}

void Poller::retire(std::shared_ptr<void> owner) noexcept {
    if (!owner) return;
    try {
        if (dispatching_here()) {
            retired_.push_back(std::move(owner));
            return;
        }
        // The caller may still be running inside the owner: it goes when this turn of the loop is over.
        asio::post(context_, [owner = std::move(owner)] {});
    } catch (const std::bad_alloc&) {
        // Out of memory: keeping the owner alive for good is the only safe choice left.
        new std::shared_ptr<void>(std::move(owner));
    }
}

// Waits on the set only while it has members, so an idle reactor leaves no operation pending.
void Poller::arm() {
    if (armed_ || watched_ == 0) return;
    armed_ = true;
    set_.async_wait(asio::posix::stream_descriptor::wait_read, [this, generation = ++generation_](std::error_code ec) {
        // Aborted: the set was closed with the reactor (which may be gone) or cancelled: touch nothing.
        // Success means the reactor is alive; a wait cancelled after it completed is stale.
        if (ec || generation != generation_) return;
        armed_ = false;
        dispatch();
        arm();
    });
}

constinit thread_local const Poller* Poller::current_ = nullptr;

void Poller::dispatch() {
    epoll_event events[kBatch];
    int n;
    do {
        n = ::epoll_wait(set_.native_handle(), events, kBatch, 0);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) return;
    batch_time_ = std::chrono::steady_clock::now();
    const Poller* outer = std::exchange(current_, this);
    for (int i = 0; i < n; ++i) {
        auto* client = static_cast<PollClient*>(events[i].data.ptr);
        if (client->polled_) client->on_ready(events[i].events);
        if (deferred_bytes_ >= defer_budget_bytes) end_deferred();
    }
    end_deferred();
    current_ = outer;
    retired_.clear();
}

// Still inside the batch: a client removed here is retired like one removed in on_ready().
void Poller::end_deferred() {
    for (std::size_t i = 0; i < deferred_.size(); ++i)
        if (deferred_[i]->polled_) deferred_[i]->on_batch_end();
    deferred_.clear();
    deferred_bytes_ = 0;
}

bool Poller::defer(PollClient& client, std::size_t bytes) {
    if (!dispatching_here()) return false;
    deferred_.push_back(&client);
    deferred_bytes_ += bytes;
    return true;
}

}  // namespace herald::net
