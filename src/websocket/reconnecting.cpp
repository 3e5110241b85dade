// The reconnecting client: one coroutine per client runs connect → serve → wait for the loss → back
// off, while sends and requests are posted to the client's executor and kept until a connection takes them.
#include <herald/websocket/reconnecting.hpp>

#include <atomic>
#include <deque>
#include <map>
#include <random>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/dispatch.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <herald/websocket/dedup.hpp>

#include "log.hpp"
#include "websocket/client_internal.hpp"

namespace herald::websocket {

std::string_view to_string(ConnectionState state) noexcept {
    switch (state) {
        case ConnectionState::connecting: return "connecting";
        case ConnectionState::open: return "open";
        case ConnectionState::reconnecting: return "reconnecting";
        case ConnectionState::closed: return "closed";
    }
    return "unknown";
}

namespace {

constexpr auto kAwait = asio::experimental::as_tuple(asio::use_awaitable);

std::string random_client_id() {
    std::random_device rd;
    std::string id;
    static constexpr char digits[] = "0123456789abcdef";
    for (int i = 0; i < 16; ++i) id.push_back(digits[rd() % 16]);
    return id;
}

// Reserves one of `limit` slots in `counter`; false when all are taken.
bool reserve(std::atomic<std::size_t>& counter, std::size_t limit) noexcept {
    std::size_t n = counter.load(std::memory_order_relaxed);
    do {
        if (n >= limit) return false;
    } while (!counter.compare_exchange_weak(n, n + 1, std::memory_order_relaxed));
    return true;
}

}  // namespace

class ReconnectingWebSocket::Impl : public std::enable_shared_from_this<Impl> {
public:
    Impl(const asio::any_io_executor& executor, std::string url, ReconnectOptions options)
        : executor(executor),
          url(std::move(url)),
          options(std::move(options)),
          backoff(this->options.backoff),
          retry_timer(executor),
          client_id(this->options.client_id.empty() ? random_client_id() : this->options.client_id) {
        if (!is_valid_client_id(client_id)) throw error("invalid client_id '" + client_id + "': 1–64 of [A-Za-z0-9_-]");
    }

    // ---- executor thread only ----
    void set_state(ConnectionState s) {
        if (state.exchange(s) == s) return;
        if (on_state) on_state(s);
    }

    // Before any message is read: answers go to their requests, the rest to on_message.
    void attach(WebSocket ws) {
        std::weak_ptr<Impl> weak = shared_from_this();
        ws.on_message([weak](WebSocket&, const Message& m) {
            if (auto self = weak.lock()) self->on_incoming(m);
        });
    }

    void on_incoming(const Message& m) {
        if (m.is_text()) {
            if (auto ack = parse_ack(m.text())) {
                auto it = unanswered.find(ack->seq);
                if (it == unanswered.end()) return;  // a second answer to a resent request: already delivered
                AnswerHandler handler = std::move(it->second.handler);
                unanswered.erase(it);
                in_flight.fetch_sub(1, std::memory_order_relaxed);
                if (ack->expired)
                    handler(std::make_error_code(std::errc::timed_out), {});
                else
                    handler({}, ack->answer);
                return;
            }
        }
        if (on_message) on_message(m);
    }

    // A fresh connection: first the unanswered requests in order, then what waited in the queue.
    void resend_all() {
        for (const auto& [seq, pending] : unanswered) current.post(encode_request(client_id, seq, pending.payload));
        while (!queued.empty()) {
            post(queued.front());
            queued.pop_front();
            queued_count.fetch_sub(1, std::memory_order_relaxed);
        }
    }

    struct Outgoing {
        std::string data;
        bool binary = false;
    };

    bool post(const Outgoing& m) {
        return m.binary ? current.post_binary({reinterpret_cast<const std::byte*>(m.data.data()), m.data.size()})
                        : current.post(m.data);
    }

    void do_send(Outgoing message) {
        if (stopped) {
            queued_count.fetch_sub(1, std::memory_order_relaxed);
            return;
        }
        if (state.load() == ConnectionState::open && post(message)) {
            queued_count.fetch_sub(1, std::memory_order_relaxed);
            return;
        }
        queued.push_back(std::move(message));
    }

    void do_request(std::string payload, AnswerHandler handler) {
        if (stopped) {
            in_flight.fetch_sub(1, std::memory_order_relaxed);
            handler(std::make_error_code(std::errc::operation_canceled), {});
            return;
        }
        const std::uint64_t seq = next_seq++;
        if (state.load() == ConnectionState::open) current.post(encode_request(client_id, seq, payload));
        unanswered.emplace(seq, Pending{std::move(payload), std::move(handler)});
    }

    void do_stop() {
        if (stopped) return;
        stopped = true;
        retry_timer.cancel();
        if (current) current.drop(CloseCode::normal, "client stopped");
    }

    // The end: nothing is pending any more.
    void finish() {
        auto pending = std::move(unanswered);
        unanswered.clear();
        in_flight.store(0, std::memory_order_relaxed);
        queued.clear();
        queued_count.store(0, std::memory_order_relaxed);
        set_state(ConnectionState::closed);
        for (auto& [seq, p] : pending) p.handler(std::make_error_code(std::errc::operation_canceled), {});
    }

    struct Pending {
        std::string payload;
        AnswerHandler handler;
    };

    asio::any_io_executor executor;
    std::string url;
    ReconnectOptions options;
    Backoff backoff;
    asio::steady_timer retry_timer;
    std::string client_id;
    WebSocket current;
    std::deque<Outgoing> queued;
    std::map<std::uint64_t, Pending> unanswered;
    std::uint64_t next_seq = 1;
    bool started = false;
    bool stopped = false;
    std::function<void(const Message&)> on_message;
    std::function<void(ConnectionState)> on_state;

    // ---- any thread ----
    std::atomic<ConnectionState> state{ConnectionState::connecting};
    std::atomic<std::uint64_t> connection_count{0};
    std::atomic<std::size_t> in_flight{0};
    std::atomic<std::size_t> queued_count{0};
    std::atomic<bool> stop_requested{false};
};

namespace {

using Impl = ReconnectingWebSocket::Impl;

Task<void> run_client(std::shared_ptr<Impl> self) {
    while (!self->stopped) {
        WebSocket ws;
        std::string failure;
        // Named, not a temporary in the co_await expression: GCC 12 would destroy it twice.
        std::function<void(WebSocket)> attach = [self](WebSocket w) { self->attach(w); };
        try {
            ws = co_await connect_then(self->url, self->options.connect, attach);
        } catch (const std::exception& e) {
            failure = e.what();
        }
        if (ws && self->stopped) ws.drop(CloseCode::normal, "client stopped");
        if (ws && !self->stopped) {
            self->backoff.reset();
            self->current = ws;
            self->connection_count.fetch_add(1, std::memory_order_relaxed);
            self->set_state(ConnectionState::open);
            self->resend_all();
            co_await ws.wait_for_close();
            self->current = WebSocket();
            if (self->stopped) break;
            log().debug("{}: connection lost ({}), reconnecting", self->url,
                        static_cast<int>(ws.close_code().value_or(CloseCode::abnormal)));
        } else if (!failure.empty()) {
            log().debug("{}: {}", self->url, failure);
            if (self->options.max_attempts != 0 && self->backoff.attempts() + 1 >= self->options.max_attempts) {
                log().warn("{}: giving up after {} failed attempts: {}", self->url, self->options.max_attempts, failure);
                break;
            }
        }
        if (self->stopped) break;
        self->set_state(ConnectionState::reconnecting);
        self->retry_timer.expires_after(self->backoff.next());
        co_await self->retry_timer.async_wait(kAwait);
    }
    self->finish();
}

}  // namespace

ReconnectingWebSocket::ReconnectingWebSocket(const asio::any_io_executor& executor, std::string url,
                                             ReconnectOptions options)
    : impl_(std::make_shared<Impl>(executor, std::move(url), std::move(options))) {}

ReconnectingWebSocket::~ReconnectingWebSocket() { stop(); }

void ReconnectingWebSocket::start() {
    asio::dispatch(impl_->executor, [self = impl_] {
        if (self->started || self->stopped) return;
        self->started = true;
        asio::co_spawn(self->executor, run_client(self), asio::detached);
    });
}

void ReconnectingWebSocket::stop() {
    impl_->stop_requested.store(true);
    asio::dispatch(impl_->executor, [self = impl_] {
        self->do_stop();
        if (!self->started) self->finish();  // never ran: nothing else will end it
    });
}

namespace {

bool queue_send(const std::shared_ptr<Impl>& impl, std::string data, bool binary) {
    if (impl->stop_requested.load() || !reserve(impl->queued_count, impl->options.max_queued)) return false;
    asio::dispatch(impl->executor, [self = impl, d = std::move(data), binary]() mutable {
        self->do_send({std::move(d), binary});
    });
    return true;
}

}  // namespace

bool ReconnectingWebSocket::send(std::string text) { return queue_send(impl_, std::move(text), false); }

bool ReconnectingWebSocket::send_binary(std::string bytes) { return queue_send(impl_, std::move(bytes), true); }

bool ReconnectingWebSocket::request(std::string payload, AnswerHandler on_answer) {
    if (impl_->stop_requested.load() || !reserve(impl_->in_flight, impl_->options.max_in_flight)) return false;
    asio::dispatch(impl_->executor, [self = impl_, p = std::move(payload), h = std::move(on_answer)]() mutable {
        self->do_request(std::move(p), std::move(h));
    });
    return true;
}

void ReconnectingWebSocket::on_message(std::function<void(const Message&)> f) {
    asio::dispatch(impl_->executor, [self = impl_, f = std::move(f)]() mutable { self->on_message = std::move(f); });
}

void ReconnectingWebSocket::on_state(std::function<void(ConnectionState)> f) {
    asio::dispatch(impl_->executor, [self = impl_, f = std::move(f)]() mutable { self->on_state = std::move(f); });
}

ConnectionState ReconnectingWebSocket::state() const noexcept { return impl_->state.load(); }
std::uint64_t ReconnectingWebSocket::connections() const noexcept { return impl_->connection_count.load(); }
std::size_t ReconnectingWebSocket::in_flight() const noexcept { return impl_->in_flight.load(); }
const std::string& ReconnectingWebSocket::client_id() const noexcept { return impl_->client_id; }

}  // namespace herald::websocket
