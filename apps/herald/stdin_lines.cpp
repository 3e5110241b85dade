#include "stdin_lines.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace herald::cli {

StdinLines::StdinLines(std::function<void(std::string)> on_line, std::function<void()> on_end)
    : on_line_(std::move(on_line)), on_end_(std::move(on_end)) {
    if (::pipe(stop_pipe_) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
    thread_ = std::thread([this] { run(); });
}

StdinLines::~StdinLines() {
    const char stop = 0;
    while (::write(stop_pipe_[1], &stop, 1) < 0 && errno == EINTR) {
    }
    thread_.join();
    ::close(stop_pipe_[0]);
    ::close(stop_pipe_[1]);
}

// poll() says a regular file or /dev/null is always readable, so one loop serves pipes, terminals and
// files; the stop pipe interrupts a wait on a terminal or a pipe that never ends.
void StdinLines::run() {
    std::string pending;
    char chunk[16384];
    for (;;) {
        pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (fds[1].revents != 0) return;  // stopped: the owner is going away, on_end is not wanted
        const ssize_t n = ::read(STDIN_FILENO, chunk, sizeof chunk);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n <= 0) break;
        pending.append(chunk, static_cast<std::size_t>(n));
        std::size_t start = 0;
        for (auto nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n', start)) {
            on_line_(pending.substr(start, nl - start));
            start = nl + 1;
        }
        pending.erase(0, start);
    }
    if (!pending.empty()) on_line_(std::move(pending));
    on_end_();
}

}  // namespace herald::cli
