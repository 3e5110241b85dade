#pragma once
// The server: N share-nothing event loops serving HTTP/1.1 (and, through upgrades, WebSocket and SSE).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <asio/ip/tcp.hpp>

#include <herald/http/router.hpp>
#include <herald/sse/event_source.hpp>
#include <herald/websocket/websocket.hpp>

namespace herald {

/// Settings of a server; every limit and timeout is named here. Use designated initializers:
/// `Server server({.threads = 1, .idle_timeout = 30s});`
struct ServerOptions {
    unsigned threads = 0;                          ///< event loops; 0: one per hardware thread
    std::size_t max_request_line = 8 * 1024;       ///< → 414
    std::size_t max_header_bytes = 16 * 1024;      ///< → 431
    std::size_t max_header_count = 100;            ///< → 431
    std::size_t max_body_bytes = 1024 * 1024;      ///< default request body limit (routes may override) → 413
    std::chrono::milliseconds header_timeout{10'000};  ///< a request head must arrive within this → 408
    std::chrono::milliseconds body_timeout{10'000};    ///< longest gap while reading a body → 408
    std::chrono::milliseconds idle_timeout{75'000};    ///< keep-alive connection with no request → closed
    std::chrono::milliseconds shutdown_timeout{10'000};///< graceful stop: in-flight work gets this long
    std::uint32_t max_requests_per_connection = 10'000; ///< then Connection: close; 0: unlimited
    bool reuse_port = true;         ///< one acceptor per loop (SO_REUSEPORT); false: loop 0 accepts for all
    bool handle_signals = true;     ///< run() stops gracefully on SIGINT/SIGTERM
    bool access_log = true;         ///< one info line per request
    std::string server_header = "herald";  ///< Server field value ("" omits it)
    unsigned worker_threads = 16;   ///< threads of the pool that runs blocking routes (created on first use)
    WebSocketOptions websocket{};   ///< defaults for accept_websocket() without options
    EventSourceOptions event_source{};  ///< defaults for event_source() without options
};

/// An HTTP server with its own router. Register routes and listen() before run() or start().
///
///   herald::Server server;
///   server.get("/", [](herald::Request&) { return herald::Response::text("hello"); });
///   server.listen(8080);
///   server.run();
class Server {
public:
    explicit Server(ServerOptions options = {});
    Server(ServerOptions options, Router router);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    /// The router; route registration is also forwarded from the Server itself.
    Router& router() noexcept;
    Server& use(Middleware m) { router().use(std::move(m)); return *this; }
    Server& get(std::string_view path, Handler h) { router().get(path, std::move(h)); return *this; }
    Server& post(std::string_view path, Handler h) { router().post(path, std::move(h)); return *this; }
    Server& put(std::string_view path, Handler h) { router().put(path, std::move(h)); return *this; }
    Server& patch(std::string_view path, Handler h) { router().patch(path, std::move(h)); return *this; }
    Server& del(std::string_view path, Handler h) { router().del(path, std::move(h)); return *this; }
    Server& any(std::string_view path, Handler h) { router().any(path, std::move(h)); return *this; }
    /// A GET route whose handler runs on the worker pool and may block (see Router::get_blocking).
    Server& get_blocking(std::string_view path, std::function<Response(Request&)> h) {
        router().get_blocking(path, std::move(h));
        return *this;
    }
    /// A WebSocket route (see Router::ws).
    Server& ws(std::string_view path, WebSocketHandler h) {
        router().ws(path, std::move(h));
        return *this;
    }
    Server& ws(std::string_view path, WebSocketHandler h, WebSocketOptions options) {
        router().ws(path, std::move(h), std::move(options));
        return *this;
    }
    RouteGroup group(std::string_view prefix) { return router().group(prefix); }

    /// Listens on all IPv4 interfaces at `port` (0: any free port). Returns the bound port.
    /// Throws herald::error when the address is in use or invalid.
    std::uint16_t listen(std::uint16_t port);
    /// Listens on `host` ("127.0.0.1", "::1", "localhost", "0.0.0.0", "::") at `port`; may be called
    /// several times for several hosts. Returns the bound port.
    std::uint16_t listen(std::string_view host, std::uint16_t port);
    /// Every bound address.
    std::vector<asio::ip::tcp::endpoint> local_endpoints() const;

    /// Serves on the calling thread plus threads-1 others until stop() or a signal; then returns.
    void run();
    /// Serves on background threads and returns at once (for tests and embedding).
    void start();
    /// Graceful stop, callable from any thread or handler: stop accepting, let in-flight requests
    /// finish up to shutdown_timeout, then close every connection. run() returns afterwards.
    void stop();
    /// Blocks until a start()ed server has stopped.
    void wait();

    const ServerOptions& options() const noexcept;
    /// Open connections across all loops (approximate while they change).
    std::size_t connection_count() const noexcept;
    /// Identified WebSocket connections, from any thread.
    WebSocketRegistry& websockets() noexcept;
    /// Identified event streams, from any thread.
    EventSourceRegistry& event_sources() noexcept;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace herald
