#pragma once
// What every connection object needs from the event loop it lives on: the io_context, the per-loop
// timeouts, the read buffer shared by the loop's connections, the edge-triggered poller of its
// WebSocket sockets, and the list of live members a graceful stop walks. A server's loops are reactors (net::Loop); clients get one per io_context
// (client_reactor()). Share-nothing: one thread runs the io_context and touches the reactor.
#include <atomic>
#include <cstddef>
#include <memory>

#include <asio/io_context.hpp>

#include "net/deadlines.hpp"
#include "net/loop_member.hpp"
#include "net/poller.hpp"

namespace herald::net {

/// A read for `payload` bytes of WebSocket payload and the frame headers around them: 1/64 more,
/// a 14-byte header per message of 900 bytes or more, so messages that fill it arrive whole.
constexpr std::size_t with_header_room(std::size_t payload) noexcept { return payload + payload / 64; }

class Reactor {
public:
    /// Size of the read buffer every connection of the reactor reads into: 256 KiB of payload and its
    /// headers (four 64 KiB messages in one read).
    static constexpr std::size_t read_buffer_size = with_header_room(256 * 1024);

    explicit Reactor(asio::io_context& context);
    virtual ~Reactor();
    Reactor(const Reactor&) = delete;
    Reactor& operator=(const Reactor&) = delete;

    asio::io_context& context() noexcept { return context_; }

    // Bookkeeping of live connections and sessions (intrusive list; reactor thread only).
    void add(LoopMember& m) noexcept;
    void remove(LoopMember& m) noexcept;
    std::size_t connections() const noexcept { return connections_open.load(std::memory_order_relaxed); }
    /// True once a graceful stop began: new members drain at once.
    bool draining() const noexcept { return draining_; }

    /// Scratch valid only within one callback on the reactor's thread.
    char* read_buffer() noexcept { return read_buffer_.get(); }

    Deadlines deadlines;
    Poller poller;
    std::atomic<std::size_t> connections_open{0};

protected:
    /// Called after a member left the list (the server's loop finishes a drain).
    virtual void on_member_removed() {}
    /// Closes every member at once.
    void close_all() noexcept;
    /// Asks every member to finish what is in flight and close.
    void drain_all();

    bool draining_ = false;

private:
    asio::io_context& context_;
    std::unique_ptr<char[]> read_buffer_;
    LoopMember* first_ = nullptr;
};

/// The reactor of client connections (WebSocket and SSE clients) running on `context`, created on first
/// use and shut down with the io_context. One thread must run `context`.
Reactor& client_reactor(asio::io_context& context);

}  // namespace herald::net
