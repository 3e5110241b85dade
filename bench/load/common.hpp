#pragma once
// Helpers shared by the load tools in bench/load/: option parsing, loopback-only address
// resolution, the open-files limit and /proc readings. Header-only, POSIX + Linux, no dependencies.
// (The same approach as bench/load/idle_conns.cpp, which predates this header.)
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

namespace bench {

using Clock = std::chrono::steady_clock;

inline std::optional<long> to_long(const char* s) {
    if (s == nullptr || *s == '\0') return std::nullopt;
    char* end = nullptr;
    errno = 0;
    long v = std::strtol(s, &end, 10);
    if (errno != 0 || *end != '\0') return std::nullopt;
    return v;
}

/// Walks argv for option parsing: the flag at hand, and its value as text or as a bounded number.
/// Each reader prints what is wrong and returns false.
class Args {
public:
    Args(int argc, char** argv) : argc_(argc), argv_(argv) {}
    /// Moves to the next flag; false at the end.
    bool next() { return ++i_ < argc_; }
    std::string_view flag() const { return argv_[i_]; }
    const char* value() {
        if (i_ + 1 >= argc_) {
            std::fprintf(stderr, "%s needs a value\n", argv_[i_]);
            return nullptr;
        }
        return argv_[++i_];
    }
    bool text(std::string& out) {
        const char* s = value();
        if (s == nullptr) return false;
        out = s;
        return true;
    }
    bool number(long lo, long hi, long& out) {
        const char* s = value();
        if (s == nullptr) return false;
        auto v = to_long(s);
        if (!v || *v < lo || *v > hi) {
            std::fprintf(stderr, "bad value for %s: %s (%ld..%ld)\n", argv_[i_ - 1], s, lo, hi);
            return false;
        }
        out = *v;
        return true;
    }

private:
    int argc_;
    char** argv_;
    int i_ = 0;
};

inline bool is_loopback(const sockaddr* sa) {
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

/// Resolves host:port and refuses anything that is not a loopback address (127.0.0.0/8, ::1).
inline bool resolve_loopback(const std::string& host, int port, sockaddr_storage& out, socklen_t& len) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    const std::string service = std::to_string(port);
    int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &res);
    if (rc != 0) {
        std::fprintf(stderr, "cannot resolve %s: %s\n", host.c_str(), gai_strerror(rc));
        return false;
    }
    bool ok = false;
    for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
        if (!is_loopback(ai->ai_addr)) {
            std::fprintf(stderr, "refusing non-loopback address for %s (only 127.0.0.0/8 and ::1)\n", host.c_str());
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

/// The numeric form of a resolved address, for messages.
inline std::string address_text(const sockaddr_storage& addr) {
    char text[INET6_ADDRSTRLEN] = "?";
    if (addr.ss_family == AF_INET)
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&addr)->sin_addr, text, sizeof text);
    else
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_addr, text, sizeof text);
    return text;
}

/// Raises RLIMIT_NOFILE to `need` (the hard limit too when allowed).
inline bool raise_nofile(rlim_t need) {
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

/// A "Field:   N kB" line of /proc/PID/status, in KiB.
inline std::optional<long> read_status_kib(long pid, std::string_view field) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    if (!in) return std::nullopt;
    std::string line;
    while (std::getline(in, line)) {
        if (line.size() > field.size() && line.compare(0, field.size(), field) == 0 && line[field.size()] == ':')
            return std::strtol(line.c_str() + field.size() + 1, nullptr, 10);
    }
    return std::nullopt;
}

inline long ephemeral_port_count() {
    std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
    long lo = 0, hi = 0;
    if (in >> lo >> hi && hi >= lo) return hi - lo + 1;
    return -1;
}

inline std::int64_t ms_left(Clock::time_point deadline) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
}

}  // namespace bench
