#pragma once
// Edge-triggered readiness for a reactor's long-lived sockets (WebSocket sessions): each socket joins
// one epoll set of the reactor once, for input and output, and stays in it. Asio watches only the
// set's descriptor. An async_wait per read would cost Asio's epoll_ctl re-registration every time;
// here a busy loop pays one per batch of ready sockets, an idle socket nothing.
#include <sys/epoll.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>

namespace herald::net {

/// A socket's owner, told what became ready. Edge-triggered: an event comes when the state changes,
/// so the owner reads until a short read or EAGAIN, and writes until EAGAIN, before it waits again.
class PollClient {
public:
    /// `events`: EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLLHUP, EPOLLERR as epoll reports them.
    virtual void on_ready(std::uint32_t events) = 0;
    /// Called once the batch of events in which the client asked for it (Poller::defer()) is dispatched.
    virtual void on_batch_end() {}
    bool polled() const noexcept { return polled_; }

protected:
    ~PollClient() = default;

private:
    friend class Poller;
    std::shared_ptr<void> owner_;  // keeps the client alive while its socket is in the set
    PollClient* prev_ = nullptr;
    PollClient* next_ = nullptr;
    bool polled_ = false;
};

class Poller {
public:
    explicit Poller(asio::io_context& context);
    /// Lets go of the clients still in the set (their owners close their sockets).
    ~Poller();
    Poller(const Poller&) = delete;
    Poller& operator=(const Poller&) = delete;

    /// Watches `fd` for `client`, kept alive by `owner` until remove(); input already waiting is
    /// reported at once. While a socket is watched, the io_context has work.
    void add(int fd, PollClient& client, std::shared_ptr<void> owner);
    /// Stops watching `fd` (before it is closed): events of the current batch are no longer delivered,
    /// and the owner is let go once the caller, which may run inside it, is done.
    void remove(int fd, PollClient& client) noexcept;
    /// Inside on_ready(): calls client.on_batch_end() after every event of this batch was dispatched,
    /// unless the client was removed by then, or earlier: once the clients deferred so far hold back
    /// `defer_budget_bytes` (`bytes`: this client's part), they are called right after the current
    /// event. False outside a batch (nothing was deferred).
    bool defer(PollClient& client, std::size_t bytes);
    /// Deferred answers are held back so that a peer finds many of its sockets ready at once, but the
    /// peer also waits for them: past this many bytes they leave. Measured (ws_echo, 100 connections):
    /// 32-byte echoes as fast as with no limit, 512-byte ones 1.4x faster than with none.
    static constexpr std::size_t defer_budget_bytes = 32 * 1024;
    /// True while the calling thread is inside this poller's batch: a test of "on the loop's thread"
    /// for the hot path, which is one thread-local load (asio's test walks a list).
    bool dispatching_here() const noexcept { return current_ == this; }
    /// The steady clock, read once per batch inside one (a clock read costs as much as parsing a small
    /// frame), and at the call outside.
    std::chrono::steady_clock::time_point now() const noexcept {
        return dispatching_here() ? batch_time_ : std::chrono::steady_clock::now();
    }

private:
    static constinit thread_local const Poller* current_;  // the poller whose batch this thread runs

    void arm();
    void end_deferred();
    void dispatch();
    void retire(std::shared_ptr<void> owner) noexcept;

    asio::io_context& context_;
    asio::posix::stream_descriptor set_;
    PollClient* first_ = nullptr;
    std::size_t watched_ = 0;
    std::vector<std::shared_ptr<void>> retired_;  // owners let go during a batch, released after it
    std::vector<PollClient*> deferred_;           // to be called at the end of the batch
    std::size_t deferred_bytes_ = 0;
    std::uint64_t generation_ = 0;                // of the pending wait: a cancelled one is stale
    std::chrono::steady_clock::time_point batch_time_;  // when the current batch began
    bool armed_ = false;
};

}  // namespace herald::net
