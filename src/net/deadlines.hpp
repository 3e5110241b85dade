#pragma once
// Per-loop timeouts without a timer object per connection: one FIFO list per distinct duration.
// Entries scheduled with the same duration expire in the order they were scheduled, so each list
// stays sorted by appending at the back; one Asio timer per loop waits for the earliest front.
#include <chrono>
#include <cstddef>
#include <memory>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

namespace herald::net {

using Clock = std::chrono::steady_clock;

class DeadlineList;

/// An intrusive entry embedded in the object that owns the timeout (e.g. a connection).
struct Deadline {
    Deadline* prev = nullptr;
    Deadline* next = nullptr;
    DeadlineList* list = nullptr;  // nullptr: not scheduled
    Clock::time_point when{};
    void (*fire)(Deadline&) = nullptr;  // called on the loop when the deadline passes
    void* owner = nullptr;              // the object `fire` acts on

    bool scheduled() const noexcept { return list != nullptr; }
};

/// The timeouts of one event loop. Not thread-safe: used only on its loop.
class Deadlines {
public:
    explicit Deadlines(asio::io_context& context);
    ~Deadlines();
    Deadlines(const Deadlines&) = delete;
    Deadlines& operator=(const Deadlines&) = delete;

    /// (Re)schedules `entry` to fire `after` from now; cancels any earlier schedule.
    void schedule(Deadline& entry, std::chrono::milliseconds after);
    /// Unschedules `entry` (no-op when not scheduled).
    static void cancel(Deadline& entry) noexcept;
    /// Entries currently scheduled.
    std::size_t size() const noexcept;
    /// Stops the timer; scheduled entries no longer fire.
    void shutdown();

private:
    void arm(Clock::time_point when);
    void on_timer();
    DeadlineList& list_for(std::chrono::milliseconds after);

    asio::steady_timer timer_;
    Clock::time_point armed_for_ = Clock::time_point::max();
    std::vector<std::unique_ptr<DeadlineList>> lists_;
    bool shut_down_ = false;
};

}  // namespace herald::net
