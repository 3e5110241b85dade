// idle_conns: memory cost of idle keep-alive connections on a local HTTP server.
//
// Opens N TCP connections to a loopback host:port, sends one keep-alive request on each
// ("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"), reads the whole response so the server has completed
// one request cycle and holds the connection idle in keep-alive, then keeps them all open.
// The server's VmRSS (/proc/PID/status) is read before opening and after all connections are idle
// (plus a settle delay); the growth divided by the number of idle connections is the cost per connection.
//
// Human-readable progress goes to stderr; exactly one JSON line goes to stdout:
//   {"connections":N,"rss_before_kib":..,"rss_after_kib":..,"bytes_per_connection":..,...}
//
// Exit status: 0 ok, 1 usage, 2 setup error, 3 timeout or interrupted, 4 some connections failed
// (refused, closed by the server, not keep-alive) or got a non-2xx status.
// Only loopback addresses are accepted. Plain POSIX sockets + epoll, no dependencies.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

volatile std::sig_atomic_t g_interrupted = 0;
extern "C" void on_signal(int) { g_interrupted = 1; }

struct Options {
    std::string host = "127.0.0.1";
    int port = 0;
    long pid = 0;               // 0: do not measure RSS
    int connections = 10000;
    int settle_ms = 2000;
    int timeout_s = 120;
    int concurrency = 256;      // connections being set up at once (connect + request + response)
    int hold_ms = 0;            // keep the idle connections open this long after measuring
    std::string path = "/hello";
    bool warmup = true;         // one request on a throwaway connection before the baseline
};

void usage(const char* argv0) {
    std::fprintf(stderr,
        "usage: %s --port P [--host 127.0.0.1|::1|localhost] [--pid PID] [--connections N]\n"
        "          [--settle-ms MS] [--timeout S] [--concurrency C] [--hold-ms MS] [--path /hello]\n"
        "          [--no-warmup]\n"
        "  Opens N keep-alive connections to a loopback server, does one GET on each, keeps them idle,\n"
        "  and reports the server's VmRSS growth per connection (PID: the process that owns the sockets,\n"
        "  e.g. the nginx worker, not the master).\n"
        "  defaults: host 127.0.0.1, connections 10000, settle-ms 2000, timeout 120, concurrency 256\n",
        argv0);
}

std::optional<long> to_long(const char* s) {
    if (s == nullptr || *s == '\0') return std::nullopt;
    char* end = nullptr;
    errno = 0;
    long v = std::strtol(s, &end, 10);
    if (errno != 0 || *end != '\0') return std::nullopt;
    return v;
}

bool parse_args(int argc, char** argv, Options& o) {
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        auto need = [&](long lo, long hi, long& out) {
            if (i + 1 >= argc) { std::fprintf(stderr, "%s needs a value\n", argv[i]); return false; }
            auto v = to_long(argv[++i]);
            if (!v || *v < lo || *v > hi) {
                std::fprintf(stderr, "bad value for %s: %s (%ld..%ld)\n", argv[i - 1], argv[i], lo, hi);
                return false;
            }
            out = *v;
            return true;
        };
        long v = 0;
        if (a == "--host") {
            if (i + 1 >= argc) { std::fprintf(stderr, "--host needs a value\n"); return false; }
            o.host = argv[++i];
        } else if (a == "--path") {
            if (i + 1 >= argc) { std::fprintf(stderr, "--path needs a value\n"); return false; }
            o.path = argv[++i];
            if (o.path.empty() || o.path[0] != '/' || o.path.find_first_of(" \r\n") != std::string::npos) {
                std::fprintf(stderr, "bad --path\n");
                return false;
            }
        } else if (a == "--port") { if (!need(1, 65535, v)) return false; o.port = int(v);
        } else if (a == "--pid") { if (!need(1, 1L << 30, v)) return false; o.pid = v;
        } else if (a == "--connections") { if (!need(1, 1000000, v)) return false; o.connections = int(v);
        } else if (a == "--settle-ms") { if (!need(0, 600000, v)) return false; o.settle_ms = int(v);
        } else if (a == "--timeout") { if (!need(1, 3600, v)) return false; o.timeout_s = int(v);
        } else if (a == "--concurrency") { if (!need(1, 100000, v)) return false; o.concurrency = int(v);
        } else if (a == "--hold-ms") { if (!need(0, 3600000, v)) return false; o.hold_ms = int(v);
        } else if (a == "--no-warmup") { o.warmup = false;
        } else if (a == "-h" || a == "--help") { usage(argv[0]); std::exit(0);
        } else {
            std::fprintf(stderr, "unknown option: %s\n", argv[i]);
            return false;
        }
    }
    if (o.port == 0) { std::fprintf(stderr, "--port is required\n"); return false; }
    return true;
}

bool is_loopback(const sockaddr* sa) {
    if (sa->sa_family == AF_INET) {
        auto* in = reinterpret_cast<const sockaddr_in*>(sa);
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
        if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr)) return true;
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) return in6->sin6_addr.s6_addr[12] == 127;
    }
    return false;
}

// Resolves host:port and refuses anything that is not a loopback address.
bool resolve_loopback(const Options& o, sockaddr_storage& out, socklen_t& len) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    std::string port = std::to_string(o.port);
    int rc = getaddrinfo(o.host.c_str(), port.c_str(), &hints, &res);
    if (rc != 0) {
        std::fprintf(stderr, "cannot resolve %s: %s\n", o.host.c_str(), gai_strerror(rc));
        return false;
    }
    bool ok = false;
    for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
        if (!is_loopback(ai->ai_addr)) {
            std::fprintf(stderr, "refusing non-loopback address for %s (only 127.0.0.0/8 and ::1)\n", o.host.c_str());
            ok = false;
            break;
        }
        if (!ok) {
            std::memcpy(&out, ai->ai_addr, ai->ai_addrlen);
            len = ai->ai_addrlen;
            ok = true;
        }
    }
    freeaddrinfo(res);
    return ok;
}

bool raise_nofile(rlim_t need) {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return false;
    if (rl.rlim_cur >= need) return true;
    if (rl.rlim_max >= need) {
        rl.rlim_cur = need;
        return setrlimit(RLIMIT_NOFILE, &rl) == 0;
    }
    rlimit want{need, need};  // raising the hard limit needs CAP_SYS_RESOURCE
    if (setrlimit(RLIMIT_NOFILE, &want) == 0) return true;
    std::fprintf(stderr, "cannot raise RLIMIT_NOFILE to %llu (hard limit %llu): %s; try `ulimit -n %llu`\n",
                 static_cast<unsigned long long>(need), static_cast<unsigned long long>(rl.rlim_max),
                 std::strerror(errno), static_cast<unsigned long long>(need));
    return false;
}

std::optional<long> read_status_kib(long pid, std::string_view field) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    if (!in) return std::nullopt;
    std::string line;
    while (std::getline(in, line)) {
        if (line.size() > field.size() && line.compare(0, field.size(), field) == 0 && line[field.size()] == ':') {
            return std::strtol(line.c_str() + field.size() + 1, nullptr, 10);
        }
    }
    return std::nullopt;
}

long ephemeral_port_count() {
    std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
    long lo = 0, hi = 0;
    if (in >> lo >> hi && hi >= lo) return hi - lo + 1;
    return -1;
}

// ---- one client connection ----

enum class State : unsigned char { connecting, writing, reading, idle, failed };

struct Conn {
    int fd = -1;
    State state = State::connecting;
    std::size_t sent = 0;
    std::string buf;
};

std::size_t find_ci(std::string_view hay, std::string_view needle) {
    auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end(), [](char a, char b) {
        auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; };
        return lower(a) == lower(b);
    });
    return it == hay.end() ? std::string_view::npos : std::size_t(it - hay.begin());
}

enum class Resp { incomplete, done_keepalive, done_close, bad };

// Minimal response framing: status line, Content-Length or chunked (ends at "0\r\n\r\n").
Resp check_response(std::string_view b, int& status) {
    auto end = b.find("\r\n\r\n");
    if (end == std::string_view::npos) return b.size() > 64 * 1024 ? Resp::bad : Resp::incomplete;
    if (b.size() < 12 || b.substr(0, 7) != "HTTP/1.") return Resp::bad;
    status = std::atoi(std::string(b.substr(9, 3)).c_str());
    std::string_view head = b.substr(0, end + 2);
    std::string_view body = b.substr(end + 4);
    bool close = find_ci(head, "\r\nconnection: close") != std::string_view::npos ||
                 (b.substr(0, 8) == "HTTP/1.0" && find_ci(head, "\r\nconnection: keep-alive") == std::string_view::npos);
    Resp done = close ? Resp::done_close : Resp::done_keepalive;
    if (auto p = find_ci(head, "\r\ncontent-length:"); p != std::string_view::npos) {
        long n = std::strtol(std::string(head.substr(p + 17, 24)).c_str(), nullptr, 10);
        if (n < 0) return Resp::bad;
        return body.size() >= std::size_t(n) ? done : Resp::incomplete;
    }
    if (find_ci(head, "\r\ntransfer-encoding:") != std::string_view::npos) {
        return (body.size() >= 5 && (body.substr(0, 5) == "0\r\n\r\n" ||
                                     body.find("\r\n0\r\n\r\n") != std::string_view::npos))
                   ? done : Resp::incomplete;
    }
    if (status == 204 || status == 304 || (status >= 100 && status < 200)) return done;
    return Resp::done_close;  // close-delimited body: cannot stay idle in keep-alive
}

struct Counters {
    int idle = 0, failed = 0, not_2xx = 0, closed_by_server = 0, in_flight = 0;
    int first_errno = 0;
    std::string first_error;
};

void fail(Conn& c, Counters& k, int epfd, const char* why, int err = 0) {
    if (c.state == State::failed) return;
    if (c.state == State::idle) --k.idle; else --k.in_flight;
    c.state = State::failed;
    ++k.failed;
    if (k.first_error.empty()) { k.first_error = why; k.first_errno = err; }
    if (c.fd >= 0) {
        epoll_ctl(epfd, EPOLL_CTL_DEL, c.fd, nullptr);
        close(c.fd);
        c.fd = -1;
    }
    std::string().swap(c.buf);
}

// Drives one connection after an epoll event (or right after connect()).
void step(Conn& c, Counters& k, int epfd, const std::string& request, std::uint32_t events) {
    if (c.state == State::idle) {
        // Any event on an idle connection: the server closed it, reset it, or sent unsolicited bytes.
        char tmp[512];
        ssize_t n = recv(c.fd, tmp, sizeof tmp, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) || (events & (EPOLLHUP | EPOLLERR))) {
            ++k.closed_by_server;
            fail(c, k, epfd, "server closed an idle connection", n < 0 ? errno : 0);
        }
        return;
    }
    if (c.state == State::connecting) {
        if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) return fail(c, k, epfd, "connect failed", err);
        c.state = State::writing;
    }
    if (c.state == State::writing) {
        while (c.sent < request.size()) {
            ssize_t n = send(c.fd, request.data() + c.sent, request.size() - c.sent, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK) return;
                return fail(c, k, epfd, "send failed", errno);
            }
            c.sent += std::size_t(n);
        }
        c.state = State::reading;
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP;
        ev.data.ptr = &c;
        epoll_ctl(epfd, EPOLL_CTL_MOD, c.fd, &ev);
        return;  // the response arrives on a later EPOLLIN
    }
    if (c.state == State::reading) {
        char tmp[4096];
        for (;;) {
            ssize_t n = recv(c.fd, tmp, sizeof tmp, 0);
            if (n > 0) { c.buf.append(tmp, std::size_t(n)); continue; }
            if (n == 0) return fail(c, k, epfd, "server closed before a complete response");
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            return fail(c, k, epfd, "recv failed", errno);
        }
        int status = 0;
        switch (check_response(c.buf, status)) {
        case Resp::incomplete: return;
        case Resp::bad: return fail(c, k, epfd, "malformed response");
        case Resp::done_close: return fail(c, k, epfd, "response is not keep-alive (Connection: close or no length)");
        case Resp::done_keepalive: break;
        }
        if (status < 200 || status > 299) {
            if (k.not_2xx == 0) std::fprintf(stderr, "warning: status %d from the server (first non-2xx)\n", status);
            ++k.not_2xx;
        }
        std::string().swap(c.buf);
        c.state = State::idle;
        --k.in_flight;
        ++k.idle;
        // Stay registered: EPOLLRDHUP/EPOLLIN on an idle connection means the server closed it.
    }
}

int64_t ms_left(Clock::time_point deadline) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
}

// One request on a throwaway blocking connection, so first-touch costs are in the baseline.
bool warmup(const sockaddr_storage& addr, socklen_t alen, const std::string& request, int timeout_s) {
    int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    timeval tv{std::min(timeout_s, 10), 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    bool ok = false;
    std::string buf;
    if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), alen) == 0 &&
        send(fd, request.data(), request.size(), MSG_NOSIGNAL) == ssize_t(request.size())) {
        char tmp[4096];
        int status = 0;
        for (;;) {
            ssize_t n = recv(fd, tmp, sizeof tmp, 0);
            if (n <= 0) break;
            buf.append(tmp, std::size_t(n));
            Resp r = check_response(buf, status);
            if (r == Resp::incomplete) continue;
            ok = (r == Resp::done_keepalive);
            if (r != Resp::bad)
                std::fprintf(stderr, "warm-up: status %d, %zu response bytes%s\n", status, buf.size(),
                             ok ? "" : " (not keep-alive!)");
            break;
        }
    }
    close(fd);
    return ok;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    if (!parse_args(argc, argv, o)) { usage(argv[0]); return 1; }

    std::signal(SIGPIPE, SIG_IGN);
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    const auto start = Clock::now();
    const auto deadline = start + std::chrono::seconds(o.timeout_s);

    sockaddr_storage addr{};
    socklen_t alen = 0;
    if (!resolve_loopback(o, addr, alen)) return 2;
    char addr_text[INET6_ADDRSTRLEN] = "?";
    if (addr.ss_family == AF_INET)
        inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&addr)->sin_addr, addr_text, sizeof addr_text);
    else
        inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&addr)->sin6_addr, addr_text, sizeof addr_text);

    if (!raise_nofile(rlim_t(o.connections) + 64)) return 2;
    if (long ports = ephemeral_port_count(); ports > 0 && o.connections > ports)
        std::fprintf(stderr, "warning: %d connections but only %ld ephemeral ports (ip_local_port_range)\n",
                     o.connections, ports);
    if (o.pid != 0 && !read_status_kib(o.pid, "VmRSS")) {
        std::fprintf(stderr, "cannot read VmRSS of pid %ld (/proc/%ld/status)\n", o.pid, o.pid);
        return 2;
    }

    const std::string request = "GET " + o.path + " HTTP/1.1\r\nHost: x\r\n\r\n";

    if (o.warmup) {
        if (!warmup(addr, alen, request, o.timeout_s)) {
            std::fprintf(stderr, "warm-up request to %s:%d failed (server not answering keep-alive %s?)\n",
                         addr_text, o.port, o.path.c_str());
            return 2;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(std::min(o.settle_ms, 500)));
    }

    std::optional<long> rss_before, rss_after;
    if (o.pid != 0) rss_before = read_status_kib(o.pid, "VmRSS");
    if (o.pid != 0 && !rss_before) { std::fprintf(stderr, "server pid %ld is gone\n", o.pid); return 2; }
    if (o.pid != 0)
        std::fprintf(stderr, "idle_conns: %d connections to %s:%d%s, server pid %ld, VmRSS before %ld KiB\n",
                     o.connections, addr_text, o.port, o.path.c_str(), o.pid, *rss_before);
    else
        std::fprintf(stderr, "idle_conns: %d connections to %s:%d%s (no --pid: RSS not measured)\n",
                     o.connections, addr_text, o.port, o.path.c_str());

    int epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) { std::perror("epoll_create1"); return 2; }

    std::vector<Conn> conns(std::size_t(o.connections));
    Counters k;
    std::size_t next = 0;
    std::vector<epoll_event> events(1024);
    bool timed_out = false;
    const auto open_start = Clock::now();
    auto last_report = open_start;

    // Phase 1: open all connections, at most `concurrency` in set-up at a time.
    while (k.idle + k.failed < o.connections) {
        if (g_interrupted) break;
        if (ms_left(deadline) <= 0) { timed_out = true; break; }
        while (next < conns.size() && k.in_flight < o.concurrency) {
            Conn& c = conns[next++];
            ++k.in_flight;
            c.fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (c.fd < 0) { fail(c, k, epfd, "socket() failed", errno); continue; }
            int one = 1;
            setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            int rc = connect(c.fd, reinterpret_cast<const sockaddr*>(&addr), alen);
            if (rc != 0 && errno != EINPROGRESS) { fail(c, k, epfd, "connect() failed", errno); continue; }
            epoll_event ev{};
            ev.events = EPOLLOUT | EPOLLRDHUP;
            ev.data.ptr = &c;
            if (epoll_ctl(epfd, EPOLL_CTL_ADD, c.fd, &ev) != 0) { fail(c, k, epfd, "epoll_ctl failed", errno); continue; }
            if (rc == 0) step(c, k, epfd, request, EPOLLOUT);
        }
        int wait_ms = int(std::clamp<int64_t>(ms_left(deadline), 0, 200));
        int n = epoll_wait(epfd, events.data(), int(events.size()), wait_ms);
        if (n < 0 && errno != EINTR) { std::perror("epoll_wait"); break; }
        for (int i = 0; i < n; ++i) step(*static_cast<Conn*>(events[i].data.ptr), k, epfd, request, events[i].events);
        if (Clock::now() - last_report > std::chrono::seconds(2)) {
            last_report = Clock::now();
            std::fprintf(stderr, "  ... %d idle, %d in flight, %d failed\n", k.idle, k.in_flight, k.failed);
        }
    }
    const double open_s = std::chrono::duration<double>(Clock::now() - open_start).count();
    if (!timed_out && !g_interrupted)
        std::fprintf(stderr, "opened %d idle keep-alive connections in %.2f s (%d failed)\n", k.idle, open_s, k.failed);

    // Phase 2: settle, still watching for connections the server closes.
    if (!timed_out && !g_interrupted) {
        const auto settle_end = Clock::now() + std::chrono::milliseconds(o.settle_ms);
        while (!g_interrupted) {
            auto left = std::min(ms_left(settle_end), ms_left(deadline));
            if (left <= 0) { timed_out = ms_left(deadline) <= 0 && ms_left(settle_end) > 0; break; }
            int n = epoll_wait(epfd, events.data(), int(events.size()), int(std::min<int64_t>(left, 200)));
            for (int i = 0; i < n; ++i) step(*static_cast<Conn*>(events[i].data.ptr), k, epfd, request, events[i].events);
        }
        if (o.pid != 0) rss_after = read_status_kib(o.pid, "VmRSS");
        // Drain events that raced with the measurement.
        int n = epoll_wait(epfd, events.data(), int(events.size()), 0);
        for (int i = 0; i < n; ++i) step(*static_cast<Conn*>(events[i].data.ptr), k, epfd, request, events[i].events);
    }
    const int open_at_measure = k.idle;

    if (o.hold_ms > 0 && !timed_out && !g_interrupted) {
        std::fprintf(stderr, "holding %d connections for %d ms\n", k.idle, o.hold_ms);
        const auto hold_end = Clock::now() + std::chrono::milliseconds(o.hold_ms);
        while (!g_interrupted && ms_left(hold_end) > 0 && ms_left(deadline) > 0) {
            int n = epoll_wait(epfd, events.data(), int(events.size()),
                               int(std::min<int64_t>(std::min(ms_left(hold_end), ms_left(deadline)), 200)));
            for (int i = 0; i < n; ++i) step(*static_cast<Conn*>(events[i].data.ptr), k, epfd, request, events[i].events);
        }
    }

    for (Conn& c : conns)
        if (c.fd >= 0) close(c.fd);
    close(epfd);

    if (timed_out) std::fprintf(stderr, "TIMEOUT after %d s (%d idle, %d in flight, %d failed)\n",
                                o.timeout_s, k.idle, k.in_flight, k.failed);
    if (g_interrupted) std::fprintf(stderr, "interrupted\n");
    if (k.failed > 0)
        std::fprintf(stderr, "%d connections failed; first: %s%s%s\n", k.failed, k.first_error.c_str(),
                     k.first_errno ? ": " : "", k.first_errno ? std::strerror(k.first_errno) : "");
    if (k.not_2xx > 0) std::fprintf(stderr, "warning: %d responses were not 2xx\n", k.not_2xx);

    std::string per_conn = "null";
    std::string before = rss_before ? std::to_string(*rss_before) : "null";
    std::string after = rss_after ? std::to_string(*rss_after) : "null";
    if (rss_before && rss_after && open_at_measure > 0) {
        double b = double(*rss_after - *rss_before) * 1024.0 / open_at_measure;
        char tmp[64];
        std::snprintf(tmp, sizeof tmp, "%.1f", b);
        per_conn = tmp;
        std::fprintf(stderr, "server VmRSS: %ld KiB -> %ld KiB (+%ld KiB) with %d idle connections: %s bytes/connection\n",
                     *rss_before, *rss_after, *rss_after - *rss_before, open_at_measure, tmp);
    }
    std::printf("{\"connections\":%d,\"rss_before_kib\":%s,\"rss_after_kib\":%s,\"bytes_per_connection\":%s,"
                "\"requested\":%d,\"failed\":%d,\"closed_by_server\":%d,\"non_2xx\":%d,\"open_seconds\":%.2f,"
                "\"settle_ms\":%d,\"host\":\"%s\",\"port\":%d,\"pid\":%ld,\"timed_out\":%s}\n",
                open_at_measure, before.c_str(), after.c_str(), per_conn.c_str(), o.connections, k.failed,
                k.closed_by_server, k.not_2xx, open_s, o.settle_ms, addr_text, o.port, o.pid,
                timed_out ? "true" : "false");
    std::fflush(stdout);
    if (timed_out || g_interrupted) return 3;
    if (k.failed > 0 || k.not_2xx > 0) return 4;
    return 0;
}
