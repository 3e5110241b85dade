// ws_load: a lean echo load generator for WebSocket servers, raw TCP echo servers, and the memory
// cost of idle WebSocket connections. One thread, epoll (level-triggered), non-blocking sockets.
//
//   ws_load --mode ws      --port P [--path /ws/echo] --connections C --size S --inflight K --duration D
//   ws_load --mode tcp     --port P --connections C --size S --inflight K --duration D
//   ws_load --mode ws-idle --port P [--path /ws/echo] --connections N [--pid PID] [--echo-once]
//
// ws: opens C connections, does the HTTP/1.1 upgrade on each (checks 101 and Sec-WebSocket-Accept),
//   then keeps K messages of S bytes outstanding per connection: every echoed message is checked
//   (opcode binary — or text with --text —, total length S over however many fragments, no mask, no
//   RSV bits; with --verify also every payload byte) and answered with the next message.
//   Client frames are masked (RFC 6455 §5.3) with a different key per frame: the tool pre-builds a
//   ring of R >= max(16, K) frames, each masked word-at-a-time with its own key, at start-up, and
//   each connection sends its way around that ring (one send() per readiness, whatever the number of
//   frames), so the per-message work on the send side is the same as in tcp mode: none.
// tcp: the same without framing, for a raw TCP echo server: S-byte messages, echoed bytes counted,
//   every S echoed bytes complete a message (the ceiling of this machine and this tool).
// ws-idle: opens N connections (256 being set up at a time), handshake on each (with --echo-once
//   also one S-byte message echoed), holds them idle and reports the VmRSS growth of --pid per
//   connection, as bench/load/idle_conns does for HTTP keep-alive connections.
//
// Warm-up (--warmup seconds, default 1) runs the load before the measured window of --duration
// seconds. Human-readable lines go to stderr, one JSON line to stdout:
//   {"mode":"ws","connections":C,"size":S,"inflight":K,"messages_per_sec":..,"mib_per_sec":..,"errors":0,...}
// mib_per_sec counts echoed payload (one direction): messages_per_sec × S / 2^20.
// Exit status: 0 ok, 1 usage, 2 setup error, 3 timeout (set-up not finished within --timeout) or
// interrupted, 4 errors (failed connections, protocol errors, wrong lengths or opcodes, bad bytes).
// Only loopback addresses are accepted. Needs libcrypto (SHA-1 and base64 for the handshake).
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common.hpp"

namespace {

using bench::Clock;

volatile std::sig_atomic_t g_interrupted = 0;
extern "C" void on_signal(int) { g_interrupted = 1; }

enum class Mode { ws, tcp, ws_idle };

struct Options {
    Mode mode = Mode::ws;
    std::string host = "127.0.0.1";
    int port = 0;
    std::string path = "/ws/echo";
    int connections = 1;
    std::size_t size = 32;
    int inflight = 1;
    int duration_s = 0;  // required for ws and tcp
    int warmup_s = 1;
    int timeout_s = 30;  // connection set-up (and, for ws-idle, the whole run)
    int concurrency = 256;
    bool verify = false;
    bool text = false;
    // ws-idle
    long pid = 0;
    int settle_ms = 2000;
    int hold_ms = 0;
    bool echo_once = false;
    bool idle_warmup = true;
};

constexpr std::size_t kMaxSize = 16u << 20;
constexpr std::size_t kReadBufferSize = 256 * 1024;

void usage(const char* argv0) {
    std::fprintf(stderr,
        "usage: %s --mode ws|tcp|ws-idle --port P [--host 127.0.0.1|::1|localhost] [--path /ws/echo]\n"
        "          [--connections C] [--size BYTES] [--inflight K] --duration S [--warmup S] [--timeout S]\n"
        "          [--verify] [--text] [--concurrency N]\n"
        "          ws-idle: [--pid PID] [--settle-ms MS] [--hold-ms MS] [--echo-once] [--no-warmup]\n"
        "  ws:      WebSocket echo load: C connections, K messages of BYTES in flight on each, D seconds\n"
        "  tcp:     the same against a raw TCP echo server (no framing)\n"
        "  ws-idle: C idle WebSocket connections; VmRSS growth of PID per connection\n"
        "  defaults: connections 1, size 32, inflight 1, warmup 1, timeout 30, concurrency 256 (set-up)\n",
        argv0);
}

bool parse_args(int argc, char** argv, Options& o) {
    bench::Args args(argc, argv);
    while (args.next()) {
        const std::string_view a = args.flag();
        long v = 0;
        if (a == "--mode") {
            const char* s = args.value();
            if (s == nullptr) return false;
            std::string_view m = s;
            if (m == "ws") o.mode = Mode::ws;
            else if (m == "tcp") o.mode = Mode::tcp;
            else if (m == "ws-idle") o.mode = Mode::ws_idle;
            else { std::fprintf(stderr, "--mode must be ws, tcp or ws-idle\n"); return false; }
        } else if (a == "--host") {
            if (!args.text(o.host)) return false;
        } else if (a == "--path") {
            if (!args.text(o.path)) return false;
            if (o.path.empty() || o.path[0] != '/' || o.path.find_first_of(" \r\n") != std::string::npos) {
                std::fprintf(stderr, "bad --path\n");
                return false;
            }
        } else if (a == "--port") { if (!args.number(1, 65535, v)) return false; o.port = int(v);
        } else if (a == "--connections") { if (!args.number(1, 1000000, v)) return false; o.connections = int(v);
        } else if (a == "--size") { if (!args.number(1, long(kMaxSize), v)) return false; o.size = std::size_t(v);
        } else if (a == "--inflight") { if (!args.number(1, 4096, v)) return false; o.inflight = int(v);
        } else if (a == "--duration") { if (!args.number(1, 3600, v)) return false; o.duration_s = int(v);
        } else if (a == "--warmup") { if (!args.number(0, 600, v)) return false; o.warmup_s = int(v);
        } else if (a == "--timeout") { if (!args.number(1, 3600, v)) return false; o.timeout_s = int(v);
        } else if (a == "--concurrency") { if (!args.number(1, 100000, v)) return false; o.concurrency = int(v);
        } else if (a == "--pid") { if (!args.number(1, 1L << 30, v)) return false; o.pid = v;
        } else if (a == "--settle-ms") { if (!args.number(0, 600000, v)) return false; o.settle_ms = int(v);
        } else if (a == "--hold-ms") { if (!args.number(0, 3600000, v)) return false; o.hold_ms = int(v);
        } else if (a == "--verify") { o.verify = true;
        } else if (a == "--text") { o.text = true;
        } else if (a == "--echo-once") { o.echo_once = true;
        } else if (a == "--no-warmup") { o.idle_warmup = false;
        } else if (a == "-h" || a == "--help") { usage(argv[0]); std::exit(0);
        } else {
            std::fprintf(stderr, "unknown option: %s\n", std::string(a).c_str());
            return false;
        }
    }
    if (o.port == 0) { std::fprintf(stderr, "--port is required\n"); return false; }
    if (o.mode != Mode::ws_idle && o.duration_s == 0) {
        std::fprintf(stderr, "--duration is required for --mode ws and tcp\n");
        return false;
    }
    if (o.mode == Mode::tcp && o.text) { std::fprintf(stderr, "--text is for WebSocket modes\n"); return false; }
    return true;
}

// ---- WebSocket bits ----

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
constexpr unsigned char kOpText = 0x1, kOpBinary = 0x2, kOpClose = 0x8;

std::uint64_t splitmix64(std::uint64_t& s) {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

std::string base64(const unsigned char* p, std::size_t n) {
    std::string out(4 * ((n + 2) / 3) + 1, '\0');
    int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), p, int(n));
    out.resize(std::size_t(len));
    return out;
}

std::string accept_for(std::string_view key) {
    std::string in(key);
    in.append(kGuid);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (EVP_Digest(in.data(), in.size(), md, &md_len, EVP_sha1(), nullptr) != 1) return {};
    return base64(md, md_len);
}

std::size_t client_header_size(std::size_t payload) { return (payload < 126 ? 2 : payload <= 0xFFFF ? 4 : 10) + 4; }

void write_client_header(unsigned char* p, unsigned char opcode, std::size_t length, std::uint32_t key) {
    p[0] = 0x80 | opcode;
    std::size_t pos = 2;
    if (length < 126) {
        p[1] = 0x80 | static_cast<unsigned char>(length);
    } else if (length <= 0xFFFF) {
        p[1] = 0x80 | 126;
        p[2] = static_cast<unsigned char>(length >> 8);
        p[3] = static_cast<unsigned char>(length);
        pos = 4;
    } else {
        p[1] = 0x80 | 127;
        for (int i = 0; i < 8; ++i) p[2 + i] = static_cast<unsigned char>(std::uint64_t(length) >> (56 - 8 * i));
        pos = 10;
    }
    std::memcpy(p + pos, &key, 4);
}

// XOR with a 4-byte key, 8 bytes at a time (the key is at offset 0 of `p`).
void mask_copy(unsigned char* dst, const unsigned char* src, std::size_t n, std::uint32_t key) {
    const std::uint64_t kw = (std::uint64_t(key) << 32) | key;
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        std::uint64_t w;
        std::memcpy(&w, src + i, 8);
        w ^= kw;
        std::memcpy(dst + i, &w, 8);
    }
    const auto* k = reinterpret_cast<const unsigned char*>(&key);
    for (; i < n; ++i) dst[i] = src[i] ^ k[i & 3];
}

// Server frame header: the total header size once p[0..n) shows enough of it (2 bytes first).
std::size_t server_header_need(const unsigned char* p, std::size_t n) {
    if (n < 2) return 2;
    const unsigned len7 = p[1] & 0x7F;
    return (len7 < 126 ? 2 : len7 == 126 ? 4 : 10) + ((p[1] & 0x80) ? 4 : 0);
}

bool find_ci(std::string_view hay, std::string_view needle, std::size_t& at) {
    auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end(), [](char a, char b) {
        auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; };
        return lower(a) == lower(b);
    });
    if (it == hay.end()) return false;
    at = std::size_t(it - hay.begin());
    return true;
}

// ---- connections ----

enum class State : std::uint8_t { unused, connecting, hs_write, hs_read, echo_wait, ready, failed };

struct Conn {
    int fd = -1;
    State state = State::unused;
    bool out_armed = false;
    bool fin = false;           // the frame being read is the last of its message
    bool control = false;       // the frame being read is a control frame (skipped)
    std::uint8_t hdr_len = 0;
    unsigned char msg_opcode = 0;  // opcode of the message being read, 0 between messages
    unsigned char hdr[14];
    std::uint64_t payload_left = 0;  // of the frame being read
    std::uint64_t msg_len = 0;       // payload bytes of the message being read so far
    std::uint64_t send_left = 0;     // bytes to send (whole frames, credited by echoes)
    std::size_t ring_pos = 0;
    std::uint64_t sent = 0;          // tcp: bytes sent in all
    std::uint64_t received = 0;      // tcp: bytes received in all
    std::string hs;                  // handshake request remainder, then the response head
    std::size_t hs_sent = 0;
    char key[25] = {};               // Sec-WebSocket-Key (base64 of 16 bytes)
};

class Load {
public:
    explicit Load(const Options& o, const sockaddr_storage& addr, socklen_t alen) : o_(o), addr_(addr), alen_(alen) {
        pattern_.resize(o.size);
        for (std::size_t j = 0; j < o.size; ++j) pattern_[j] = static_cast<unsigned char>('a' + (j * 7 + j / 26) % 26);
        build_ring();
        rbuf_ = std::make_unique<unsigned char[]>(kReadBufferSize);
        seed_ = std::uint64_t(Clock::now().time_since_epoch().count()) ^ (std::uint64_t(getpid()) << 32);
        request_ = "GET " + o.path + " HTTP/1.1\r\nHost: " + o.host + ":" + std::to_string(o.port) +
                   "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ";
    }

    bool init() {
        epfd_ = epoll_create1(EPOLL_CLOEXEC);
        if (epfd_ < 0) { std::perror("epoll_create1"); return false; }
        return true;
    }
    ~Load() {
        for (Conn& c : conns_)
            if (c.fd >= 0) ::close(c.fd);
        if (epfd_ >= 0) ::close(epfd_);
    }

    // Opens `n` connections (at most `concurrency` being set up at once) until every one is ready
    // or failed, or `deadline`. False on timeout or interruption.
    bool open(int n, Clock::time_point deadline) {
        conns_.assign(std::size_t(n), Conn{});
        std::size_t next = 0;
        auto last_report = Clock::now();
        epoll_event events[256];
        while (ready_ + failed_ < n) {
            if (g_interrupted) return false;
            if (bench::ms_left(deadline) <= 0) return false;
            while (next < conns_.size() && in_setup_ < o_.concurrency) start(conns_[next++]);
            int wait_ms = int(std::clamp<std::int64_t>(bench::ms_left(deadline), 0, 200));
            int k = epoll_wait(epfd_, events, 256, wait_ms);
            if (k < 0 && errno != EINTR) { std::perror("epoll_wait"); return false; }
            for (int i = 0; i < k; ++i) dispatch(*static_cast<Conn*>(events[i].data.ptr), events[i].events);
            if (n >= 1000 && Clock::now() - last_report > std::chrono::seconds(2)) {
                last_report = Clock::now();
                std::fprintf(stderr, "  ... %d ready, %d in set-up, %d failed\n", ready_, in_setup_, failed_);
            }
        }
        return true;
    }

    // Runs the load (modes ws and tcp) on the open connections: warm-up, then the measured window.
    void run() {
        running_ = true;
        for (Conn& c : conns_) {
            if (c.state != State::ready) continue;
            c.send_left = std::uint64_t(o_.inflight) * frame_size_;
            try_send(c);
        }
        const auto start = Clock::now();
        const auto window_start = start + std::chrono::seconds(o_.warmup_s);
        const auto window_end = window_start + std::chrono::seconds(o_.duration_s);
        bool counting = false;
        std::uint64_t messages_at_start = 0;
        double cpu_at_start = 0;
        epoll_event events[512];
        for (;;) {
            auto now = Clock::now();
            if (!counting && now >= window_start) {
                counting = true;
                t_start_ = now;
                messages_at_start = messages_;
                cpu_at_start = cpu_seconds();
            }
            if (counting && now >= window_end) {
                t_end_ = now;
                window_messages_ = messages_ - messages_at_start;
                window_cpu_ = cpu_seconds() - cpu_at_start;
                break;
            }
            if (g_interrupted) {
                if (!counting) t_start_ = now;
                t_end_ = now;
                window_messages_ = counting ? messages_ - messages_at_start : 0;
                break;
            }
            if (ready_ == 0) {  // every connection failed: nothing left to measure
                t_end_ = now;
                window_messages_ = counting ? messages_ - messages_at_start : 0;
                if (!counting) t_start_ = now;
                break;
            }
            auto boundary = counting ? window_end : window_start;
            int wait_ms = int(std::clamp<std::int64_t>(
                std::chrono::duration_cast<std::chrono::milliseconds>(boundary - now).count() + 1, 0, 100));
            int k = epoll_wait(epfd_, events, 512, wait_ms);
            if (k < 0 && errno != EINTR) { std::perror("epoll_wait"); break; }
            for (int i = 0; i < k; ++i) dispatch(*static_cast<Conn*>(events[i].data.ptr), events[i].events);
        }
        running_ = false;
    }

    // ws-idle: keeps watching the idle connections for `ms` (closes by the server, stray bytes).
    void watch(int ms, Clock::time_point deadline) {
        const auto end = Clock::now() + std::chrono::milliseconds(ms);
        epoll_event events[256];
        while (!g_interrupted) {
            auto left = std::min(bench::ms_left(end), bench::ms_left(deadline));
            if (left <= 0) break;
            int k = epoll_wait(epfd_, events, 256, int(std::min<std::int64_t>(left, 200)));
            for (int i = 0; i < k; ++i) dispatch(*static_cast<Conn*>(events[i].data.ptr), events[i].events);
        }
    }
    void poll_now() {
        epoll_event events[256];
        int k = epoll_wait(epfd_, events, 256, 0);
        for (int i = 0; i < k; ++i) dispatch(*static_cast<Conn*>(events[i].data.ptr), events[i].events);
    }

    void close_all() {
        for (Conn& c : conns_)
            if (c.fd >= 0) { ::close(c.fd); c.fd = -1; }
    }

    int ready() const { return ready_; }
    int in_setup() const { return in_setup_; }
    int failed() const { return failed_; }
    int closed_by_server() const { return closed_by_server_; }
    std::uint64_t errors() const { return errors_; }
    const std::string& first_error() const { return first_error_; }
    std::uint64_t window_messages() const { return window_messages_; }
    double window_seconds() const { return std::chrono::duration<double>(t_end_ - t_start_).count(); }
    double window_cpu() const { return window_cpu_; }
    std::size_t frame_size() const { return frame_size_; }
    std::size_t ring_frames() const { return ring_frames_; }

private:
    static double cpu_seconds() {
        rusage ru{};
        getrusage(RUSAGE_SELF, &ru);
        return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    }

    // The send ring: R frames back to back, each masked with its own key (ws), or R copies of the
    // message (tcp). A connection sends its way around it; R * frame_size bytes in all.
    void build_ring() {
        const bool ws = o_.mode != Mode::tcp;
        frame_size_ = ws ? client_header_size(o_.size) + o_.size : o_.size;
        if (ws) {
            // The echo's header as a server writes it: the client's without MASK bit and key.
            echo_header_size_ = client_header_size(o_.size) - 4;
            write_client_header(echo_header_.data(), o_.text ? kOpText : kOpBinary, o_.size, 0);
            echo_header_[1] &= 0x7F;
        }
        ring_frames_ = std::max<std::size_t>(16, std::size_t(o_.inflight));
        // Small messages: a longer ring, so one send() can carry many frames without wrapping.
        while (ring_frames_ * frame_size_ < 64 * 1024 && ring_frames_ < 4096) ring_frames_ *= 2;
        ring_.resize(ring_frames_ * frame_size_);
        std::uint64_t s = 0x5EED5EEDull;
        for (std::size_t f = 0; f < ring_frames_; ++f) {
            unsigned char* p = ring_.data() + f * frame_size_;
            if (!ws) {
                std::memcpy(p, pattern_.data(), o_.size);
                continue;
            }
            const auto key = static_cast<std::uint32_t>(splitmix64(s));
            const std::size_t h = client_header_size(o_.size);
            write_client_header(p, o_.text ? kOpText : kOpBinary, o_.size, key);
            mask_copy(p + h, pattern_.data(), o_.size, key);
        }
    }

    void error(Conn& c, const char* why, int err = 0) {
        ++errors_;
        if (first_error_.empty()) {
            first_error_ = why;
            if (err) first_error_.append(": ").append(std::strerror(err));
        }
        fail(c);
    }

    void fail(Conn& c) {
        if (c.state == State::failed) return;
        if (c.state == State::ready) --ready_; else --in_setup_;
        c.state = State::failed;
        ++failed_;
        if (c.fd >= 0) {
            epoll_ctl(epfd_, EPOLL_CTL_DEL, c.fd, nullptr);
            ::close(c.fd);
            c.fd = -1;
        }
        std::string().swap(c.hs);
    }

    void set_events(Conn& c, std::uint32_t events) {
        epoll_event ev{};
        ev.events = events;
        ev.data.ptr = &c;
        if (epoll_ctl(epfd_, EPOLL_CTL_MOD, c.fd, &ev) != 0) error(c, "epoll_ctl failed", errno);
    }

    void start(Conn& c) {
        ++in_setup_;
        c.state = State::connecting;
        c.fd = socket(addr_.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c.fd < 0) return error(c, "socket() failed", errno);
        int one = 1;
        setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        int rc = connect(c.fd, reinterpret_cast<const sockaddr*>(&addr_), alen_);
        if (rc != 0 && errno != EINPROGRESS) return error(c, "connect() failed", errno);
        epoll_event ev{};
        ev.events = EPOLLOUT;
        ev.data.ptr = &c;
        if (epoll_ctl(epfd_, EPOLL_CTL_ADD, c.fd, &ev) != 0) return error(c, "epoll_ctl failed", errno);
        if (rc == 0) dispatch(c, EPOLLOUT);
    }

    void become_ready(Conn& c) {
        if (o_.mode == Mode::ws_idle && o_.echo_once && c.state != State::echo_wait) {
            c.state = State::echo_wait;  // one message echoed before the connection counts as ready
            set_events(c, EPOLLIN | EPOLLRDHUP);
            if (c.state == State::failed) return;
            c.send_left = frame_size_;
            try_send(c);
            return;
        }
        --in_setup_;
        ++ready_;
        c.state = State::ready;
        set_events(c, EPOLLIN | EPOLLRDHUP);
    }

    void dispatch(Conn& c, std::uint32_t events) {
        switch (c.state) {
            case State::connecting: {
                if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
                int err = 0;
                socklen_t len = sizeof err;
                getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
                if (err != 0) return error(c, "connect failed", err);
                if (o_.mode == Mode::tcp) return become_ready(c);
                unsigned char nonce[16];
                for (int i = 0; i < 16; i += 8) {
                    std::uint64_t r = splitmix64(seed_);
                    std::memcpy(nonce + i, &r, 8);
                }
                std::string key = base64(nonce, sizeof nonce);
                std::memcpy(c.key, key.data(), std::min<std::size_t>(key.size(), 24));
                c.hs = request_;
                c.hs.append(c.key, 24).append("\r\n\r\n");
                c.hs_sent = 0;
                c.state = State::hs_write;
                [[fallthrough]];
            }
            case State::hs_write: {
                while (c.hs_sent < c.hs.size()) {
                    ssize_t n = ::send(c.fd, c.hs.data() + c.hs_sent, c.hs.size() - c.hs_sent, MSG_NOSIGNAL);
                    if (n < 0) {
                        if (errno == EINTR) continue;
                        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
                        return error(c, "send of the handshake failed", errno);
                    }
                    c.hs_sent += std::size_t(n);
                }
                c.hs.clear();
                c.state = State::hs_read;
                set_events(c, EPOLLIN | EPOLLRDHUP);
                return;
            }
            case State::hs_read: return read_handshake(c);
            case State::echo_wait:
            case State::ready:
                if ((events & EPOLLOUT) && c.send_left > 0) try_send(c);
                if (c.state == State::failed) return;
                if (events & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)) on_readable(c);
                return;
            case State::unused:
            case State::failed: return;
        }
    }

    void read_handshake(Conn& c) {
        char tmp[4096];
        ssize_t n;
        do n = ::recv(c.fd, tmp, sizeof tmp, 0);
        while (n < 0 && errno == EINTR);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            return error(c, "recv of the handshake response failed", errno);
        }
        if (n == 0) return error(c, "server closed the connection during the handshake");
        c.hs.append(tmp, std::size_t(n));
        const std::size_t end = c.hs.find("\r\n\r\n");
        if (end == std::string::npos) {
            if (c.hs.size() > 16 * 1024) return error(c, "handshake response head over 16 KiB");
            return;
        }
        std::string_view head(c.hs.data(), end + 2);
        if (head.substr(0, 13) != "HTTP/1.1 101 " && head.substr(0, 14) != "HTTP/1.1 101\r\n") {
            if (errors_ == 0)
                std::fprintf(stderr, "handshake refused: %.*s\n", int(std::min<std::size_t>(head.find('\r'), 200)),
                             head.data());
            return error(c, "handshake answered without 101");
        }
        std::size_t at = 0;
        if (!find_ci(head, "\r\nsec-websocket-accept:", at)) return error(c, "101 without Sec-WebSocket-Accept");
        std::size_t v = at + 23;
        while (v < head.size() && (head[v] == ' ' || head[v] == '\t')) ++v;
        std::size_t e = head.find('\r', v);
        std::string_view got = head.substr(v, e - v);
        while (!got.empty() && (got.back() == ' ' || got.back() == '\t')) got.remove_suffix(1);
        if (got != accept_for(std::string_view(c.key, 24))) return error(c, "wrong Sec-WebSocket-Accept");
        std::string rest = c.hs.substr(end + 4);
        std::string().swap(c.hs);
        become_ready(c);
        if (!rest.empty() && c.state != State::failed)
            consume_ws(c, reinterpret_cast<const unsigned char*>(rest.data()), rest.size());
    }

    void try_send(Conn& c) {
        const std::size_t ring_bytes = ring_.size();
        while (c.send_left > 0) {
            const std::size_t chunk = std::size_t(std::min<std::uint64_t>(c.send_left, ring_bytes - c.ring_pos));
            ssize_t n = ::send(c.fd, ring_.data() + c.ring_pos, chunk, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR) continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK) break;
                return error(c, "send failed", errno);
            }
            c.ring_pos += std::size_t(n);
            if (c.ring_pos == ring_bytes) c.ring_pos = 0;
            c.send_left -= std::uint64_t(n);
            c.sent += std::uint64_t(n);
            if (std::size_t(n) < chunk) break;  // the socket buffer is full
        }
        const bool want_out = c.send_left > 0;
        if (want_out != c.out_armed) {
            c.out_armed = want_out;
            set_events(c, EPOLLIN | EPOLLRDHUP | (want_out ? EPOLLOUT : 0u));
        }
    }

    void on_readable(Conn& c) {
        for (int round = 0; round < 8; ++round) {
            ssize_t n = ::recv(c.fd, rbuf_.get(), kReadBufferSize, 0);
            if (n > 0) {
                if (o_.mode == Mode::ws_idle && c.state == State::ready) return error(c, "unsolicited bytes on an idle connection");
                if (o_.mode == Mode::tcp)
                    consume_tcp(c, rbuf_.get(), std::size_t(n));
                else
                    consume_ws(c, rbuf_.get(), std::size_t(n));
                if (c.state == State::failed) return;
                if (std::size_t(n) < kReadBufferSize) break;
                continue;
            }
            if (n == 0) {
                ++closed_by_server_;
                return error(c, "server closed the connection");
            }
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            ++closed_by_server_;
            return error(c, "recv failed", errno);
        }
        if (c.send_left > 0 && !c.out_armed) try_send(c);
    }

    void message_done(Conn& c) {
        ++messages_;
        if (c.state == State::echo_wait) {  // ws-idle --echo-once: in set-up until now
            --in_setup_;
            ++ready_;
            c.state = State::ready;
            return;
        }
        if (running_) c.send_left += frame_size_;
    }

    void consume_tcp(Conn& c, const unsigned char* p, std::size_t n) {
        if (c.received + n > c.sent) return error(c, "more bytes echoed than sent");
        if (o_.verify) {
            std::uint64_t at = c.received;
            std::size_t i = 0;
            while (i < n) {
                const std::size_t off = std::size_t(at % o_.size);
                const std::size_t take = std::min(n - i, o_.size - off);
                if (std::memcmp(p + i, pattern_.data() + off, take) != 0) return error(c, "echoed bytes differ from the sent ones");
                i += take;
                at += take;
            }
        }
        const std::uint64_t before = c.received / o_.size;
        c.received += n;
        const std::uint64_t done = c.received / o_.size - before;
        messages_ += done;
        if (running_) c.send_left += done * frame_size_;
    }

    void consume_ws(Conn& c, const unsigned char* p, std::size_t n) {
        // The usual input first: whole echoes, each one frame with the header known in advance. Without
        // --verify their payload is not read, as the tcp mode only counts bytes.
        if (!o_.verify)
            while (c.payload_left == 0 && c.hdr_len == 0 && c.msg_opcode == 0 && n >= echo_header_size_ + o_.size &&
                   std::memcmp(p, echo_header_.data(), echo_header_size_) == 0) {
                p += echo_header_size_ + o_.size;
                n -= echo_header_size_ + o_.size;
                message_done(c);
                if (c.state == State::failed) return;
            }
        while (n > 0) {
            if (c.payload_left > 0) {
                const std::size_t take = std::size_t(std::min<std::uint64_t>(n, c.payload_left));
                if (!c.control) {
                    if (o_.verify && std::memcmp(p, pattern_.data() + c.msg_len, take) != 0)
                        return error(c, "echoed payload differs from the sent one");
                    c.msg_len += take;
                }
                c.payload_left -= take;
                p += take;
                n -= take;
                if (c.payload_left == 0 && !c.control && c.fin) {
                    if (!finish_message(c)) return;
                }
                continue;
            }
            // A frame header: parsed in place when whole, else gathered in c.hdr across reads.
            const unsigned char* h;
            if (c.hdr_len == 0 && n >= 2 && n >= server_header_need(p, n)) {
                h = p;
                const std::size_t need = server_header_need(p, n);
                p += need;
                n -= need;
            } else {
                for (;;) {
                    const std::size_t need = server_header_need(c.hdr, c.hdr_len);
                    if (c.hdr_len >= need || n == 0) break;
                    const std::size_t take = std::min(n, need - c.hdr_len);
                    std::memcpy(c.hdr + c.hdr_len, p, take);
                    c.hdr_len = static_cast<std::uint8_t>(c.hdr_len + take);
                    p += take;
                    n -= take;
                }
                if (c.hdr_len < server_header_need(c.hdr, c.hdr_len)) return;  // the rest comes with the next read
                h = c.hdr;
                c.hdr_len = 0;
            }
            if (!on_header(c, h)) return;
        }
    }

    bool on_header(Conn& c, const unsigned char* h) {
        const bool fin = (h[0] & 0x80) != 0;
        const unsigned char opcode = h[0] & 0x0F;
        if (h[0] & 0x70) { error(c, "RSV bits set in a server frame"); return false; }
        if (h[1] & 0x80) { error(c, "masked frame from the server"); return false; }
        const unsigned len7 = h[1] & 0x7F;
        std::uint64_t length = len7;
        if (len7 == 126) {
            length = (std::uint64_t(h[2]) << 8) | h[3];
        } else if (len7 == 127) {
            length = 0;
            for (int i = 2; i < 10; ++i) length = (length << 8) | h[i];
        }
        if (opcode >= 0x8) {
            if (opcode == kOpClose) { error(c, "server sent a Close frame"); return false; }
            if (!fin || length > 125) { error(c, "malformed control frame"); return false; }
            c.control = true;  // ping / pong: skipped
            c.payload_left = length;
            return true;
        }
        c.control = false;
        const unsigned char expected = o_.text ? kOpText : kOpBinary;
        if (opcode == 0) {
            if (c.msg_opcode == 0) { error(c, "continuation frame without a message"); return false; }
        } else if (opcode == kOpText || opcode == kOpBinary) {
            if (c.msg_opcode != 0) { error(c, "new message inside a fragmented one"); return false; }
            if (opcode != expected) { error(c, "echoed message has the wrong opcode"); return false; }
            c.msg_opcode = opcode;
            c.msg_len = 0;
        } else {
            error(c, "reserved opcode from the server");
            return false;
        }
        if (length > o_.size - c.msg_len) { error(c, "echoed message longer than the one sent"); return false; }
        c.fin = fin;
        c.payload_left = length;
        if (length == 0 && fin) return finish_message(c);
        return true;
    }

    bool finish_message(Conn& c) {
        if (c.msg_len != o_.size) {
            error(c, "echoed message shorter than the one sent");
            return false;
        }
        c.msg_opcode = 0;
        c.msg_len = 0;
        message_done(c);
        return c.state != State::failed;
    }

    const Options& o_;
    sockaddr_storage addr_;
    socklen_t alen_;
    int epfd_ = -1;
    std::vector<Conn> conns_;
    std::vector<unsigned char> pattern_;  // the payload of every message, unmasked
    std::vector<unsigned char> ring_;
    std::size_t frame_size_ = 0;
    std::array<unsigned char, 14> echo_header_{};
    std::size_t echo_header_size_ = 0;
    std::size_t ring_frames_ = 0;
    std::unique_ptr<unsigned char[]> rbuf_;
    std::uint64_t seed_ = 0;
    std::string request_;
    bool running_ = false;
    int ready_ = 0, in_setup_ = 0, failed_ = 0, closed_by_server_ = 0;
    std::uint64_t errors_ = 0;
    std::string first_error_;
    std::uint64_t messages_ = 0;
    std::uint64_t window_messages_ = 0;
    double window_cpu_ = 0;
    Clock::time_point t_start_{}, t_end_{};
};

const char* mode_name(Mode m) { return m == Mode::ws ? "ws" : m == Mode::tcp ? "tcp" : "ws-idle"; }

int run_load(const Options& o, const sockaddr_storage& addr, socklen_t alen, const std::string& addr_text) {
    Load load(o, addr, alen);
    if (!load.init()) return 2;
    const auto deadline = Clock::now() + std::chrono::seconds(o.timeout_s);
    if (!load.open(o.connections, deadline)) {
        std::fprintf(stderr, "%s: connection set-up did not finish within %d s (%d ready, %d failed%s%s)\n",
                     g_interrupted ? "interrupted" : "timeout", o.timeout_s, load.ready(), load.failed(),
                     load.first_error().empty() ? "" : "; first: ", load.first_error().c_str());
        return 3;
    }
    if (load.ready() == 0) {
        std::fprintf(stderr, "no connection could be opened to %s:%d%s: %s\n", addr_text.c_str(), o.port,
                     o.mode == Mode::ws ? o.path.c_str() : "", load.first_error().c_str());
        return 4;
    }
    load.run();
    const double secs = load.window_seconds();
    const double mps = secs > 0 ? double(load.window_messages()) / secs : 0;
    const double mib = mps * double(o.size) / (1024.0 * 1024.0);
    const double cpu = secs > 0 ? 100.0 * load.window_cpu() / secs : 0;
    std::fprintf(stderr,
                 "%s %s:%d%s  %d conns  %zu B  inflight %d: %.0f msg/s  %.2f MiB/s  (%llu messages in %.2f s, "
                 "load CPU %.1f%%, %llu errors%s%s)\n",
                 mode_name(o.mode), addr_text.c_str(), o.port, o.mode == Mode::ws ? o.path.c_str() : "",
                 o.connections, o.size, o.inflight, mps, mib, static_cast<unsigned long long>(load.window_messages()),
                 secs, cpu, static_cast<unsigned long long>(load.errors()), load.first_error().empty() ? "" : "; first: ",
                 load.first_error().c_str());
    std::printf("{\"mode\":\"%s\",\"connections\":%d,\"size\":%zu,\"inflight\":%d,\"messages_per_sec\":%.1f,"
                "\"mib_per_sec\":%.2f,\"errors\":%llu,\"messages\":%llu,\"seconds\":%.3f,\"warmup_s\":%d,"
                "\"load_cpu_pct\":%.1f,\"open_connections\":%d,\"failed_connections\":%d,\"opcode\":\"%s\","
                "\"verify\":%s,\"ring_frames\":%zu,\"host\":\"%s\",\"port\":%d}\n",
                mode_name(o.mode), o.connections, o.size, o.inflight, mps, mib,
                static_cast<unsigned long long>(load.errors()), static_cast<unsigned long long>(load.window_messages()),
                secs, o.warmup_s, cpu, load.ready(), load.failed(),
                o.mode == Mode::tcp ? "none" : o.text ? "text" : "binary", o.verify ? "true" : "false",
                load.ring_frames(), addr_text.c_str(), o.port);
    std::fflush(stdout);
    if (g_interrupted) return 3;
    return load.errors() > 0 ? 4 : 0;
}

int run_idle(Options o, const sockaddr_storage& addr, socklen_t alen, const std::string& addr_text) {
    const auto deadline = Clock::now() + std::chrono::seconds(o.timeout_s);
    if (o.pid != 0 && !bench::read_status_kib(o.pid, "VmRSS")) {
        std::fprintf(stderr, "cannot read VmRSS of pid %ld (/proc/%ld/status)\n", o.pid, o.pid);
        return 2;
    }
    if (long ports = bench::ephemeral_port_count(); ports > 0 && o.connections > ports)
        std::fprintf(stderr, "warning: %d connections but only %ld ephemeral ports (ip_local_port_range)\n",
                     o.connections, ports);
    if (o.idle_warmup) {
        // One throwaway connection with a handshake and an echoed message, so first-touch costs
        // (code pages, lazily built tables, the loop's buffers) are in the baseline.
        Options w = o;
        w.echo_once = true;
        Load warm(w, addr, alen);
        if (!warm.init() || !warm.open(1, deadline) || warm.ready() != 1) {
            std::fprintf(stderr, "warm-up WebSocket connection to %s:%d%s failed%s%s\n", addr_text.c_str(), o.port,
                         o.path.c_str(), warm.first_error().empty() ? "" : ": ", warm.first_error().c_str());
            return 2;
        }
        warm.close_all();
        std::this_thread::sleep_for(std::chrono::milliseconds(std::min(o.settle_ms, 500)));
    }
    std::optional<long> before, after;
    if (o.pid != 0) {
        before = bench::read_status_kib(o.pid, "VmRSS");
        if (!before) { std::fprintf(stderr, "server pid %ld is gone\n", o.pid); return 2; }
        std::fprintf(stderr, "ws-idle: %d connections to %s:%d%s%s, server pid %ld, VmRSS before %ld KiB\n",
                     o.connections, addr_text.c_str(), o.port, o.path.c_str(),
                     o.echo_once ? " (one echo each)" : "", o.pid, *before);
    } else {
        std::fprintf(stderr, "ws-idle: %d connections to %s:%d%s (no --pid: RSS not measured)\n", o.connections,
                     addr_text.c_str(), o.port, o.path.c_str());
    }
    Load load(o, addr, alen);
    if (!load.init()) return 2;
    const auto open_start = Clock::now();
    const bool opened = load.open(o.connections, deadline);
    const double open_s = std::chrono::duration<double>(Clock::now() - open_start).count();
    bool timed_out = !opened && !g_interrupted;
    if (opened)
        std::fprintf(stderr, "opened %d idle WebSocket connections in %.2f s (%d failed)\n", load.ready(), open_s,
                     load.failed());
    if (opened) {
        load.watch(o.settle_ms, deadline);
        if (o.pid != 0) after = bench::read_status_kib(o.pid, "VmRSS");
        load.poll_now();  // closes that raced with the measurement
        if (bench::ms_left(deadline) <= 0) timed_out = true;
    }
    const int open_at_measure = load.ready();
    if (o.hold_ms > 0 && opened && !g_interrupted) {
        std::fprintf(stderr, "holding %d connections for %d ms\n", load.ready(), o.hold_ms);
        load.watch(o.hold_ms, Clock::now() + std::chrono::milliseconds(o.hold_ms));
    }
    load.close_all();
    if (timed_out)
        std::fprintf(stderr, "TIMEOUT after %d s (%d ready, %d in set-up, %d failed)\n", o.timeout_s, load.ready(),
                     load.in_setup(), load.failed());
    if (g_interrupted) std::fprintf(stderr, "interrupted\n");
    if (load.errors() > 0)
        std::fprintf(stderr, "%llu errors (%d connections failed); first: %s\n",
                     static_cast<unsigned long long>(load.errors()), load.failed(), load.first_error().c_str());
    std::string per_conn = "null";
    if (before && after && open_at_measure > 0) {
        char tmp[64];
        std::snprintf(tmp, sizeof tmp, "%.1f", double(*after - *before) * 1024.0 / open_at_measure);
        per_conn = tmp;
        std::fprintf(stderr,
                     "server VmRSS: %ld KiB -> %ld KiB (+%ld KiB) with %d idle WebSocket connections: %s bytes/connection\n",
                     *before, *after, *after - *before, open_at_measure, tmp);
    }
    std::printf("{\"mode\":\"ws-idle\",\"connections\":%d,\"rss_before_kib\":%s,\"rss_after_kib\":%s,"
                "\"bytes_per_connection\":%s,\"requested\":%d,\"failed\":%d,\"closed_by_server\":%d,\"errors\":%llu,"
                "\"echo_once\":%s,\"open_seconds\":%.2f,\"settle_ms\":%d,\"host\":\"%s\",\"port\":%d,\"path\":\"%s\","
                "\"pid\":%ld,\"timed_out\":%s}\n",
                open_at_measure, before ? std::to_string(*before).c_str() : "null",
                after ? std::to_string(*after).c_str() : "null", per_conn.c_str(), o.connections, load.failed(),
                load.closed_by_server(), static_cast<unsigned long long>(load.errors()),
                o.echo_once ? "true" : "false", open_s, o.settle_ms, addr_text.c_str(), o.port, o.path.c_str(), o.pid,
                timed_out ? "true" : "false");
    std::fflush(stdout);
    if (timed_out || g_interrupted) return 3;
    return load.errors() > 0 ? 4 : 0;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    if (!parse_args(argc, argv, o)) { usage(argv[0]); return 1; }
    std::signal(SIGPIPE, SIG_IGN);
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);

    sockaddr_storage addr{};
    socklen_t alen = 0;
    if (!bench::resolve_loopback(o.host, o.port, addr, alen)) return 2;
    const std::string addr_text = bench::address_text(addr);
    if (!bench::raise_nofile(rlim_t(o.connections) + 64)) return 2;
    if (o.mode == Mode::ws_idle) return run_idle(o, addr, alen, addr_text);
    return run_load(o, addr, alen, addr_text);
}
