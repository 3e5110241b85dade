#include "http/connection.hpp"

#include <sys/sendfile.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <herald/http/http_error.hpp>

#include "log.hpp"
#include "net/loop.hpp"
#include "server_impl.hpp"

namespace herald::http {
namespace {

// Lingering close after an error response: read and drop what the client still sends for this
// long, so that its unread request bytes do not turn our close into a reset that loses the answer.
constexpr std::chrono::milliseconds kLingerTimeout{2000};
// Responses of one processing step are corked together up to this size, then written.
constexpr std::size_t kCorkLimit = 64 * 1024;
// String bodies larger than this are written from the response itself rather than copied.
constexpr std::size_t kCopyBodyLimit = 16 * 1024;
constexpr std::size_t kSendfileChunk = 1 << 20;

bool would_block(int err) noexcept { return err == EAGAIN || err == EWOULDBLOCK; }

void append_number(std::string& out, std::uint64_t v) {
    char digits[24];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, v);
    out.append(digits, end);
}

/// What the serializer needs to know of the request being answered.
struct Answering {
    Method method = Method::get;
    int version_minor = 1;
    bool keep_alive = false;
    std::string_view method_name = "-";
    std::string_view target = "-";
};

Answering answering(const Request& req) {
    return {req.method(), req.version_minor(), req.keep_alive(), req.method_name(), req.target()};
}

}  // namespace

struct Connection::InFlight {
    // A request whose body spans reads.
    std::unique_ptr<Request> request;
    std::string body;
    ChunkedDecoder chunked;
    bool is_chunked = false;
    std::uint64_t body_left = 0;
    // A response body sent after its head.
    std::optional<FileBody> file;
    StreamProducer stream;
    bool stream_chunked = true;
    bool stream_started = false;
};

// Writes chunks of a streamed body straight to the socket; the connection's read side is paused.
class Connection::StreamWriter final : public BodyWriter {
public:
    StreamWriter(std::shared_ptr<Connection> conn, bool chunked) : conn_(std::move(conn)), chunked_(chunked) {}

    Task<std::error_code> write(std::string_view data) override {
        if (failed_) co_return failed_;
        if (data.empty()) co_return std::error_code{};
        char size_line[24];
        auto [end, ec] = std::to_chars(size_line, size_line + 20, data.size(), 16);
        *end++ = '\r';
        *end++ = '\n';
        std::array<asio::const_buffer, 3> buffers{
            asio::buffer(size_line, chunked_ ? static_cast<std::size_t>(end - size_line) : 0),
            asio::buffer(data.data(), data.size()),
            asio::buffer("\r\n", chunked_ ? 2 : 0)};
        co_return co_await send(buffers);
    }

    Task<std::error_code> finish() {
        if (failed_ || !chunked_) co_return failed_;
        co_return co_await send(std::array<asio::const_buffer, 1>{asio::buffer("0\r\n\r\n", 5)});
    }

    bool failed() const noexcept { return static_cast<bool>(failed_); }

private:
    template <class Buffers>
    Task<std::error_code> send(const Buffers& buffers) {
        auto [ec, n] = co_await asio::async_write(conn_->socket_, buffers,
                                                  asio::experimental::as_tuple(asio::use_awaitable));
        if (ec) failed_ = ec;
        co_return ec;
    }

    std::shared_ptr<Connection> conn_;
    bool chunked_;
    std::error_code failed_;
};

Connection::Connection(net::Loop& loop, asio::ip::tcp::socket socket) : loop_(loop), socket_(std::move(socket)) {
    std::error_code ec;
    remote_ = socket_.remote_endpoint(ec);
    socket_.non_blocking(true, ec);
    socket_.set_option(asio::ip::tcp::no_delay(true), ec);
    deadline_.owner = this;
    deadline_.fire = [](net::Deadline& d) { static_cast<Connection*>(d.owner)->on_deadline(); };
}

Connection::~Connection() {
    net::Deadlines::cancel(deadline_);
    loop_.remove(*this);
}

void Connection::start(net::Loop& loop, asio::ip::tcp::socket socket) {
    auto conn = std::make_shared<Connection>(loop, std::move(socket));
    conn->begin();
}

void Connection::begin() {
    loop_.add(*this);
    if (loop_.draining()) {
        close();
        return;
    }
    arm(Timer::header);
    wait_readable();
}

// ---- timeouts ----

void Connection::arm(Timer timer) {
    timer_ = timer;
    const auto& o = loop_.server().options;
    std::chrono::milliseconds after{};
    switch (timer) {
        case Timer::none: net::Deadlines::cancel(deadline_); return;
        case Timer::header: after = o.header_timeout; break;
        case Timer::body: after = o.body_timeout; break;
        case Timer::idle: after = o.idle_timeout; break;
        case Timer::linger: after = std::min(kLingerTimeout, o.header_timeout); break;
    }
    loop_.deadlines.schedule(deadline_, after);
}

void Connection::on_deadline() {
    auto self = shared_from_this();
    Timer fired = timer_;
    timer_ = Timer::none;
    switch (fired) {
        case Timer::none: return;
        case Timer::idle:
        case Timer::linger: close(); return;
        case Timer::header:
            if (state_ != State::reading) return;
            // Nothing of a request arrived: just close. A partial head (slowloris) gets a 408.
            if (pending_.empty()) {
                close();
                return;
            }
            log().debug("{}: request head not complete within the header timeout", remote_.address().to_string());
            respond_error(408, "request header timeout");
            flush();
            return;
        case Timer::body:
            if (state_ != State::body) return;
            log().debug("{}: request body stalled past the body timeout", remote_.address().to_string());
            respond_error(408, "request body timeout");
            flush();
            return;
    }
}

// ---- reading ----

void Connection::wait_readable() {
    if (read_armed_ || state_ == State::closed) return;
    read_armed_ = true;
    socket_.async_wait(asio::ip::tcp::socket::wait_read, [self = shared_from_this()](std::error_code ec) {
        self->read_armed_ = false;
        self->on_readable(ec);
    });
}

void Connection::on_readable(std::error_code ec) {
    if (state_ == State::closed) return;
    if (ec) {
        close();
        return;
    }
    if (state_ == State::lingering)
        discard_input();
    else
        read_and_process();
}

void Connection::read_and_process() {
    // Idle connections own no buffer: the bytes land in the loop's buffer behind any kept tail.
    char* buf = loop_.read_buffer();
    std::size_t have = std::min(pending_.size(), net::Loop::read_buffer_size / 2);
    std::string big;  // only when a configured limit lets a partial head outgrow half the buffer
    if (pending_.size() > have) {
        big = std::move(pending_);
        have = big.size();
        big.resize(have + net::Loop::read_buffer_size / 2);
        buf = big.data();
    } else {
        std::memcpy(buf, pending_.data(), have);
    }
    const std::size_t capacity = big.empty() ? net::Loop::read_buffer_size : big.size();
    for (;;) {
        ssize_t n = ::recv(socket_.native_handle(), buf + have, capacity - have, 0);
        if (n > 0) {
            std::string().swap(pending_);
            process(std::string_view(buf, have + static_cast<std::size_t>(n)));
            return;
        }
        if (n == 0) {  // the peer closed its side; nothing is in flight while we read
            close();
            return;
        }
        if (errno == EINTR) continue;
        if (would_block(errno)) {
            wait_readable();
            return;
        }
        close();
        return;
    }
}

void Connection::process(std::string_view data) {
    auto self = shared_from_this();  // a handler may close the connection under us
    for (;;) {
        if (state_ == State::closed) return;
        if (close_after_write_) {
            stash({});
            break;
        }
        if (!out_.empty() || loop_.cork.size() >= kCorkLimit) {
            // The client reads slower than it sends: keep its requests until the output drains.
            if (out_.empty()) {
                write_out(loop_.cork);
                loop_.cork.clear();
                if (out_.empty()) continue;
            }
            stash(data);
            needs_more_ = false;
            break;
        }
        if (state_ == State::body) {
            data.remove_prefix(feed_body(data));
            if (state_ == State::body) {
                stash(data);
                break;
            }
            continue;
        }
        if (state_ != State::reading) {  // an async handler or a body is in progress
            stash(data);
            needs_more_ = false;
            break;
        }
        if (data.empty()) {
            stash({});
            break;
        }
        if (!on_head(data)) break;
    }
    flush();
}

bool Connection::on_head(std::string_view& data) {
    if (timer_ == Timer::idle) arm(Timer::header);  // the idle wait ends with a request's first byte
    auto& parser = loop_.parser;
    parser.reset();
    switch (parser.parse(data)) {
        case ParseStatus::incomplete: stash(data); return false;
        case ParseStatus::error: respond_error(parser.error().status, parser.error().reason); return false;
        case ParseStatus::complete: break;
    }
    const RequestHead& head = parser.head();
    ++requests_;
    Request& req = loop_.request;
    req.assign(head, {}, remote_);
    data.remove_prefix(parser.head_size());
    if (head.body == BodyKind::none) {
        dispatch_rest(req, data);
        return true;
    }
    const auto& options = loop_.server().options;
    loop_.server().router.match(req.method(), req.path(), loop_.match);
    const std::size_t limit = loop_.match.max_body_bytes ? loop_.match.max_body_bytes : options.max_body_bytes;
    if (head.body == BodyKind::content_length) {
        if (head.content_length > limit) {
            respond_error(413, "request body exceeds the limit");
            return false;
        }
        if (data.size() >= head.content_length) {
            const auto n = static_cast<std::size_t>(head.content_length);
            req.set_body(data.substr(0, n));
            data.remove_prefix(n);
            dispatch_rest(req, data);
            return true;
        }
    }
    // The body spans reads (or is chunked): the request keeps its own copy while the body arrives.
    inflight_ = std::make_unique<InFlight>();
    inflight_->request = std::make_unique<Request>();
    inflight_->request->copy_from(req);
    if (head.body == BodyKind::chunked) {
        inflight_->is_chunked = true;
        inflight_->chunked.set_limits({.max_body_bytes = limit});
    } else {
        inflight_->body_left = head.content_length;
        inflight_->body.reserve(static_cast<std::size_t>(head.content_length));
    }
    if (head.expect_continue && data.empty()) loop_.cork.append("HTTP/1.1 100 Continue\r\n\r\n");
    state_ = State::body;
    arm(Timer::body);
    return true;
}

std::size_t Connection::feed_body(std::string_view data) {
    if (data.empty()) return 0;
    auto& f = *inflight_;
    arm(Timer::body);  // a gap timeout: every read that brings body bytes restarts it
    std::size_t used = 0;
    bool complete = false;
    if (f.is_chunked) {
        auto r = f.chunked.decode(data, f.body);
        used = r.consumed;
        if (r.status == ParseStatus::error) {
            respond_error(f.chunked.error().status, f.chunked.error().reason);
            return data.size();
        }
        complete = r.status == ParseStatus::complete;
    } else {
        used = static_cast<std::size_t>(std::min<std::uint64_t>(data.size(), f.body_left));
        f.body.append(data.data(), used);
        f.body_left -= used;
        complete = f.body_left == 0;
    }
    if (complete) {
        auto owned = std::move(f.request);
        owned->adopt_body(std::move(f.body));
        inflight_.reset();
        state_ = State::reading;
        Request& req = *owned;
        dispatch(req, std::move(owned));
    }
    return used;
}

// ---- handling ----

// dispatch() with the bytes that follow the request: a handler that upgrades the connection before its
// first suspension does so inside dispatch(), before process() could stash them, so detach() takes them
// from unread_ (a WebSocket client's first frames may come in the same read as its handshake).
void Connection::dispatch_rest(Request& req, std::string_view& rest) {
    unread_ = rest;
    dispatch(req, nullptr);
    unread_ = {};
    if (state_ == State::upgraded) rest = {};
}

void Connection::dispatch(Request& req, std::unique_ptr<Request> owned) {
    arm(Timer::none);
    auto& m = loop_.match;
    loop_.server().router.match(req.method(), req.path(), m);
    req.clear_params();
    for (const auto& [name, value] : m.params) req.add_param(name, value);
    if (!m.handler) {
        Response r = Response::error(m.status);
        if (m.status == 405) r.header("Allow", m.allow);
        send_response(req, std::move(r));
        return;
    }
    if (m.is_sync()) {
        Response r(500);
        try {
            r = m.handler->call_sync(req);
        } catch (const std::exception& e) {
            log().error("handler for {} {} threw: {}", req.method_name(), req.target(), e.what());
            r = Response::error(500);
        } catch (...) {
            log().error("handler for {} {} threw a non-standard exception", req.method_name(), req.target());
            r = Response::error(500);
        }
        send_response(req, std::move(r));
        return;
    }
    if (!owned) {
        owned = std::make_unique<Request>();
        owned->copy_from(req);
    }
    owned->set_connection(this);
    state_ = State::handling;
    asio::co_spawn(loop_.context(),
                   run_async(shared_from_this(), std::move(owned), m.handler, m.middleware, m.blocking),
                   asio::detached);
}

namespace {
// Runs a plain-function handler on the calling (worker pool) thread.
Task<Response> call_on_worker(const Handler* handler, Request* req) { co_return handler->call_sync(*req); }
}  // namespace

Task<void> Connection::run_async(std::shared_ptr<Connection> self, std::unique_ptr<Request> req,
                                 const Handler* handler, std::span<const Middleware> middleware, bool blocking) {
    // A blocking route's handler hops to the worker pool, after the middleware ran on the loop.
    auto* pool = blocking ? &self->loop_.server().workers() : nullptr;
    Handler on_worker([pool, handler](Request& r) -> Task<Response> {
        co_return co_await asio::co_spawn(pool->get_executor(), call_on_worker(handler, &r), asio::use_awaitable);
    });
    RouteMatch route;
    route.handler = blocking ? &on_worker : handler;
    route.middleware = middleware;
    std::optional<Response> response;
    try {
        response.emplace(co_await route.run(*req));
    } catch (const HttpError& e) {
        response.emplace(e.response());
    } catch (const std::exception& e) {
        log().error("handler for {} {} threw: {}", req->method_name(), req->target(), e.what());
    } catch (...) {
        log().error("handler for {} {} threw a non-standard exception", req->method_name(), req->target());
    }
    if (!response) response.emplace(Response::error(500));
    self->finish_async(*req, std::move(*response));
}

void Connection::finish_async(Request& req, Response response) {
    if (state_ == State::closed || state_ == State::upgraded) return;  // a WebSocket owns the socket now
    state_ = State::reading;
    send_response(req, std::move(response));
    resume_after_response();
}

void Connection::resume_after_response() {
    if (state_ == State::closed) return;
    if (state_ != State::reading || pending_.empty() || needs_more_) {
        flush();
        return;
    }
    std::string tail = std::move(pending_);
    pending_.clear();
    process(tail);
}

void Connection::stash(std::string_view rest) {
    needs_more_ = true;
    if (rest.empty() || state_ == State::closed || close_after_write_) {
        std::string().swap(pending_);
        return;
    }
    pending_.assign(rest.data(), rest.size());
}

// ---- responses ----

void Connection::send_response(const Request& req, Response response) {
    const Answering a = answering(req);
    const auto& options = loop_.server().options;
    const bool head_only = a.method == Method::head;
    const bool bodiless = response.bodiless();
    const auto max_requests = options.max_requests_per_connection;
    bool close = close_after_write_ || !a.keep_alive || draining_ || loop_.draining() ||
                 (max_requests != 0 && requests_ >= max_requests);
    if (auto c = response.headers().get("Connection"); c && has_token(*c, "close")) close = true;

    std::string& out = loop_.cork;
    out.append("HTTP/1.1 ");
    append_number(out, static_cast<std::uint64_t>(response.status()));
    out.push_back(' ');
    out.append(reason_phrase(response.status()));
    out.append("\r\n");
    if (!options.server_header.empty()) out.append("Server: ").append(options.server_header).append("\r\n");
    out.append("Date: ").append(loop_.date.now()).append("\r\n");
    for (const auto& [name, value] : response.headers()) {
        if (iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding") || iequals(name, "Connection"))
            continue;
        out.append(name).append(": ").append(value).append("\r\n");
    }
    std::uint64_t body_bytes = 0;
    if (auto* text = std::get_if<std::string>(&response.body())) {
        body_bytes = text->size();
        if (!bodiless) out.append("Content-Length: "), append_number(out, body_bytes), out.append("\r\n");
    } else if (auto* file = std::get_if<FileBody>(&response.body())) {
        body_bytes = file->length;
        if (!bodiless) out.append("Content-Length: "), append_number(out, body_bytes), out.append("\r\n");
    } else if (!bodiless) {
        if (a.version_minor >= 1)
            out.append("Transfer-Encoding: chunked\r\n");
        else
            close = true;  // an HTTP/1.0 client learns where the body ends from the close
    }
    // RFC 9110 §7.8: a response that sends Upgrade (a 426) also names "upgrade" in Connection.
    const bool offers_upgrade = response.headers().get("Upgrade").has_value();
    if (close)
        out.append(offers_upgrade ? "Connection: Upgrade, close\r\n" : "Connection: close\r\n");
    else if (offers_upgrade)
        out.append(a.version_minor == 0 ? "Connection: Upgrade, keep-alive\r\n" : "Connection: Upgrade\r\n");
    else if (a.version_minor == 0)
        out.append("Connection: keep-alive\r\n");
    out.append("\r\n");
    if (close) close_after_write_ = true;

    if (options.access_log && log().should_log(spdlog::level::info))
        log().info("{} \"{} {} HTTP/1.{}\" {} {}", remote_.address().to_string(), a.method_name, a.target,
                   a.version_minor, response.status(), head_only || bodiless ? 0 : body_bytes);

    if (head_only || bodiless) return;
    if (auto* text = std::get_if<std::string>(&response.body())) {
        if (text->size() <= kCopyBodyLimit) {
            out.append(*text);
        } else {
            write_out(out);
            out.clear();
            write_out(*text);
        }
        return;
    }
    inflight_ = std::make_unique<InFlight>();
    if (auto* file = std::get_if<FileBody>(&response.body())) {
        if (file->length == 0) {
            inflight_.reset();
            return;
        }
        inflight_->file = std::move(*file);
    } else {
        inflight_->stream = std::move(std::get<StreamBody>(response.body()).producer);
        inflight_->stream_chunked = a.version_minor >= 1;
    }
    state_ = State::writing_body;
}

void Connection::respond_error(int status, std::string_view reason) {
    inflight_.reset();
    state_ = State::reading;
    close_after_write_ = true;
    std::string().swap(pending_);
    log().debug("{}: answering {} ({})", remote_.address().to_string(), status, reason);
    Request none;
    send_response(none, Response::error(status, reason));
}

// ---- writing ----

void Connection::write_out(std::string_view data) {
    if (data.empty() || state_ == State::closed) return;
    if (!out_.empty()) {
        out_.append(data);
        return;
    }
    ssize_t n;
    do n = ::send(socket_.native_handle(), data.data(), data.size(), MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (!would_block(errno)) {
            close();
            return;
        }
        n = 0;
    }
    if (static_cast<std::size_t>(n) < data.size()) out_.assign(data.substr(static_cast<std::size_t>(n)));
}

void Connection::flush() {
    if (state_ == State::closed) {
        loop_.cork.clear();
        return;
    }
    if (!loop_.cork.empty()) {
        write_out(loop_.cork);
        loop_.cork.clear();
    }
    after_write();
}

void Connection::after_write() {
    if (state_ == State::closed) return;
    if (!out_.empty()) {
        if (!write_armed_) {
            write_armed_ = true;
            socket_.async_wait(asio::ip::tcp::socket::wait_write, [self = shared_from_this()](std::error_code ec) {
                self->write_armed_ = false;
                self->on_writable(ec);
            });
        }
        return;
    }
    if (out_.capacity() != 0) std::string().swap(out_);
    if (state_ == State::writing_body) {
        continue_body();
        return;
    }
    if (close_after_write_) {
        linger();
        return;
    }
    if (state_ != State::reading && state_ != State::body) return;
    if (!pending_.empty() && !needs_more_) {
        // Complete requests are waiting (held back by output backpressure): handle them next turn.
        asio::post(loop_.context(), [self = shared_from_this()] { self->resume_after_response(); });
        return;
    }
    if (state_ == State::reading && pending_.empty()) {
        if (draining_ || loop_.draining()) {
            close();
            return;
        }
        if (timer_ == Timer::none) arm(requests_ == 0 ? Timer::header : Timer::idle);
    } else if (timer_ == Timer::none) {
        arm(state_ == State::body ? Timer::body : Timer::header);
    }
    wait_readable();
}

void Connection::on_writable(std::error_code ec) {
    if (state_ == State::closed) return;
    if (ec) {
        close();
        return;
    }
    if (!out_.empty()) {
        std::string rest = std::move(out_);
        out_.clear();
        write_out(rest);
    }
    after_write();
}

void Connection::continue_body() {
    auto& f = *inflight_;
    if (f.file) {
        send_file();
        return;
    }
    if (!f.stream_started) {
        f.stream_started = true;
        asio::co_spawn(loop_.context(), run_stream(shared_from_this(), std::move(f.stream), f.stream_chunked),
                       asio::detached);
    }
}

void Connection::send_file() {
    auto& file = *inflight_->file;
    while (file.length > 0) {
        auto offset = static_cast<off_t>(file.offset);
        ssize_t n = ::sendfile(socket_.native_handle(), *file.fd, &offset,
                               static_cast<std::size_t>(std::min<std::uint64_t>(file.length, kSendfileChunk)));
        if (n > 0) {
            file.offset += static_cast<std::uint64_t>(n);
            file.length -= static_cast<std::uint64_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && would_block(errno)) {
            write_armed_ = true;
            socket_.async_wait(asio::ip::tcp::socket::wait_write, [self = shared_from_this()](std::error_code ec) {
                self->write_armed_ = false;
                self->on_writable(ec);
            });
            return;
        }
        // The file shrank under us (n == 0) or the peer is gone: the promised length cannot be kept.
        close();
        return;
    }
    inflight_.reset();
    state_ = State::reading;
    if (close_after_write_) {
        linger();
        return;
    }
    // A fresh stack for the next pipelined request: a run of file responses must not recurse.
    asio::post(loop_.context(), [self = shared_from_this()] { self->resume_after_response(); });
}

Task<void> Connection::run_stream(std::shared_ptr<Connection> self, StreamProducer producer, bool chunked) {
    StreamWriter writer(self, chunked);
    bool ok = true;
    try {
        co_await producer(writer);
    } catch (const std::exception& e) {
        log().error("stream producer threw: {}", e.what());
        ok = false;
    } catch (...) {
        ok = false;
    }
    if (ok) {
        auto ec = co_await writer.finish();
        ok = !ec;
    }
    self->finish_stream(ok && chunked);
}

void Connection::finish_stream(bool reusable) {
    if (state_ == State::closed) return;
    inflight_.reset();
    state_ = State::reading;
    if (!reusable) {
        close();
        return;
    }
    resume_after_response();
}

// ---- upgrades ----

Connection::Detached Connection::upgrade(const Request& req, Response response) {
    if (state_ != State::handling || write_armed_)
        throw HttpError(Response::error(503, "connection busy"), "cannot upgrade while earlier responses are being written");
    // Responses to requests pipelined before this one may still be corked: they go out first.
    if (!loop_.cork.empty()) {
        write_out(loop_.cork);
        loop_.cork.clear();
    }
    write_out(response_head(response.status(), response.headers()));
    log_response(req, response.status());
    return detach();
}

void Connection::log_response(const Request& req, int status) {
    if (loop_.server().options.access_log && log().should_log(spdlog::level::info))
        log().info("{} \"{} {} HTTP/1.{}\" {} -", remote_.address().to_string(), req.method_name(), req.target(),
                   req.version_minor(), status);
}

Connection::Detached Connection::detach() {
    if (state_ != State::handling || write_armed_)
        throw HttpError(Response::error(503, "connection busy"), "cannot take over while earlier responses are being written");
    std::string input = std::move(pending_);
    if (input.empty()) input.assign(unread_.data(), unread_.size());
    unread_ = {};
    // Responses to requests pipelined before this one may still be corked: the new owner writes them first.
    std::string output = std::move(out_);
    output.append(loop_.cork);
    loop_.cork.clear();
    Detached detached{std::move(socket_), std::move(input), std::move(output)};
    state_ = State::upgraded;
    arm(Timer::none);
    inflight_.reset();
    loop_.remove(*this);
    return detached;
}

std::string Connection::response_head(int status, const Headers& headers) {
    const auto& options = loop_.server().options;
    std::string out("HTTP/1.1 ");
    append_number(out, static_cast<std::uint64_t>(status));
    out.push_back(' ');
    out.append(reason_phrase(status)).append("\r\n");
    if (!options.server_header.empty()) out.append("Server: ").append(options.server_header).append("\r\n");
    out.append("Date: ").append(loop_.date.now()).append("\r\n");
    for (const auto& [name, value] : headers) out.append(name).append(": ").append(value).append("\r\n");
    out.append("\r\n");
    return out;
}

// ---- closing ----

void Connection::linger() {
    state_ = State::lingering;
    std::string().swap(pending_);
    std::error_code ec;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
    if (ec) {
        close();
        return;
    }
    arm(Timer::linger);
    wait_readable();
}

void Connection::discard_input() {
    char* buf = loop_.read_buffer();
    for (;;) {
        ssize_t n = ::recv(socket_.native_handle(), buf, net::Loop::read_buffer_size, 0);
        if (n > 0) continue;
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && would_block(errno)) {
            wait_readable();
            return;
        }
        close();
        return;
    }
}

void Connection::drain() {
    draining_ = true;
    if (state_ == State::reading && pending_.empty() && out_.empty() && !inflight_) close();
}

void Connection::close() noexcept {
    if (state_ == State::closed) return;
    state_ = State::closed;
    net::Deadlines::cancel(deadline_);
    timer_ = Timer::none;
    std::error_code ec;
    socket_.close(ec);
    std::string().swap(pending_);
    std::string().swap(out_);
    inflight_.reset();
    loop_.remove(*this);
}

}  // namespace herald::http
