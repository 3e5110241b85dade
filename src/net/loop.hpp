#pragma once
// One event loop: an io_context run by one thread, and everything its connections share.
// Share-nothing: only the loop's own thread touches anything here except `connections_open`.
#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include <herald/http/parser.hpp>
#include <herald/http/request.hpp>
#include <herald/http/router.hpp>
#include <herald/server.hpp>

#include "http/date.hpp"
#include "net/deadlines.hpp"
#include "net/loop_member.hpp"

namespace herald::http {
class Connection;
}

namespace herald::net {

class Loop {
    // First member: constructed before, and destroyed after, everything that uses it.
    asio::io_context context_{1};

public:
    /// Size of the per-loop read buffer every connection of the loop reads into.
    static constexpr std::size_t read_buffer_size = 64 * 1024;

    Loop(Server::Impl& server, unsigned index);
    ~Loop();
    Loop(const Loop&) = delete;
    Loop& operator=(const Loop&) = delete;

    asio::io_context& context() noexcept { return context_; }
    Server::Impl& server() noexcept { return server_; }
    unsigned index() const noexcept { return index_; }

    // Bookkeeping of connections and sessions (intrusive list; loop thread only).
    void add(LoopMember& m) noexcept;
    void remove(LoopMember& m) noexcept;
    std::size_t connections() const noexcept { return connections_open.load(std::memory_order_relaxed); }

    /// Starts serving: accept on this loop's acceptors and keep run() going until drained.
    void start();
    /// Begins a graceful stop on this loop (loop thread): stop accepting, close idle connections,
    /// finish in-flight ones; at `deadline` close the rest and let run() return.
    void drain(Clock::time_point deadline);
    bool draining() const noexcept { return draining_; }

    /// Acceptors that deliver connections to `targets` round-robin (a single one: this loop).
    void add_acceptor(std::unique_ptr<asio::ip::tcp::acceptor> acceptor);
    void close_acceptors() noexcept;

    // Per-loop scratch shared by every connection of the loop; valid only within one callback.
    Deadlines deadlines;
    http::RequestParser parser;
    Request request;
    RouteMatch match;
    http::DateCache date;
    std::string cork;  // responses of one processing step, written with one syscall
    char* read_buffer() noexcept { return read_buffer_.get(); }

    std::atomic<std::size_t> connections_open{0};

private:
    void accept(asio::ip::tcp::acceptor& acceptor);
    void on_accept_error(asio::ip::tcp::acceptor& acceptor, std::error_code ec);
    void finish_if_drained();

    Server::Impl& server_;
    unsigned index_;
    std::unique_ptr<char[]> read_buffer_;
    std::vector<std::unique_ptr<asio::ip::tcp::acceptor>> acceptors_;
    std::unique_ptr<asio::steady_timer> accept_backoff_;
    std::unique_ptr<asio::steady_timer> drain_timer_;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
    LoopMember* first_ = nullptr;
    unsigned next_target_ = 0;
    bool draining_ = false;
};

}  // namespace herald::net
