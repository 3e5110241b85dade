#pragma once
// Standard input as lines, read on a thread of its own: a regular file or /dev/null cannot be polled
// by the event loop. The thread is stopped and joined by the destructor, so nothing it hands out can
// reach an event loop that is already gone.
#include <functional>
#include <string>
#include <thread>

namespace herald::cli {

class StdinLines {
public:
    /// Starts reading: `on_line` gets each line without its '\n' (a last line without one too), then
    /// `on_end` once at end of input or on a read error. Both run on the reader thread.
    StdinLines(std::function<void(std::string)> on_line, std::function<void()> on_end);
    /// Stops the reader (even in the middle of a blocking read) and waits for it.
    ~StdinLines();

    StdinLines(const StdinLines&) = delete;
    StdinLines& operator=(const StdinLines&) = delete;

private:
    void run();

    std::function<void(std::string)> on_line_;
    std::function<void()> on_end_;
    int stop_pipe_[2] = {-1, -1};
    std::thread thread_;
};

}  // namespace herald::cli
