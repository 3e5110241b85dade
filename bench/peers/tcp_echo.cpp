// tcp_echo: a raw TCP echo server, the ceiling for the WebSocket echo benchmark (bench/ws_echo.sh).
//
//   tcp_echo --port P [--host 127.0.0.1]
//
// One thread, epoll (level-triggered), non-blocking sockets, TCP_NODELAY. Whatever a connection
// sends is written straight back from one shared read buffer: no framing, no per-message work, no
// per-connection buffer unless the peer reads slower than it writes (then the unsent rest is kept
// and reading from that connection pauses until it is written). Runs until SIGINT/SIGTERM.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

namespace {

volatile std::sig_atomic_t g_stop = 0;
extern "C" void on_signal(int) { g_stop = 1; }

constexpr std::size_t kBufferSize = 256 * 1024;

struct Conn {
    int fd;
    bool out_armed = false;
    std::string pending;  // echo bytes not yet accepted by the socket
};

void set_events(int epfd, Conn* c, std::uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = c;
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

void drop(int epfd, Conn* c) {
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, nullptr);
    close(c->fd);
    delete c;
}

// Writes data; keeps what the socket does not take. False when the connection is gone.
bool write_all(int epfd, Conn* c, const char* data, std::size_t size) {
    while (size > 0) {
        ssize_t n = send(c->fd, data, size, MSG_NOSIGNAL);
        if (n > 0) {
            data += n;
            size -= std::size_t(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            c->pending.append(data, size);
            if (!c->out_armed) {
                c->out_armed = true;
                set_events(epfd, c, EPOLLOUT);  // stop reading until the echo is written
            }
            return true;
        }
        return false;
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    std::string host = "127.0.0.1";
    int port = 0;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--port" && i + 1 < argc) port = std::atoi(argv[++i]);
        else if (a == "--host" && i + 1 < argc) host = argv[++i];
        else {
            std::fprintf(stderr, "usage: %s --port P [--host 127.0.0.1]\n", argv[0]);
            return 1;
        }
    }
    if (port <= 0 || port > 65535) {
        std::fprintf(stderr, "usage: %s --port P [--host 127.0.0.1]\n", argv[0]);
        return 1;
    }
    std::signal(SIGPIPE, SIG_IGN);
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);

    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    addrinfo* res = nullptr;
    if (int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res); rc != 0) {
        std::fprintf(stderr, "cannot resolve %s: %s\n", host.c_str(), gai_strerror(rc));
        return 2;
    }
    int lfd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (lfd < 0 || bind(lfd, res->ai_addr, res->ai_addrlen) != 0 || listen(lfd, 4096) != 0) {
        std::fprintf(stderr, "cannot listen on %s:%d: %s\n", host.c_str(), port, std::strerror(errno));
        return 2;
    }
    freeaddrinfo(res);

    int epfd = epoll_create1(EPOLL_CLOEXEC);
    epoll_event lev{};
    lev.events = EPOLLIN;
    lev.data.ptr = nullptr;  // the listener
    epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &lev);
    auto buf = std::make_unique<char[]>(kBufferSize);
    epoll_event events[512];

    while (!g_stop) {
        int n = epoll_wait(epfd, events, 512, 500);
        if (n < 0) {
            if (errno == EINTR) continue;
            std::perror("epoll_wait");
            return 2;
        }
        for (int i = 0; i < n; ++i) {
            auto* c = static_cast<Conn*>(events[i].data.ptr);
            if (c == nullptr) {
                for (;;) {
                    int fd = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (fd < 0) break;  // EAGAIN, or out of descriptors: try again on the next event
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    auto* conn = new Conn{fd, false, {}};
                    epoll_event ev{};
                    ev.events = EPOLLIN;
                    ev.data.ptr = conn;
                    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
                        close(fd);
                        delete conn;
                    }
                }
                continue;
            }
            const std::uint32_t ev = events[i].events;
            if (c->out_armed) {
                if (!(ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))) continue;
                std::string rest = std::move(c->pending);
                c->pending.clear();
                if (!write_all(epfd, c, rest.data(), rest.size())) { drop(epfd, c); continue; }
                if (c->pending.empty()) {
                    c->out_armed = false;
                    std::string().swap(c->pending);
                    set_events(epfd, c, EPOLLIN);
                }
                continue;
            }
            ssize_t got = recv(c->fd, buf.get(), kBufferSize, 0);
            if (got > 0) {
                if (!write_all(epfd, c, buf.get(), std::size_t(got))) drop(epfd, c);
                continue;
            }
            if (got < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
            drop(epfd, c);  // closed by the peer, or reset
        }
    }
    close(epfd);
    close(lfd);
    return 0;
}
