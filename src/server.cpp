#include <herald/server.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <csignal>
#include <string>

#include <asio/ip/v6_only.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>

#include <herald/error.hpp>

#include "log.hpp"
#include "server_impl.hpp"

namespace herald {
namespace {

unsigned loop_count(unsigned requested) {
    if (requested != 0) return requested;
    return std::max(1u, std::thread::hardware_concurrency());
}

std::string describe(const asio::ip::tcp::endpoint& ep) {
    auto address = ep.address().to_string();
    if (ep.address().is_v6()) address = "[" + address + "]";
    return address + ":" + std::to_string(ep.port());
}

// Broken pipes are reported by send() as EPIPE; the default action would kill the process instead.
void ignore_sigpipe() { std::signal(SIGPIPE, SIG_IGN); }

}  // namespace

Server::Impl::Impl(ServerOptions opts, Router r) : options(std::move(opts)), router(std::move(r)) {
    parser_limits.max_request_line = options.max_request_line;
    parser_limits.max_header_bytes = options.max_header_bytes;
    parser_limits.max_header_count = options.max_header_count;
    const unsigned n = loop_count(options.threads);
    options.threads = n;
    for (unsigned i = 0; i < n; ++i) loops.push_back(std::make_unique<net::Loop>(*this, i));
}

Server::Server(ServerOptions options) : Server(std::move(options), Router{}) {}

Server::Server(ServerOptions options, Router router)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(router))) {}

Server::~Server() {
    if (impl_->running.load()) {
        stop();
        wait();
    }
}

Router& Server::router() noexcept { return impl_->router; }
WebSocketRegistry& Server::websockets() noexcept { return impl_->websockets; }
EventSourceRegistry& Server::event_sources() noexcept { return impl_->event_sources; }

asio::thread_pool& Server::Impl::workers() {
    std::call_once(workers_once, [this] { workers_ = std::make_unique<asio::thread_pool>(options.worker_threads); });
    return *workers_;
}
const ServerOptions& Server::options() const noexcept { return impl_->options; }

std::size_t Server::connection_count() const noexcept {
    std::size_t n = 0;
    for (const auto& loop : impl_->loops) n += loop->connections();
    return n;
}

std::vector<asio::ip::tcp::endpoint> Server::local_endpoints() const { return impl_->endpoints; }

std::uint16_t Server::listen(std::uint16_t port) { return listen("0.0.0.0", port); }

std::uint16_t Server::listen(std::string_view host, std::uint16_t port) {
    if (impl_->running.load()) throw error("listen() must be called before run() or start()");
    asio::ip::tcp::resolver resolver(impl_->loops.front()->context());
    std::error_code ec;
    std::string host_text(host.size() > 1 && host.front() == '[' && host.back() == ']' ? host.substr(1, host.size() - 2)
                                                                                      : host);
    auto results = resolver.resolve(host_text, std::to_string(port),
                                    asio::ip::tcp::resolver::passive | asio::ip::tcp::resolver::numeric_service, ec);
    if (ec || results.empty())
        throw error(ec ? ec : std::make_error_code(std::errc::invalid_argument),
                    "cannot resolve listening host '" + std::string(host) + "'" + (ec ? ": " + ec.message() : ""));

    std::vector<asio::ip::tcp::endpoint> endpoints;
    for (const auto& entry : results)
        if (std::find(endpoints.begin(), endpoints.end(), entry.endpoint()) == endpoints.end())
            endpoints.push_back(entry.endpoint());

    const auto& options = impl_->options;
    const std::size_t per_endpoint = options.reuse_port ? impl_->loops.size() : 1;
    std::uint16_t bound_port = port;
    for (auto endpoint : endpoints) {
        // Port 0 picks a free port once; every other socket of this call joins that same port.
        if (bound_port != 0) endpoint.port(bound_port);
        for (std::size_t i = 0; i < per_endpoint; ++i) {
            auto& loop = *impl_->loops[i];
            auto acceptor = std::make_unique<asio::ip::tcp::acceptor>(loop.context());
            acceptor->open(endpoint.protocol(), ec);
            if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
            if (!ec && endpoint.address().is_v6()) acceptor->set_option(asio::ip::v6_only(true), ec);
            if (!ec && options.reuse_port) {
                int one = 1;
                if (::setsockopt(acceptor->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
                    ec = std::error_code(errno, std::system_category());
            }
            if (!ec) acceptor->bind(endpoint, ec);
            if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
            if (ec) throw error(ec, "cannot listen on " + describe(endpoint) + ": " + ec.message());
            if (endpoint.port() == 0) endpoint.port(acceptor->local_endpoint().port());
            loop.add_acceptor(std::move(acceptor));
        }
        bound_port = endpoint.port();
        impl_->endpoints.push_back(endpoint);
        log().info("listening on http://{}", describe(endpoint));
    }
    return bound_port;
}

void Server::run() {
    if (impl_->endpoints.empty()) throw error("run(): call listen() first");
    if (impl_->running.exchange(true)) throw error("the server is already running");
    ignore_sigpipe();
    auto& first = *impl_->loops.front();
    std::optional<asio::signal_set> signals;
    if (impl_->options.handle_signals) {
        signals.emplace(first.context(), SIGINT, SIGTERM);
        signals->async_wait([this](std::error_code ec, int signal) {
            if (ec) return;
            log().info("received {}: stopping gracefully", signal == SIGINT ? "SIGINT" : "SIGTERM");
            stop();
        });
    }
    for (std::size_t i = 1; i < impl_->loops.size(); ++i) {
        auto* loop = impl_->loops[i].get();
        impl_->threads.emplace_back([loop] {
            loop->start();
            loop->context().run();
        });
    }
    first.start();
    first.context().run();
    for (auto& t : impl_->threads) t.join();
    impl_->threads.clear();
    if (impl_->workers_) impl_->workers_->join();
    {
        std::lock_guard lock(impl_->mutex);
        impl_->stopped = true;
    }
    impl_->running = false;
    impl_->stopped_cv.notify_all();
}

void Server::start() {
    if (impl_->endpoints.empty()) throw error("start(): call listen() first");
    if (impl_->running.exchange(true)) throw error("the server is already running");
    ignore_sigpipe();
    impl_->background = true;
    for (auto& loop : impl_->loops) {
        auto* l = loop.get();
        l->start();
        impl_->threads.emplace_back([l] { l->context().run(); });
    }
}

void Server::stop() {
    if (impl_->stopping.exchange(true)) return;
    const auto deadline = net::Clock::now() + impl_->options.shutdown_timeout;
    for (auto& loop : impl_->loops) {
        auto* l = loop.get();
        asio::post(l->context(), [l, deadline] { l->drain(deadline); });
    }
}

void Server::wait() {
    std::unique_lock lock(impl_->mutex);
    if (impl_->background && !impl_->joined) {
        // start()ed: the first caller joins the background threads, later callers wait for it.
        impl_->joined = true;
        auto threads = std::move(impl_->threads);
        lock.unlock();
        for (auto& t : threads) t.join();
        lock.lock();
        impl_->stopped = true;
        impl_->running = false;
        impl_->stopped_cv.notify_all();
        return;
    }
    impl_->stopped_cv.wait(lock, [this] { return impl_->stopped; });
}

}  // namespace herald
