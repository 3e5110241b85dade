// sse_fanout: Server-Sent Events fan-out load: one publisher, N event-stream clients. One thread,
// epoll (level-triggered), non-blocking sockets, loopback only.
//
//   sse_fanout --port P --clients N [--duration S | --events K] [--inflight M [--burst]] [--window W]
//              [--rate R] [--size B] [--warmup S] [--timeout S] [--drain-timeout S]
//              [--path /events] [--publish-path /publish] [--event tick] [--host 127.0.0.1]
//
// 1. Opens N connections (--concurrency at a time) and sends on each
//      GET /events HTTP/1.1 / Accept: text/event-stream
//    then waits for every response head (200, Content-Type text/event-stream; a chunked body is
//    decoded, a raw one read until the end).
// 2. Opens one keep-alive publisher connection and POSTs /publish?event=tick with a B-byte body
//    (default 64) that starts with a 16-digit sequence number ("seq=0000000000000042;xxx..."), keeping
//    at most M requests in flight on it (pipelined: a new one leaves as soon as an answer comes back)
//    and at most W events published but not yet received by every client (the delivery window: the
//    publisher never runs further ahead of the slowest client than W events, so no server has to
//    buffer an unbounded backlog — which a server may answer by dropping a slow client). With
//    --burst the M requests leave together, in one send, once all M earlier ones were answered and
//    the window has room for M: every server sees the same arrival pattern (M publishes at once),
//    whatever the timing of this tool, which plain pipelining does not guarantee. With --rate R it
//    also publishes no more than R events/s.
//    Every publish answer must be 200 with a body of the recipient count; an answer below N is
//    counted in recipients_short.
// 3. Each client parses the stream (lines; blank line dispatches; comments ignored), checks every
//    event: event type == --event, one data line of exactly B bytes carrying the next sequence
//    number in order. Gaps are counted as missing events, anything else as errors.
// 4. Warm-up (--warmup S, default 1): the same load for S seconds, then until every client has every
//    warm-up event. Not counted.
// 5. Measured phase: publishes for --duration seconds (or --events K events), then waits (at most
//    --drain-timeout, default 10 s) until every client has every event.
//      delivered_per_sec = events received by all clients in the phase
//                          / (time the last one arrived - start of the phase)
//      slowest_client_events = fewest events any one client received in the phase
//      slowest_client_per_sec = lowest per-client rate (its events / (its last event - start))
//      missing = events published and never received, over all clients (measured phase and
//                warm-up), including those of clients the server disconnected
//    With --pid (the server's PID) the server's CPU use in the phase is reported too (and deliveries
//    per server CPU-second); with --server-cpu N the share of core N that other processes took; when
//    this tool is pinned to one core (taskset), the same for its own core.
//      events_per_segment = deliveries / TCP data segments the clients received in the phase
//                (TCP_INFO tcpi_data_segs_in; with TCP_NODELAY on loopback one segment per server
//                write: how many events the server coalesced into one write to a client)
//
// Human-readable lines on stderr, one JSON line on stdout:
//   {"clients":N,"events_published":..,"events_delivered":..,"delivered_per_sec":..,
//    "slowest_client_events":..,"missing":..,"slowest_client_per_sec":..,"server_cpu_pct":..,...}
// Exit status: 0 ok (every client received every event), 1 usage, 2 setup error (fd limit,
// non-loopback address, connection set-up failed), 3 timeout (--timeout, the whole run) or
// interrupted, 4 missing events, protocol errors, lost clients or short recipient counts.
#include <linux/tcp.h>  // TCP_NODELAY, struct tcp_info with tcpi_data_segs_in
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <deque>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "common.hpp"

namespace {

using bench::Clock;

volatile std::sig_atomic_t g_interrupted = 0;
extern "C" void on_signal(int) { g_interrupted = 1; }

struct Options {
    std::string host = "127.0.0.1";
    int port = 0;
    std::string path = "/events";
    std::string publish_path = "/publish";
    std::string event = "tick";
    int clients = 1000;
    int duration_s = 0;       // publish for this long (or --events)
    long events = 0;          // publish this many (0: unlimited, --duration bounds)
    int inflight = 4;         // publish requests outstanding on the publisher connection
    bool burst = false;       // send them M at a time, when none is outstanding
    int window = 16;          // events published and not yet received by every client (0: unbounded)
    long rate = 0;            // events per second (0: as fast as inflight and window allow)
    std::size_t size = 64;    // publish body bytes
    int warmup_s = 1;
    int timeout_s = 120;      // the whole run
    int drain_timeout_s = 10; // after the last publish, for the deliveries
    int concurrency = 256;    // connections being set up at once
    long pid = 0;             // the server, for its CPU time in the measured phase
    int server_cpu = -1;      // the core the server is pinned to, for other processes' share of it
};

constexpr std::size_t kReadBufferSize = 256 * 1024;
constexpr std::size_t kMaxLine = 64 * 1024;
constexpr std::size_t kSeqDigits = 16;
constexpr std::string_view kSeqPrefix = "seq=";
constexpr std::size_t kMinSize = kSeqPrefix.size() + kSeqDigits + 1;  // "seq=" + digits + ';'

void usage(const char* argv0) {
    std::fprintf(stderr,
        "usage: %s --port P [--host 127.0.0.1|::1|localhost] [--clients N] (--duration S | --events K)\n"
        "          [--inflight M] [--burst] [--window W] [--rate R] [--size BYTES] [--warmup S] [--timeout S]\n"
        "          [--drain-timeout S] [--concurrency C] [--path /events] [--publish-path /publish]\n"
        "          [--event NAME] [--pid SERVER_PID] [--server-cpu N]\n"
        "  N SSE clients on GET PATH, one publisher POSTing PUBLISH_PATH?event=NAME with a BYTES body;\n"
        "  at most M publishes in flight (--burst: M sent together once all M were answered) and W events\n"
        "  ahead of the slowest client (0: unbounded),\n"
        "  R events/s at most (0: as fast as allowed). --pid / --server-cpu: report the server's CPU use and\n"
        "  other processes' share of its core (and of this tool's core when pinned to one) in the phase.\n"
        "  defaults: clients 1000, inflight 4, window 16, rate 0, size 64, warmup 1, timeout 120,\n"
        "            drain-timeout 10, concurrency 256\n",
        argv0);
}

bool parse_args(int argc, char** argv, Options& o) {
    bench::Args args(argc, argv);
    while (args.next()) {
        const std::string_view a = args.flag();
        long v = 0;
        if (a == "--host") { if (!args.text(o.host)) return false;
        } else if (a == "--path") { if (!args.text(o.path)) return false;
        } else if (a == "--publish-path") { if (!args.text(o.publish_path)) return false;
        } else if (a == "--event") { if (!args.text(o.event)) return false;
        } else if (a == "--port") { if (!args.number(1, 65535, v)) return false; o.port = int(v);
        } else if (a == "--clients") { if (!args.number(1, 1000000, v)) return false; o.clients = int(v);
        } else if (a == "--duration") { if (!args.number(1, 3600, v)) return false; o.duration_s = int(v);
        } else if (a == "--events") { if (!args.number(1, 1L << 40, v)) return false; o.events = v;
        } else if (a == "--inflight") { if (!args.number(1, 4096, v)) return false; o.inflight = int(v);
        } else if (a == "--burst") { o.burst = true;
        } else if (a == "--window") { if (!args.number(0, 1 << 20, v)) return false; o.window = int(v);
        } else if (a == "--rate") { if (!args.number(0, 100000000, v)) return false; o.rate = v;
        } else if (a == "--size") { if (!args.number(long(kMinSize), 1 << 20, v)) return false; o.size = std::size_t(v);
        } else if (a == "--warmup") { if (!args.number(0, 600, v)) return false; o.warmup_s = int(v);
        } else if (a == "--timeout") { if (!args.number(1, 3600, v)) return false; o.timeout_s = int(v);
        } else if (a == "--drain-timeout") { if (!args.number(1, 600, v)) return false; o.drain_timeout_s = int(v);
        } else if (a == "--concurrency") { if (!args.number(1, 100000, v)) return false; o.concurrency = int(v);
        } else if (a == "--pid") { if (!args.number(1, 1L << 30, v)) return false; o.pid = v;
        } else if (a == "--server-cpu") { if (!args.number(0, 4095, v)) return false; o.server_cpu = int(v);
        } else if (a == "-h" || a == "--help") { usage(argv[0]); std::exit(0);
        } else {
            std::fprintf(stderr, "unknown option: %s\n", std::string(a).c_str());
            return false;
        }
    }
    if (o.port == 0) { std::fprintf(stderr, "--port is required\n"); return false; }
    if (o.duration_s == 0 && o.events == 0) { std::fprintf(stderr, "--duration or --events is required\n"); return false; }
    if (o.burst && o.window > 0 && o.window < o.inflight) {
        std::fprintf(stderr, "--burst needs --window 0 or >= --inflight\n");
        return false;
    }
    for (const std::string* s : {&o.path, &o.publish_path}) {
        if (s->empty() || (*s)[0] != '/' || s->find_first_of(" \r\n?#") != std::string::npos) {
            std::fprintf(stderr, "bad path '%s' (absolute, no query)\n", s->c_str());
            return false;
        }
    }
    if (o.event.empty() || o.event.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
                               std::string::npos) {
        std::fprintf(stderr, "--event must be [A-Za-z0-9_-]+\n");
        return false;
    }
    return true;
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

// The value of header `name` in a response head ("" when absent), trimmed.
std::string_view header_value(std::string_view head, std::string_view name) {
    std::string key = "\r\n";
    key.append(name).append(":");
    std::size_t at = 0;
    if (!find_ci(head, key, at)) return {};
    std::size_t b = at + key.size(), e = head.find("\r\n", b);
    if (e == std::string_view::npos) e = head.size();
    while (b < e && (head[b] == ' ' || head[b] == '\t')) ++b;
    while (e > b && (head[e - 1] == ' ' || head[e - 1] == '\t')) --e;
    return head.substr(b, e - b);
}

int status_code(std::string_view head) {
    if (head.size() < 12 || head.substr(0, 7) != "HTTP/1.") return -1;
    int code = 0;
    for (std::size_t i = 9; i < 12; ++i) {
        if (head[i] < '0' || head[i] > '9') return -1;
        code = code * 10 + (head[i] - '0');
    }
    return code;
}

double cpu_seconds() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// CPU time of process `pid` in clock ticks (utime + stime), -1 when unreadable.
long long proc_ticks(long pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto close = stat.rfind(')');
    if (close == std::string::npos) return -1;
    std::istringstream fields(stat.substr(close + 2));
    std::string f;
    long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && fields >> f; ++i) {  // field 3 is the state; 14 utime, 15 stime
        if (i == 14) utime = std::atoll(f.c_str());
        if (i == 15) stime = std::atoll(f.c_str());
    }
    return utime + stime;
}

// Busy ticks of core `cpu` from /proc/stat: user + nice + system + steal (irq and softirq left out:
// the benchmark's own loopback traffic lands there), -1 when unreadable. As bench/common.sh does.
long long cpu_busy_ticks(int cpu) {
    if (cpu < 0) return -1;
    std::ifstream in("/proc/stat");
    std::string line, want = "cpu" + std::to_string(cpu) + " ";
    while (std::getline(in, line)) {
        if (line.compare(0, want.size(), want) != 0) continue;
        std::istringstream f(line.substr(want.size()));
        long long v[8] = {};
        for (auto& x : v) f >> x;
        return v[0] + v[1] + v[2] + v[7];
    }
    return -1;
}

// The core this process is pinned to, or -1 when it may run on several.
int pinned_cpu() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0 || CPU_COUNT(&set) != 1) return -1;
    for (int i = 0; i < CPU_SETSIZE; ++i)
        if (CPU_ISSET(i, &set)) return i;
    return -1;
}

struct CpuSample {
    double self_s = 0;             // this process, seconds
    long long server = -1;         // ticks
    long long server_core = -1;    // busy ticks of the server's core
    long long load_core = -1;      // busy ticks of this tool's core
};

// ---- connections ----

enum class State : std::uint8_t { unused, connecting, writing, head, streaming, dead };
enum class Chunk : std::uint8_t { size, ext, size_lf, data, data_cr, data_lf, done };

struct Client {
    int fd = -1;
    State state = State::unused;
    bool chunked = false;
    Chunk chunk = Chunk::size;
    bool ev_named = false;   // the event being read had an "event:" field
    bool ev_name_ok = false; // ... naming --event
    bool ev_data = false;    // ... had a data line
    bool ev_bad = false;     // ... was malformed (several data lines, wrong size, no number)
    std::uint64_t chunk_left = 0;
    std::uint64_t ev_seq = 0;
    std::uint64_t next_seq = 0;   // the sequence number expected next
    std::uint64_t measured = 0;   // events received in the measured phase
    std::int64_t last_ns = 0;     // arrival of its last measured event (ns since the phase start)
    std::size_t sent = 0;         // request bytes sent
    std::string buf;              // the response head, then a line split across reads
};

class Fanout {
public:
    Fanout(const Options& o, const sockaddr_storage& addr, socklen_t alen) : o_(o), addr_(addr), alen_(alen) {
        rbuf_ = std::make_unique<char[]>(kReadBufferSize);
        request_ = "GET " + o.path + " HTTP/1.1\r\nHost: " + o.host + ":" + std::to_string(o.port) +
                   "\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n";
        publish_head_ = "POST " + o.publish_path + "?event=" + o.event + " HTTP/1.1\r\nHost: " + o.host + ":" +
                        std::to_string(o.port) + "\r\nContent-Type: text/plain\r\nContent-Length: " +
                        std::to_string(o.size) + "\r\n\r\n";
        body_.assign(o.size, 'x');
        std::memcpy(body_.data(), kSeqPrefix.data(), kSeqPrefix.size());
        body_[kSeqPrefix.size() + kSeqDigits] = ';';
    }
    ~Fanout() {
        close_all();
        if (epfd_ >= 0) ::close(epfd_);
    }

    bool init() {
        epfd_ = epoll_create1(EPOLL_CLOEXEC);
        if (epfd_ < 0) { std::perror("epoll_create1"); return false; }
        return true;
    }

    // ---- set-up ----

    // Opens the N clients (at most --concurrency in set-up) and waits for every response head.
    // False on timeout, interruption or a failed client.
    bool open_clients(Clock::time_point deadline) {
        clients_.assign(std::size_t(o_.clients), Client{});
        std::size_t next = 0;
        auto last_report = Clock::now();
        epoll_event events[256];
        while (streaming_ < o_.clients) {
            if (g_interrupted || bench::ms_left(deadline) <= 0 || failed_ > 0) return false;
            while (next < clients_.size() && in_setup_ < o_.concurrency) {
                if (!connect_client(clients_[next], next)) return false;
                ++next;
            }
            int wait_ms = int(std::clamp<std::int64_t>(bench::ms_left(deadline), 0, 200));
            int k = epoll_wait(epfd_, events, 256, wait_ms);
            if (k < 0 && errno != EINTR) { std::perror("epoll_wait"); return false; }
            now_ = Clock::now();
            for (int i = 0; i < k; ++i) dispatch(events[i]);
            if (o_.clients >= 1000 && now_ - last_report > std::chrono::seconds(2)) {
                last_report = now_;
                std::fprintf(stderr, "  ... %d streams open, %d in set-up\n", streaming_, in_setup_);
            }
        }
        return true;
    }

    bool open_publisher() {
        pub_fd_ = socket(addr_.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (pub_fd_ < 0) { std::perror("socket"); return false; }
        int one = 1;
        setsockopt(pub_fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        // Blocking-style connect on loopback: poll for completion.
        if (::connect(pub_fd_, reinterpret_cast<const sockaddr*>(&addr_), alen_) != 0 && errno != EINPROGRESS) {
            std::perror("connect (publisher)");
            return false;
        }
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT;
        ev.data.u64 = kPublisherTag;
        if (epoll_ctl(epfd_, EPOLL_CTL_ADD, pub_fd_, &ev) != 0) { std::perror("epoll_ctl"); return false; }
        pub_out_armed_ = true;
        return true;
    }

    // ---- phases ----

    // Publishes until `until` (or `limit` events in this phase), then waits until every client has
    // every event or `drain_deadline` passes. Returns false on interruption, the run deadline or a
    // dead publisher.
    bool phase(bool measured, Clock::time_point until, std::uint64_t limit, Clock::time_point run_deadline) {
        measuring_ = measured;
        phase_start_ = Clock::now();
        phase_first_seq_ = published_;
        phase_limit_ = limit;
        publish_until_ = until;
        publishing_ = true;
        if (measured) {
            cpu_start_ = sample();
            segs_start_ = data_segments_in();
        }
        epoll_event events[1024];
        Clock::time_point drain_deadline{};
        bool ok = true;
        for (;;) {
            now_ = Clock::now();
            if (g_interrupted || pub_dead_) { ok = false; break; }
            if (now_ >= run_deadline) { timed_out_ = true; ok = false; break; }
            if (publishing_ && (now_ >= publish_until_ || published_ - phase_first_seq_ >= phase_limit_)) {
                publishing_ = false;
                publish_end_ = now_;
                drain_deadline = now_ + std::chrono::seconds(o_.drain_timeout_s);
            }
            if (!publishing_) {
                // Done once every publish was answered and every live client has every event.
                if (pub_inflight_ == 0 && all_delivered_ >= published_) break;
                if (now_ >= drain_deadline) { drain_timed_out_ = measured ? true : drain_timed_out_; break; }
            }
            if (publishing_) publish_more();
            std::int64_t wait_ms = 5;
            if (publishing_ && o_.rate > 0) wait_ms = 1;
            int k = epoll_wait(epfd_, events, 1024, int(wait_ms));
            if (k < 0 && errno != EINTR) { std::perror("epoll_wait"); ok = false; break; }
            now_ = Clock::now();
            for (int i = 0; i < k; ++i) dispatch(events[i]);
            advance_watermark();
        }
        if (publishing_) {  // cut short
            publishing_ = false;
            publish_end_ = now_;
        }
        if (measured) {
            phase_end_ = last_delivery_ > phase_start_ ? last_delivery_ : now_;
            cpu_end_ = sample();
            segs_end_ = data_segments_in();
        }
        return ok;
    }

    // ---- results ----
    int streaming() const { return streaming_; }
    int in_setup() const { return in_setup_; }
    int failed() const { return failed_; }
    bool timed_out() const { return timed_out_; }
    const std::string& first_error() const { return first_error_; }

    int print_results(double setup_s) {
        const std::uint64_t events = published_ - phase_first_seq_;
        std::uint64_t delivered = 0, slowest = UINT64_MAX, missing = 0;
        double slowest_rate = -1;
        int lost = 0;
        for (const Client& c : clients_) {
            delivered += c.measured;
            slowest = std::min(slowest, c.measured);
            missing += published_ > c.next_seq ? published_ - c.next_seq : 0;
            if (c.state != State::streaming) ++lost;
            double secs = double(c.last_ns) / 1e9;
            double rate = c.measured == 0 ? 0.0 : (secs > 0 ? double(c.measured) / secs : 0.0);
            if (slowest_rate < 0 || rate < slowest_rate) slowest_rate = rate;
        }
        if (clients_.empty()) slowest = 0;
        missing += gaps_;
        const double secs = std::chrono::duration<double>(phase_end_ - phase_start_).count();
        const double pub_secs = std::chrono::duration<double>(publish_end_ - phase_start_).count();
        const double dps = secs > 0 ? double(delivered) / secs : 0;
        const double eps = secs > 0 ? double(events) / secs : 0;
        const double cpu = cpu_end_.self_s - cpu_start_.self_s;
        const double hz = double(sysconf(_SC_CLK_TCK));
        // Server CPU use in the phase; other processes' share of the server's and of this tool's core.
        auto pct = [&](double v) { return secs > 0 ? 100 * v / secs : 0.0; };
        double server_s = -1, server_others = -1, load_others = -1;
        if (cpu_start_.server >= 0 && cpu_end_.server >= 0) server_s = double(cpu_end_.server - cpu_start_.server) / hz;
        if (cpu_start_.server_core >= 0 && cpu_end_.server_core >= 0) {
            double busy = double(cpu_end_.server_core - cpu_start_.server_core) / hz;
            server_others = std::max(0.0, busy - std::max(0.0, server_s));
        }
        if (cpu_start_.load_core >= 0 && cpu_end_.load_core >= 0) {
            double busy = double(cpu_end_.load_core - cpu_start_.load_core) / hz;
            load_others = std::max(0.0, busy - cpu);
        }
        const bool complete = missing == 0 && errors_ == 0 && lost == 0 && recipients_short_ == 0 &&
                              !timed_out_ && !drain_timed_out_;
        std::string server_text;
        if (server_s >= 0) {
            char b[160];
            std::snprintf(b, sizeof b, "; server CPU %.0f%% (%.0f deliveries/CPU-s)", pct(server_s),
                          server_s > 0 ? double(delivered) / server_s : 0.0);
            server_text = b;
        }
        if (segs_end_ > segs_start_) {
            char b[96];
            std::snprintf(b, sizeof b, "; %.2f events per TCP segment", double(delivered) / double(segs_end_ - segs_start_));
            server_text += b;
        }
        if (server_others >= 0 || load_others >= 0) {
            char b[160];
            std::snprintf(b, sizeof b, "; others on the server's / load's core %.0f%% / %.0f%%",
                          server_others < 0 ? 0.0 : pct(server_others), load_others < 0 ? 0.0 : pct(load_others));
            server_text += b;
        }
        std::fprintf(stderr,
                     "sse_fanout: %d clients, %llu events published in %.2f s (%.0f/s), %llu deliveries in %.2f s: "
                     "%.0f delivered/s; slowest client %llu events (%.1f/s); missing %llu, errors %llu, lost %d, "
                     "short answers %llu, publisher reconnects %llu%s; load CPU %.0f%%%s\n",
                     o_.clients, (unsigned long long)events, pub_secs, pub_secs > 0 ? double(events) / pub_secs : 0,
                     (unsigned long long)delivered, secs, dps, (unsigned long long)slowest, slowest_rate,
                     (unsigned long long)missing, (unsigned long long)errors_, lost,
                     (unsigned long long)recipients_short_, (unsigned long long)pub_reconnects_, server_text.c_str(), pct(cpu),
                     complete ? "" : "  INCOMPLETE");
        if (!first_error_.empty()) std::fprintf(stderr, "first error: %s\n", first_error_.c_str());
        auto opt = [](double v, const char* fmt) {
            if (v < 0) return std::string("null");
            char b[64];
            std::snprintf(b, sizeof b, fmt, v);
            return std::string(b);
        };
        std::printf("{\"clients\":%d,\"events_published\":%llu,\"events_delivered\":%llu,\"delivered_per_sec\":%.1f,"
                    "\"slowest_client_events\":%llu,\"missing\":%llu,\"slowest_client_per_sec\":%.2f,"
                    "\"events_per_sec\":%.2f,\"seconds\":%.4f,\"publish_seconds\":%.4f,\"errors\":%llu,"
                    "\"clients_lost\":%d,\"recipients_short\":%llu,\"warmup_events\":%llu,\"size\":%zu,"
                    "\"inflight\":%d,\"burst\":%s,\"window\":%d,\"rate\":%ld,\"load_cpu_pct\":%.1f,\"load_core_others_pct\":%s,"
                    "\"server_cpu_pct\":%s,\"deliveries_per_server_cpu_s\":%s,\"server_core_others_pct\":%s,"
                    "\"events_per_segment\":%s,\"setup_s\":%.3f,\"drain_timed_out\":%s,\"timed_out\":%s,\"complete\":%s,\"host\":\"%s\",\"port\":%d}\n",
                    o_.clients, (unsigned long long)events, (unsigned long long)delivered, dps,
                    (unsigned long long)slowest, (unsigned long long)missing, std::max(0.0, slowest_rate), eps, secs,
                    pub_secs, (unsigned long long)errors_, lost, (unsigned long long)recipients_short_,
                    (unsigned long long)phase_first_seq_, o_.size, o_.inflight, o_.burst ? "true" : "false", o_.window, o_.rate, pct(cpu),
                    opt(load_others < 0 ? -1 : pct(load_others), "%.1f").c_str(),
                    opt(server_s < 0 ? -1 : pct(server_s), "%.1f").c_str(),
                    opt(server_s <= 0 ? -1 : double(delivered) / server_s, "%.0f").c_str(),
                    opt(server_others < 0 ? -1 : pct(server_others), "%.1f").c_str(),
                    opt(segs_end_ > segs_start_ ? double(delivered) / double(segs_end_ - segs_start_) : -1, "%.2f").c_str(),
                    setup_s,
                    drain_timed_out_ ? "true" : "false", timed_out_ ? "true" : "false", complete ? "true" : "false",
                    o_.host.c_str(), o_.port);
        std::fflush(stdout);
        return complete ? 0 : 4;
    }

    // Closes every socket with an RST (SO_LINGER 0): no TIME_WAIT left behind for the next run.
    void close_all() {
        linger lg{1, 0};
        for (Client& c : clients_) {
            if (c.fd < 0) continue;
            setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
            ::close(c.fd);
            c.fd = -1;
        }
        if (pub_fd_ >= 0) {
            setsockopt(pub_fd_, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
            ::close(pub_fd_);
            pub_fd_ = -1;
        }
    }

private:
    static constexpr std::uint64_t kPublisherTag = ~std::uint64_t(0);

    void error(Client* c, const char* what) {
        ++errors_;
        if (first_error_.empty()) {
            first_error_ = what;
            if (c != nullptr) first_error_ += " (client " + std::to_string(c - clients_.data()) + ")";
        }
    }

    bool connect_client(Client& c, std::size_t index) {
        c.fd = socket(addr_.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c.fd < 0) {
            std::fprintf(stderr, "socket: %s (client %zu)\n", std::strerror(errno), index);
            ++failed_;
            return false;
        }
        int one = 1;
        setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        ++in_setup_;
        if (::connect(c.fd, reinterpret_cast<const sockaddr*>(&addr_), alen_) != 0 && errno != EINPROGRESS) {
            std::fprintf(stderr, "connect: %s (client %zu)\n", std::strerror(errno), index);
            ++failed_;
            return false;
        }
        c.state = State::connecting;
        epoll_event ev{};
        ev.events = EPOLLOUT;
        ev.data.u64 = index;
        if (epoll_ctl(epfd_, EPOLL_CTL_ADD, c.fd, &ev) != 0) {
            std::perror("epoll_ctl");
            ++failed_;
            return false;
        }
        return true;
    }

    void dispatch(const epoll_event& ev) {
        if (ev.data.u64 == kPublisherTag) {
            on_publisher(ev.events);
            return;
        }
        Client& c = clients_[ev.data.u64];
        switch (c.state) {
        case State::connecting:
        case State::writing: on_writable(c); break;
        case State::head:
        case State::streaming: on_readable(c); break;
        default: break;
        }
    }

    void set_failed(Client& c, const char* what) {
        if (c.state == State::dead) return;
        if (c.state == State::streaming) {
            --streaming_;
            --live_;  // its events from now on are missing
        } else {
            --in_setup_;
            ++failed_;
        }
        error(&c, what);
        c.state = State::dead;
        if (c.fd >= 0) {
            epoll_ctl(epfd_, EPOLL_CTL_DEL, c.fd, nullptr);
            ::close(c.fd);
            c.fd = -1;
        }
    }

    void on_writable(Client& c) {
        if (c.state == State::connecting) {
            int err = 0;
            socklen_t len = sizeof err;
            getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
            if (err != 0) {
                std::fprintf(stderr, "connect: %s\n", std::strerror(err));
                set_failed(c, "connect failed");
                return;
            }
            c.state = State::writing;
        }
        while (c.sent < request_.size()) {
            ssize_t n = ::send(c.fd, request_.data() + c.sent, request_.size() - c.sent, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR) continue;
                if (errno == EAGAIN) return;
                set_failed(c, "send failed");
                return;
            }
            c.sent += std::size_t(n);
        }
        c.state = State::head;
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = std::size_t(&c - clients_.data());
        epoll_ctl(epfd_, EPOLL_CTL_MOD, c.fd, &ev);
    }

    void on_readable(Client& c) {
        ssize_t n = ::recv(c.fd, rbuf_.get(), kReadBufferSize, 0);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) return;
            set_failed(c, "recv failed (connection reset)");
            return;
        }
        if (n == 0) {
            set_failed(c, c.state == State::head ? "closed before the response head" : "stream closed by the server");
            return;
        }
        const char* p = rbuf_.get();
        std::size_t len = std::size_t(n);
        if (c.state == State::head) {
            c.buf.append(p, len);
            std::size_t end = c.buf.find("\r\n\r\n");
            if (end == std::string::npos) {
                if (c.buf.size() > 16384) set_failed(c, "response head too large");
                return;
            }
            std::string_view head(c.buf.data(), end + 2);
            if (status_code(head) != 200) { set_failed(c, "event stream answered with a status other than 200"); return; }
            std::size_t at = 0;
            if (!find_ci(header_value(head, "Content-Type"), "text/event-stream", at)) {
                set_failed(c, "Content-Type is not text/event-stream");
                return;
            }
            std::size_t chunked_at = 0;
            c.chunked = find_ci(header_value(head, "Transfer-Encoding"), "chunked", chunked_at);
            std::string rest = c.buf.substr(end + 4);
            c.buf.clear();
            c.buf.shrink_to_fit();
            c.state = State::streaming;
            --in_setup_;
            ++streaming_;
            ++live_;
            if (!rest.empty()) body(c, rest.data(), rest.size());
            return;
        }
        body(c, p, len);
    }

    // Response body bytes: de-chunked when needed, then fed to the event parser.
    void body(Client& c, const char* p, std::size_t n) {
        if (!c.chunked) {
            feed(c, p, n);
            return;
        }
        while (n > 0 && c.state == State::streaming) {
            switch (c.chunk) {
            case Chunk::size: {
                char ch = *p++;
                --n;
                int d = (ch >= '0' && ch <= '9') ? ch - '0' : (ch >= 'a' && ch <= 'f') ? ch - 'a' + 10
                        : (ch >= 'A' && ch <= 'F') ? ch - 'A' + 10 : -1;
                if (d >= 0) {
                    if (c.chunk_left > (UINT64_MAX >> 8)) { set_failed(c, "bad chunk size"); return; }
                    c.chunk_left = c.chunk_left * 16 + std::uint64_t(d);
                } else if (ch == ';' || ch == ' ' || ch == '\t') {
                    c.chunk = Chunk::ext;
                } else if (ch == '\r') {
                    c.chunk = Chunk::size_lf;
                } else if (ch == '\n') {
                    c.chunk = c.chunk_left == 0 ? Chunk::done : Chunk::data;
                } else {
                    set_failed(c, "bad chunk size");
                    return;
                }
                break;
            }
            case Chunk::ext: {
                const void* nl = std::memchr(p, '\n', n);
                if (nl == nullptr) return;
                std::size_t skip = std::size_t(static_cast<const char*>(nl) - p) + 1;
                p += skip, n -= skip;
                c.chunk = c.chunk_left == 0 ? Chunk::done : Chunk::data;
                break;
            }
            case Chunk::size_lf:
                if (*p != '\n') { set_failed(c, "bad chunk framing"); return; }
                ++p, --n;
                c.chunk = c.chunk_left == 0 ? Chunk::done : Chunk::data;
                break;
            case Chunk::data: {
                std::size_t take = std::size_t(std::min<std::uint64_t>(c.chunk_left, n));
                feed(c, p, take);
                p += take, n -= take;
                c.chunk_left -= take;
                if (c.chunk_left == 0) c.chunk = Chunk::data_cr;
                break;
            }
            case Chunk::data_cr:
                if (*p == '\r') { ++p, --n; c.chunk = Chunk::data_lf; break; }
                [[fallthrough]];
            case Chunk::data_lf:
                if (*p != '\n') { set_failed(c, "bad chunk framing"); return; }
                ++p, --n;
                c.chunk = Chunk::size;
                break;
            case Chunk::done:
                set_failed(c, "the stream ended (last chunk)");
                return;
            }
        }
        if (c.chunk == Chunk::done && c.state == State::streaming) set_failed(c, "the stream ended (last chunk)");
    }

    // Event-stream bytes: split into lines (LF, CRLF; a lone CR is not expected from these servers).
    void feed(Client& c, const char* p, std::size_t n) {
        while (n > 0) {
            const void* nl = std::memchr(p, '\n', n);
            if (nl == nullptr) {
                if (c.buf.size() + n > kMaxLine) { set_failed(c, "line too long"); return; }
                c.buf.append(p, n);
                return;
            }
            std::size_t len = std::size_t(static_cast<const char*>(nl) - p);
            std::string_view line;
            if (c.buf.empty()) {
                line = std::string_view(p, len);
            } else {
                c.buf.append(p, len);
                line = c.buf;
            }
            if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
            on_line(c, line);
            c.buf.clear();
            p += len + 1, n -= len + 1;
        }
    }

    void on_line(Client& c, std::string_view line) {
        if (line.empty()) {
            if (c.ev_data || c.ev_named) dispatch_event(c);
            c.ev_named = c.ev_name_ok = c.ev_data = c.ev_bad = false;
            return;
        }
        if (line[0] == ':') return;  // comment (keep-alive pings)
        std::size_t colon = line.find(':');
        std::string_view field = line.substr(0, colon), value;
        if (colon != std::string_view::npos) {
            value = line.substr(colon + 1);
            if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
        }
        if (field == "data") {
            if (c.ev_data || value.size() != o_.size || value.substr(0, kSeqPrefix.size()) != kSeqPrefix) {
                c.ev_bad = true;
                c.ev_data = true;
                return;
            }
            std::uint64_t seq = 0;
            for (std::size_t i = kSeqPrefix.size(); i < kSeqPrefix.size() + kSeqDigits; ++i) {
                char ch = value[i];
                if (ch < '0' || ch > '9') { c.ev_bad = true; break; }
                seq = seq * 10 + std::uint64_t(ch - '0');
            }
            c.ev_seq = seq;
            c.ev_data = true;
        } else if (field == "event") {
            c.ev_named = true;
            c.ev_name_ok = value == o_.event;
        }
        // id, retry and unknown fields: ignored
    }

    void dispatch_event(Client& c) {
        if (c.ev_bad || !c.ev_data || !c.ev_named || !c.ev_name_ok) {
            error(&c, c.ev_bad ? "malformed data line" : !c.ev_data ? "event without data"
                              : !c.ev_named ? "event without the event type" : "wrong event type");
            return;
        }
        const std::uint64_t seq = c.ev_seq;
        if (seq < c.next_seq || seq >= published_) {
            error(&c, seq < c.next_seq ? "event repeated or out of order" : "event never published");
            return;
        }
        if (seq > c.next_seq) {
            gaps_ += seq - c.next_seq;
            if (first_error_.empty())
                first_error_ = "client " + std::to_string(&c - clients_.data()) + " missed events " +
                               std::to_string(c.next_seq) + ".." + std::to_string(seq - 1);
            for (std::uint64_t s = c.next_seq; s < seq; ++s) ++received_[s];  // accounted for the watermark
        }
        ++received_[seq];
        c.next_seq = seq + 1;
        if (measuring_ && seq >= phase_first_seq_) {
            ++c.measured;
            c.last_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now_ - phase_start_).count();
            last_delivery_ = now_;
        }
    }

    // The lowest event not yet received by every live client.
    void advance_watermark() {
        const std::uint32_t target = std::uint32_t(std::max(live_, 0));
        while (all_delivered_ < published_ && received_[all_delivered_] >= target) ++all_delivered_;
    }

    // ---- publisher ----

    void publish_more() {
        bool queued = false;
        if (o_.burst) {
            // All M together, or none: nothing outstanding, room for M in the window.
            if (pub_inflight_ > 0) return;
            if (o_.window > 0 && published_ + std::uint64_t(o_.inflight) - all_delivered_ > std::uint64_t(o_.window)) return;
        }
        while (pub_inflight_ < o_.inflight) {
            if (published_ - phase_first_seq_ >= phase_limit_) break;
            if (!o_.burst && o_.window > 0 && published_ - all_delivered_ >= std::uint64_t(o_.window)) break;
            if (o_.rate > 0) {
                const auto due = phase_start_ + std::chrono::nanoseconds(
                                                    std::int64_t((published_ - phase_first_seq_) * 1'000'000'000.0 / double(o_.rate)));
                if (now_ < due && !(o_.burst && pub_inflight_ > 0)) break;  // a burst is paced as a whole
            }
            std::uint64_t seq = published_++;
            received_.push_back(0);
            char* digits = body_.data() + kSeqPrefix.size();
            for (int i = int(kSeqDigits) - 1; i >= 0; --i, seq /= 10) digits[i] = char('0' + seq % 10);
            pub_out_.append(publish_head_).append(body_);
            pub_unanswered_.push_back(publish_head_ + body_);
            ++pub_inflight_;
            queued = true;
        }
        if (queued) publisher_send();
    }

    void publisher_send() {
        while (pub_out_off_ < pub_out_.size()) {
            ssize_t n = ::send(pub_fd_, pub_out_.data() + pub_out_off_, pub_out_.size() - pub_out_off_, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR) continue;
                if (errno == EAGAIN || errno == ENOTCONN) break;
                publisher_failed("publisher send failed");
                return;
            }
            pub_out_off_ += std::size_t(n);
        }
        if (pub_out_off_ == pub_out_.size()) {
            pub_out_.clear();
            pub_out_off_ = 0;
        }
        const bool want_out = pub_out_off_ < pub_out_.size() || !pub_connected_;
        if (want_out != pub_out_armed_) {
            epoll_event ev{};
            ev.events = EPOLLIN | (want_out ? EPOLLOUT : 0u);
            ev.data.u64 = kPublisherTag;
            epoll_ctl(epfd_, EPOLL_CTL_MOD, pub_fd_, &ev);
            pub_out_armed_ = want_out;
        }
    }

    void reopen_publisher() {
        epoll_ctl(epfd_, EPOLL_CTL_DEL, pub_fd_, nullptr);
        ::close(pub_fd_);
        pub_fd_ = -1;
        pub_connected_ = false;
        pub_in_.clear();
        pub_out_.clear();
        pub_out_off_ = 0;
        for (const auto& request : pub_unanswered_) pub_out_.append(request);
        pub_inflight_ = int(pub_unanswered_.size());
        ++pub_reconnects_;
        if (!open_publisher()) publisher_failed("publisher reconnect failed");
    }

    void publisher_failed(const char* what) {
        error(nullptr, what);
        pub_dead_ = true;
        if (pub_fd_ >= 0) {
            epoll_ctl(epfd_, EPOLL_CTL_DEL, pub_fd_, nullptr);
            ::close(pub_fd_);
            pub_fd_ = -1;
        }
    }

    void on_publisher(std::uint32_t events) {
        if ((events & EPOLLOUT) != 0) {
            if (!pub_connected_) {
                int err = 0;
                socklen_t len = sizeof err;
                getsockopt(pub_fd_, SOL_SOCKET, SO_ERROR, &err, &len);
                if (err != 0) { publisher_failed("publisher connect failed"); return; }
                pub_connected_ = true;
            }
            publisher_send();
            if (pub_dead_) return;
        }
        if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) == 0) return;
        ssize_t n = ::recv(pub_fd_, rbuf_.get(), kReadBufferSize, 0);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) return;
            publisher_failed("publisher recv failed");
            return;
        }
        if (n == 0) { publisher_failed("the server closed the publisher connection"); return; }
        pub_in_.append(rbuf_.get(), std::size_t(n));
        std::size_t pos = 0;
        for (;;) {
            std::string_view rest(pub_in_.data() + pos, pub_in_.size() - pos);
            std::size_t end = rest.find("\r\n\r\n");
            if (end == std::string_view::npos) break;
            std::string_view head = rest.substr(0, end + 2);
            auto cl = header_value(head, "Content-Length");
            if (cl.empty()) { publisher_failed("publish answer without Content-Length"); return; }
            std::size_t body_len = 0;
            for (char ch : cl) {
                if (ch < '0' || ch > '9') { publisher_failed("bad Content-Length in a publish answer"); return; }
                body_len = body_len * 10 + std::size_t(ch - '0');
            }
            if (rest.size() < end + 4 + body_len) break;
            std::string_view answer = rest.substr(end + 4, body_len);
            const int code = status_code(head);
            if (code != 200) {
                std::string what = "publish answered " + std::to_string(code);
                if (first_error_.empty()) first_error_ = what;
                ++errors_;
            } else {
                long count = 0;
                std::size_t i = 0;
                for (; i < answer.size() && answer[i] >= '0' && answer[i] <= '9'; ++i) count = count * 10 + (answer[i] - '0');
                if (i == 0) {
                    if (first_error_.empty()) first_error_ = "publish answer is not a count: " + std::string(answer);
                    ++errors_;
                } else if (count < o_.clients) {
                    ++recipients_short_;
                    if (first_error_.empty())
                        first_error_ = "publish reached " + std::to_string(count) + " of " + std::to_string(o_.clients) + " clients";
                }
            }
            std::size_t at = 0;
            const bool closing = find_ci(header_value(head, "Connection"), "close", at);
            --pub_inflight_;
            ++answers_;
            pub_unanswered_.pop_front();
            pos += end + 4 + body_len;
            if (closing) {
                // A server's limit of requests per connection (herald's max_requests_per_connection,
                // nginx's keepalive_requests): reconnect and send again what it did not answer.
                reopen_publisher();
                return;
            }
        }
        pub_in_.erase(0, pos);
    }

    const Options& o_;
    sockaddr_storage addr_;
    socklen_t alen_;
    int epfd_ = -1;
    std::unique_ptr<char[]> rbuf_;
    std::string request_;
    std::vector<Client> clients_;
    int in_setup_ = 0, streaming_ = 0, failed_ = 0, live_ = 0;
    Clock::time_point now_{};

    // publisher
    int pub_fd_ = -1;
    bool pub_connected_ = false, pub_out_armed_ = false, pub_dead_ = false;
    std::string publish_head_, body_, pub_out_, pub_in_;
    std::deque<std::string> pub_unanswered_;  // requests sent and not answered yet, oldest first
    std::uint64_t pub_reconnects_ = 0;
    std::size_t pub_out_off_ = 0;
    int pub_inflight_ = 0;
    std::uint64_t answers_ = 0;

    // events
    std::vector<std::uint32_t> received_;  // per sequence number: clients that have it (or missed it)
    std::uint64_t published_ = 0, all_delivered_ = 0;
    std::uint64_t phase_first_seq_ = 0, phase_limit_ = 0;
    bool measuring_ = false, publishing_ = false;
    Clock::time_point phase_start_{}, phase_end_{}, publish_until_{}, publish_end_{}, last_delivery_{};
    CpuSample cpu_start_{}, cpu_end_{};
    std::uint64_t segs_start_ = 0, segs_end_ = 0;

    // Data segments the live clients have received so far (TCP_INFO): with TCP_NODELAY on loopback,
    // one per server write, so events / segments tells how many events a server puts in one write.
    std::uint64_t data_segments_in() const {
        std::uint64_t total = 0;
        for (const Client& c : clients_) {
            if (c.fd < 0 || c.state != State::streaming) continue;
            tcp_info ti{};
            socklen_t len = sizeof ti;
            if (getsockopt(c.fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 &&
                len >= offsetof(tcp_info, tcpi_data_segs_in) + sizeof ti.tcpi_data_segs_in)
                total += ti.tcpi_data_segs_in;
        }
        return total;
    }
    int load_cpu_ = pinned_cpu();

    CpuSample sample() const {
        CpuSample c;
        c.self_s = cpu_seconds();
        if (o_.pid > 0) c.server = proc_ticks(o_.pid);
        c.server_core = cpu_busy_ticks(o_.server_cpu);
        c.load_core = cpu_busy_ticks(load_cpu_);
        return c;
    }

    // outcome
    std::uint64_t errors_ = 0, gaps_ = 0, recipients_short_ = 0;
    bool timed_out_ = false, drain_timed_out_ = false;
    std::string first_error_;
};

}  // namespace

int main(int argc, char** argv) {
    Options o;
    if (!parse_args(argc, argv, o)) {
        usage(argv[0]);
        return 1;
    }
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    std::signal(SIGPIPE, SIG_IGN);

    sockaddr_storage addr{};
    socklen_t alen = 0;
    if (!bench::resolve_loopback(o.host, o.port, addr, alen)) return 2;
    if (!bench::raise_nofile(rlim_t(o.clients) + 64)) return 2;
    if (long range = bench::ephemeral_port_count(); range > 0 && range < o.clients + 16)
        std::fprintf(stderr, "warning: the ephemeral port range has %ld ports, fewer than %d clients\n", range, o.clients);

    const auto start = Clock::now();
    const auto run_deadline = start + std::chrono::seconds(o.timeout_s);
    Fanout f(o, addr, alen);
    if (!f.init()) return 2;
    std::fprintf(stderr, "sse_fanout: opening %d event streams on %s:%d%s\n", o.clients,
                 bench::address_text(addr).c_str(), o.port, o.path.c_str());
    if (!f.open_clients(run_deadline)) {
        std::fprintf(stderr, "set-up %s: %d streams open, %d in set-up, %d failed%s%s\n",
                     g_interrupted ? "interrupted" : f.failed() ? "failed" : "timed out", f.streaming(), f.in_setup(),
                     f.failed(), f.first_error().empty() ? "" : "; ", f.first_error().c_str());
        return f.failed() ? 2 : 3;
    }
    if (!f.open_publisher()) return 2;
    const double setup_s = std::chrono::duration<double>(Clock::now() - start).count();
    std::fprintf(stderr, "  %d streams open in %.2f s; publishing %zu-byte events, %d in flight%s, window %d%s\n",
                 f.streaming(), setup_s, o.size, o.inflight, o.burst ? " (in bursts)" : "", o.window,
                 o.rate > 0 ? (", at most " + std::to_string(o.rate) + "/s").c_str() : ", as fast as allowed");

    constexpr std::uint64_t kNoLimit = UINT64_MAX;
    if (o.warmup_s > 0) {
        if (!f.phase(false, Clock::now() + std::chrono::seconds(o.warmup_s), kNoLimit, run_deadline)) {
            std::fprintf(stderr, "warm-up %s%s%s\n", g_interrupted ? "interrupted" : f.timed_out() ? "timed out" : "failed",
                         f.first_error().empty() ? "" : ": ", f.first_error().c_str());
            return f.timed_out() || g_interrupted ? 3 : 4;
        }
    }
    const auto until = o.duration_s > 0 ? Clock::now() + std::chrono::seconds(o.duration_s) : Clock::time_point::max();
    const bool ok = f.phase(true, until, o.events > 0 ? std::uint64_t(o.events) : kNoLimit, run_deadline);
    int rc = f.print_results(setup_s);
    if (!ok && (g_interrupted || f.timed_out())) rc = 3;
    return rc;
}
