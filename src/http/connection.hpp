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

namespace herald::net {
class Loop;
}

namespace herald::http {

class Connection : public std::enable_shared_from_this<Connection> {
public:
    Connection(net::Loop& loop, asio::ip::tcp::socket socket);
    ~Connection();

    /// Takes over an accepted socket on `loop` (loop thread).
    static void start(net::Loop& loop, asio::ip::tcp::socket socket);
    /// The server is stopping: close now when idle, else after the current response.
    void drain();
    /// Closes the socket at once and leaves the loop.
    void close() noexcept;

    // Intrusive list of the loop's connections.
    Connection* prev_in_loop = nullptr;
    Connection* next_in_loop = nullptr;
    bool in_loop = false;

private:
    enum class State : std::uint8_t { reading, body, handling, writing_body, lingering, closed };
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
                                const Handler* handler, std::span<const Middleware> middleware);
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

    net::Loop& loop_;
    asio::ip::tcp::socket socket_;
    asio::ip::tcp::endpoint remote_;
    net::Deadline deadline_;
    std::string pending_;                 // unparsed input kept between reads (empty when idle)
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
