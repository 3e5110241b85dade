#include "net/loop.hpp"

#include <cerrno>

#include <asio/post.hpp>

#include "http/connection.hpp"
#include "log.hpp"
#include "server_impl.hpp"

namespace herald::net {
namespace {
// After EMFILE and friends, wait this long before accepting again: the condition lasts until
// some connection closes, and retrying at once would spin the loop.
constexpr std::chrono::milliseconds kAcceptBackoff{100};

// Asio reports accept errors in its own system category, so compare errno values, not std::errc.
bool is_resource_exhaustion(std::error_code ec) {
    const int v = ec.value();
    return v == EMFILE || v == ENFILE || v == ENOBUFS || v == ENOMEM;
}
}  // namespace

Loop::Loop(Server::Impl& server, unsigned index)
    : Reactor(owned_context), parser(server.parser_limits), server_(server), index_(index) {}

Loop::~Loop() {
    close_all();
    close_acceptors();
}

void Loop::on_member_removed() {
    if (draining_) finish_if_drained();
}

void Loop::add_acceptor(std::unique_ptr<asio::ip::tcp::acceptor> acceptor) {
    acceptors_.push_back(std::move(acceptor));
}

void Loop::close_acceptors() noexcept {
    std::error_code ec;
    for (auto& a : acceptors_) a->close(ec);
}

void Loop::start() {
    work_.emplace(asio::make_work_guard(context()));
    for (auto& a : acceptors_) asio::post(context(), [this, acc = a.get()] { accept(*acc); });
}

void Loop::accept(asio::ip::tcp::acceptor& acceptor) {
    if (draining_) return;
    // With a single acceptor (no SO_REUSEPORT), connections are dealt round-robin to every loop;
    // the accepted socket is created on its target loop's context.
    auto& loops = server_.loops;
    Loop& target = server_.options.reuse_port ? *this : *loops[next_target_++ % loops.size()];
    acceptor.async_accept(target.context(), [this, &acceptor, &target](std::error_code ec, asio::ip::tcp::socket s) {
        if (ec) {
            on_accept_error(acceptor, ec);
            return;
        }
        if (&target == this)
            http::Connection::start(*this, std::move(s));
        else
            asio::post(target.context(), [&target, sock = std::move(s)]() mutable {
                http::Connection::start(target, std::move(sock));
            });
        accept(acceptor);
    });
}

void Loop::on_accept_error(asio::ip::tcp::acceptor& acceptor, std::error_code ec) {
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (is_resource_exhaustion(ec)) {
        log().warn("accept failed: {}; pausing accepts for {} ms, open connections keep being served",
                   ec.message(), kAcceptBackoff.count());
        auto timer = std::make_shared<asio::steady_timer>(context(), kAcceptBackoff);
        timer->async_wait([this, &acceptor, timer](std::error_code wait_ec) {
            if (!wait_ec && acceptor.is_open()) accept(acceptor);
        });
        return;
    }
    log().debug("accept failed: {}; continuing", ec.message());
    accept(acceptor);
}

void Loop::drain(Clock::time_point deadline) {
    if (draining_) return;
    close_acceptors();
    drain_all();
    if (connections() == 0) {
        finish_if_drained();
        return;
    }
    drain_timer_ = std::make_unique<asio::steady_timer>(context(), deadline);
    drain_timer_->async_wait([this](std::error_code ec) {
        if (ec) return;
        log().warn("shutdown deadline reached: closing {} connection(s)", connections());
        close_all();
    });
}

void Loop::finish_if_drained() {
    if (connections() != 0) return;
    if (drain_timer_) drain_timer_->cancel();
    deadlines.shutdown();
    work_.reset();
    // Let the handlers woken by the last closes run (a route coroutine after its receive loop), then
    // stop: handlers that outlived their connections (timers in user code) must not hold the stop hostage.
    asio::post(context(), [this] { asio::post(context(), [this] { context().stop(); }); });
}

}  // namespace herald::net
