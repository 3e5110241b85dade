#include "net/deadlines.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace herald::net {
namespace {

using namespace std::chrono_literals;

struct Probe {
    Deadline deadline;
    std::vector<std::string>* log;
    std::string name;
    std::function<void()> on_fire;

    Probe(std::vector<std::string>& l, std::string n) : log(&l), name(std::move(n)) {
        deadline.owner = this;
        deadline.fire = [](Deadline& d) {
            auto* p = static_cast<Probe*>(d.owner);
            p->log->push_back(p->name);
            if (p->on_fire) p->on_fire();
        };
    }
};

TEST(Deadlines, FireInDeadlineOrderAcrossDurations) {
    asio::io_context ctx;
    Deadlines deadlines(ctx);
    std::vector<std::string> fired;
    Probe a(fired, "a"), b(fired, "b"), c(fired, "c");
    deadlines.schedule(a.deadline, 60ms);
    deadlines.schedule(b.deadline, 20ms);
    deadlines.schedule(c.deadline, 40ms);
    EXPECT_EQ(deadlines.size(), 3u);
    ctx.run_for(500ms);
    EXPECT_EQ(fired, (std::vector<std::string>{"b", "c", "a"}));
    EXPECT_EQ(deadlines.size(), 0u);
}

TEST(Deadlines, RescheduleMovesToTheBackAndCancelStopsIt) {
    asio::io_context ctx;
    Deadlines deadlines(ctx);
    std::vector<std::string> fired;
    Probe a(fired, "a"), b(fired, "b"), c(fired, "c");
    deadlines.schedule(a.deadline, 30ms);
    deadlines.schedule(b.deadline, 30ms);
    deadlines.schedule(c.deadline, 30ms);
    deadlines.schedule(a.deadline, 30ms);  // a now expires last
    Deadlines::cancel(b.deadline);
    Deadlines::cancel(b.deadline);         // cancelling twice is harmless
    EXPECT_FALSE(b.deadline.scheduled());
    ctx.run_for(300ms);
    EXPECT_EQ(fired, (std::vector<std::string>{"c", "a"}));
}

TEST(Deadlines, CallbackMayScheduleANewDuration) {
    // A firing callback that adds a list of a new duration must not disturb the firing loop.
    asio::io_context ctx;
    Deadlines deadlines(ctx);
    std::vector<std::string> fired;
    Probe a(fired, "a"), b(fired, "b");
    std::vector<std::unique_ptr<Probe>> extra;
    a.on_fire = [&] {
        for (int i = 0; i < 8; ++i) {
            extra.push_back(std::make_unique<Probe>(fired, "x" + std::to_string(i)));
            deadlines.schedule(extra.back()->deadline, std::chrono::milliseconds(11 + i));
        }
    };
    deadlines.schedule(a.deadline, 10ms);
    deadlines.schedule(b.deadline, 10ms);
    ctx.run_for(500ms);
    ASSERT_EQ(fired.size(), 10u);
    EXPECT_EQ(fired[0], "a");
    EXPECT_EQ(fired[1], "b");
    EXPECT_EQ(fired[2], "x0");
    EXPECT_EQ(fired[9], "x7");
}

TEST(Deadlines, ShutdownStopsFiring) {
    asio::io_context ctx;
    Deadlines deadlines(ctx);
    std::vector<std::string> fired;
    Probe a(fired, "a");
    deadlines.schedule(a.deadline, 10ms);
    deadlines.shutdown();
    ctx.run_for(100ms);
    EXPECT_TRUE(fired.empty());
    Deadlines::cancel(a.deadline);
}

}  // namespace
}  // namespace herald::net
