#pragma once
// What our clients share before their protocols differ: reaching the server (resolve, connect) and
// one HTTP request/response head exchange, each bounded by a timeout.
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <string>

#include <asio/any_io_executor.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include <herald/client/url.hpp>
#include <herald/http/response_parser.hpp>
#include <herald/task.hpp>

namespace herald::client {

/// The io_context behind `executor`; throws herald::error when it is another kind of execution context
/// (client connections live on one io_context run by one thread).
asio::io_context& io_context_of(const asio::any_io_executor& executor);

/// Resolves url.host and connects to the first address that answers, within `timeout` (for all of it).
/// Throws herald::error naming the host and port when it cannot.
Task<asio::ip::tcp::socket> open_tcp(std::shared_ptr<const Url> url, std::chrono::milliseconds timeout);

/// Writes `request` and reads until `parser` has a complete response head, within `timeout`. Returns
/// every byte read: the head (parser.head_size() bytes) and whatever followed it. Throws herald::error
/// on timeout, a closed connection or a malformed head.
Task<std::string> exchange_head(asio::ip::tcp::socket& socket, std::shared_ptr<const std::string> request,
                                http::ResponseParser& parser, std::chrono::milliseconds timeout);

/// The end of a Vapor-style connect() that failed: hands the exception to `on_error`, or logs it when
/// there is none (nothing else would see it).
void report_failure(std::exception_ptr e, const std::function<void(std::exception_ptr)>& on_error);

/// Cancels an operation when a timeout passes: `on_expire` runs once, on the executor, unless the
/// watchdog is destroyed first or keeps being touch()ed.
class Watchdog {
public:
    Watchdog(const asio::any_io_executor& executor, std::chrono::milliseconds timeout, std::function<void()> on_expire);
    ~Watchdog();
    Watchdog(const Watchdog&) = delete;
    Watchdog& operator=(const Watchdog&) = delete;
    /// True once the timeout passed.
    bool expired() const noexcept;
    /// Starts the timeout over from now (an idle timeout after activity); the timer is re-armed only
    /// when it fires, or when it had already expired.
    void touch();

private:
    struct State;
    std::shared_ptr<State> state_;
};

}  // namespace herald::client
