#pragma once
// One HTTP/1.1 connection: a read state machine over the loop's shared buffer, responses corked
// into one write per processing step, and no per-connection buffer while idle.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <asio/ip/tcp.hpp>

#include <herald/http/parser.hpp>
#include <herald/http/request.hpp>
#include <herald/http/response.hpp>
#include <herald/http/router.hpp>

#include "net/deadlines.hpp"
#include "net/loop_member.hpp"

namespace herald::net {
class Loop;
}

namespace herald::http {

class Connection final : public net::LoopMember, public std::enable_shared_from_this<Connection> {
public:
    Connection(net::Loop& loop, asio::ip::tcp::socket socket);
    ~Connection();

    /// Takes over an accepted socket on `loop` (loop thread).
    static void start(net::Loop& loop, asio::ip::tcp::socket socket);
    /// The server is stopping: close now when idle, else after the current response.
    void drain() override;
    /// Closes the socket at once and leaves the loop.
    void close() noexcept override;

    /// What a WebSocket session takes over from an upgraded connection.
    struct Detached {
        asio::ip::tcp::socket socket;
        std::string input;   // bytes that arrived after the upgrade request
        std::string output;  // the part of the 101 response not yet written
    };
    /// Writes `response` (a 101) and hands the socket over; the connection then leaves the loop.
    Detached upgrade(const Request& req, Response response);
    /// Hands the socket over without writing anything (an event stream writes its own head later).
    Detached detach();
    /// The access-log line of a response whose body another owner writes (upgrades, event streams).
    void log_response(const Request& req, int status);
    /// A response head with the server's Server and Date fields plus `headers`, verbatim.
    std::string response_head(int status, const Headers& headers);
    net::Loop& loop() noexcept { return loop_; }

private:
    enum class State : std::uint8_t { reading, body, handling, writing_body, lingering, upgraded, closed };
    enum class Timer : std::uint8_t { none, header, body, idle, linger };
    struct InFlight;
    class StreamWriter;

    void begin();
    void arm(Timer timer);
    void on_deadline();
    void wait_readable();
    void on_readable(std::error_code ec);
    void read_and_process();
    void process(std::string_view data);
    bool on_head(std::string_view& data);
    std::size_t feed_body(std::string_view data);
    void dispatch(Request& req, std::unique_ptr<Request> owned);
    static Task<void> run_async(std::shared_ptr<Connection> self, std::unique_ptr<Request> req,
                                const Handler* handler, std::span<const Middleware> middleware, bool blocking);
    void finish_async(Request& req, Response response);
    void send_response(const Request& req, Response response);
    void respond_error(int status, std::string_view reason);
    void resume_after_response();
    void stash(std::string_view rest);

    void write_out(std::string_view data);
    void flush();
    void after_write();
    void on_writable(std::error_code ec);
    void continue_body();
    void send_file();
    static Task<void> run_stream(std::shared_ptr<Connection> self, StreamProducer producer, bool chunked);
    void finish_stream(bool reusable);
    void linger();
    void discard_input();
    void dispatch_rest(Request& req, std::string_view& rest);

    net::Loop& loop_;
    asio::ip::tcp::socket socket_;
    asio::ip::tcp::endpoint remote_;
    net::Deadline deadline_;
    std::string pending_;                 // unparsed input kept between reads (empty when idle)
    std::string_view unread_;             // during dispatch(): the bytes behind the request (see detach())
    std::string out_;                     // unsent output under backpressure (empty when idle)
    std::unique_ptr<InFlight> inflight_;  // a request spanning reads, or a body being sent
    std::uint32_t requests_ = 0;
    State state_ = State::reading;
    Timer timer_ = Timer::none;
    bool close_after_write_ = false;
    bool draining_ = false;
    bool read_armed_ = false;
    bool write_armed_ = false;
    bool needs_more_ = true;   // pending_ holds only a partial request: wait for more bytes
};

}  // namespace herald::http
