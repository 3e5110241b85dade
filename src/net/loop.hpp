#pragma once
// One event loop of the server: an io_context run by one thread, and everything its connections share.
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
#include "net/reactor.hpp"

namespace herald::http {
class Connection;
}

namespace herald::net {

// Owns the io_context of a server loop; a base so it is built before, and destroyed after, the reactor.
struct OwnedContext {
    asio::io_context owned_context{1};
};

/// One loop of a server: a reactor on its own io_context, with acceptors and the HTTP scratch state.
class Loop final : private OwnedContext, public Reactor {
public:
    Loop(Server::Impl& server, unsigned index);
    ~Loop() override;

    Server::Impl& server() noexcept { return server_; }
    unsigned index() const noexcept { return index_; }

    /// Starts serving: accept on this loop's acceptors and keep run() going until drained.
    void start();
    /// Begins a graceful stop on this loop (loop thread): stop accepting, close idle connections,
    /// finish in-flight ones; at `deadline` close the rest and let run() return.
    void drain(Clock::time_point deadline);

    /// Acceptors that deliver connections to `targets` round-robin (a single one: this loop).
    void add_acceptor(std::unique_ptr<asio::ip::tcp::acceptor> acceptor);
    void close_acceptors() noexcept;

    // Per-loop scratch shared by every connection of the loop; valid only within one callback.
    http::RequestParser parser;
    Request request;
    RouteMatch match;
    http::DateCache date;
    std::string cork;  // responses of one processing step, written with one syscall

private:
    void on_member_removed() override;
    void accept(asio::ip::tcp::acceptor& acceptor);
    void on_accept_error(asio::ip::tcp::acceptor& acceptor, std::error_code ec);
    void finish_if_drained();

    Server::Impl& server_;
    unsigned index_;
    std::vector<std::unique_ptr<asio::ip::tcp::acceptor>> acceptors_;
    std::unique_ptr<asio::steady_timer> accept_backoff_;
    std::unique_ptr<asio::steady_timer> drain_timer_;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
    unsigned next_target_ = 0;
};

}  // namespace herald::net
