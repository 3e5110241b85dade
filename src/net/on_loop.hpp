#pragma once
// Reaching a connection's loop from any thread: run a function there, or (from a worker thread)
// run a coroutine there and block for its result.
#include <chrono>
#include <future>
#include <utility>

#include <asio/co_spawn.hpp>
#include <asio/post.hpp>
#include <asio/use_future.hpp>

#include <herald/error.hpp>
#include <herald/task.hpp>

#include "net/reactor.hpp"

namespace herald::net {

/// Runs `f` on `loop`: at once when called there, else posted.
template <class F>
void run_on_loop(Reactor& loop, F f) {
    if (loop.context().get_executor().running_in_this_thread())
        f();
    else
        asio::post(loop.context(), std::move(f));
}

/// Runs `task` on `loop` and blocks the calling worker thread for its result. Gives up once the loop
/// has stopped (the server is gone), so a worker pool can always be joined.
template <class T>
T wait_on_loop(Reactor& loop, Task<T> task) {
    if (loop.context().get_executor().running_in_this_thread())
        throw error("a blocking call on an event loop would deadlock: use a blocking route");
    auto future = asio::co_spawn(loop.context(), std::move(task), asio::use_future);
    while (future.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready)
        if (loop.context().stopped()) throw error("the event loop stopped");
    return future.get();
}

}  // namespace herald::net
