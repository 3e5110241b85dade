#pragma once
// Server internals shared by the server, its loops and connections.
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <herald/server.hpp>
#include <herald/sse/event_source.hpp>

#include <asio/thread_pool.hpp>

#include "net/loop.hpp"

namespace herald {

struct Server::Impl {
    Impl(ServerOptions options, Router router);

    ServerOptions options;
    Router router;
    http::ParserLimits parser_limits;
    std::vector<std::unique_ptr<net::Loop>> loops;
    std::vector<asio::ip::tcp::endpoint> endpoints;
    WebSocketRegistry websockets;
    EventSourceRegistry event_sources;
    std::atomic<std::uint64_t> slow_consumers_dropped{0};  // event streams dropped for not reading

    /// The pool that runs blocking routes, created on first use.
    asio::thread_pool& workers();
    std::once_flag workers_once;
    std::unique_ptr<asio::thread_pool> workers_;

    std::vector<std::thread> threads;
    std::atomic<bool> running{false};
    std::atomic<bool> stopping{false};
    std::atomic<unsigned> loops_running{0};
    std::mutex mutex;                 // guards `stopped` for wait()
    std::condition_variable stopped_cv;
    bool stopped = false;
    bool background = false;          // start()ed rather than run()
    bool joined = false;              // wait() has taken the background threads
};

}  // namespace herald
