#pragma once
// Task<T>: the coroutine type of every asynchronous Herald API and handler.
#include <asio/awaitable.hpp>

namespace herald {

/// A lazily started coroutine producing T, run on a Herald event loop (Asio's awaitable).
template <class T = void>
using Task = asio::awaitable<T>;

}  // namespace herald
