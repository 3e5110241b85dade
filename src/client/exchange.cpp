#include "client/exchange.hpp"

#include <functional>

#include <asio/connect.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <herald/error.hpp>

#include "log.hpp"

namespace herald::client {
namespace {

constexpr auto kAwait = asio::experimental::as_tuple(asio::use_awaitable);

// host:port, for messages.
std::string where(const Url& url) {
    return (url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host) + ":" + std::to_string(url.port);
}

}  // namespace

struct Watchdog::State {
    State(const asio::any_io_executor& ex, std::chrono::milliseconds timeout)
        : timer(ex), timeout(timeout), deadline(std::chrono::steady_clock::now() + timeout) {}

    // The handler owns the state: it may run after the watchdog is gone, and must then do nothing.
    // A deadline pushed forward by touch() meanwhile costs one re-arm when the timer fires, not one per touch.
    static void arm(const std::shared_ptr<State>& state) {
        state->timer.expires_at(state->deadline);
        state->timer.async_wait([state](std::error_code ec) {
            if (ec || !state->armed) return;
            if (std::chrono::steady_clock::now() < state->deadline) {
                arm(state);
                return;
            }
            state->expired = true;
            state->on_expire();
        });
    }

    asio::steady_timer timer;
    std::chrono::milliseconds timeout;
    std::chrono::steady_clock::time_point deadline;
    std::function<void()> on_expire;
    bool armed = true;
    bool expired = false;
};

Watchdog::Watchdog(const asio::any_io_executor& executor, std::chrono::milliseconds timeout,
                   std::function<void()> on_expire)
    : state_(std::make_shared<State>(executor, timeout)) {
    state_->on_expire = std::move(on_expire);
    State::arm(state_);
}

void Watchdog::touch() {
    state_->deadline = std::chrono::steady_clock::now() + state_->timeout;
    if (state_->expired) {  // it fired while nothing was watched (a pause of ours): watch again
        state_->expired = false;
        State::arm(state_);
    }
}

Watchdog::~Watchdog() {
    state_->armed = false;
    state_->timer.cancel();
}

bool Watchdog::expired() const noexcept { return state_->expired; }

asio::io_context& io_context_of(const asio::any_io_executor& executor) {
    if (const auto* io = executor.target<asio::io_context::executor_type>()) return io->context();
    throw error("Herald clients run on an asio::io_context executor");
}

void report_failure(std::exception_ptr e, const std::function<void(std::exception_ptr)>& on_error) {
    if (on_error) {
        on_error(e);
        return;
    }
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        log().warn("{}", ex.what());
    }
}

Task<asio::ip::tcp::socket> open_tcp(std::shared_ptr<const Url> url, std::chrono::milliseconds timeout) {
    auto executor = co_await asio::this_coro::executor;
    asio::io_context& io = io_context_of(executor);
    asio::ip::tcp::resolver resolver(io);
    asio::ip::tcp::socket socket(io);
    Watchdog watchdog(executor, timeout, [&resolver, &socket] {
        resolver.cancel();
        std::error_code ignored;
        socket.close(ignored);
    });
    auto [rec, endpoints] = co_await resolver.async_resolve(url->host, std::to_string(url->port), kAwait);
    if (watchdog.expired()) throw error(std::make_error_code(std::errc::timed_out),
                                        "connecting to " + where(*url) + " timed out while resolving the name");
    if (rec) throw error(rec, "cannot resolve '" + url->host + "': " + rec.message());
    auto [cec, endpoint] = co_await asio::async_connect(socket, endpoints, kAwait);
    if (watchdog.expired())
        throw error(std::make_error_code(std::errc::timed_out),
                    "connecting to " + where(*url) + " timed out after " + std::to_string(timeout.count()) + " ms");
    if (cec) throw error(cec, "cannot connect to " + where(*url) + ": " + cec.message());
    socket.set_option(asio::ip::tcp::no_delay(true));
    co_return socket;
}

Task<std::string> exchange_head(asio::ip::tcp::socket& socket, std::shared_ptr<const std::string> request,
                                http::ResponseParser& parser, std::chrono::milliseconds timeout) {
    auto executor = co_await asio::this_coro::executor;
    Watchdog watchdog(executor, timeout, [&socket] {
        std::error_code ignored;
        socket.cancel(ignored);
    });
    auto timed_out = [&] {
        return error(std::make_error_code(std::errc::timed_out),
                     "no response head within " + std::to_string(timeout.count()) + " ms");
    };
    auto [wec, written] = co_await asio::async_write(socket, asio::buffer(*request), kAwait);
    if (watchdog.expired()) throw timed_out();
    if (wec) throw error(wec, "sending the request failed: " + wec.message());
    std::string data;
    for (;;) {
        const std::size_t have = data.size();
        data.resize(have + 4096);
        auto [rec, n] = co_await socket.async_read_some(asio::buffer(data.data() + have, 4096), kAwait);
        data.resize(have + n);
        if (watchdog.expired()) throw timed_out();
        if (rec == asio::error::eof) throw error(rec, "the server closed the connection before a complete response head");
        if (rec) throw error(rec, "reading the response failed: " + rec.message());
        const auto status = parser.parse(data);
        if (status == http::ParseStatus::complete) co_return data;
        if (status == http::ParseStatus::error)
            throw error(std::make_error_code(std::errc::protocol_error),
                        "malformed response head: " + std::string(parser.error()));
    }
}

}  // namespace herald::client
