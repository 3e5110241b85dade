#include "net/poller.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <asio/io_context.hpp>

namespace herald::net {
namespace {

// One end of a socket pair watched by the poller; the test writes to the other end.
class Client final : public PollClient {
public:
    Client(Poller& poller, std::vector<std::string>& log, std::string name)
        : poller_(poller), log_(log), name_(std::move(name)) {
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) != 0) throw std::runtime_error("socketpair");
        fd = fds[0];
        peer = fds[1];
    }
    ~Client() {
        if (fd >= 0) ::close(fd);
        ::close(peer);
    }
    void on_ready(std::uint32_t events) override {
        if (!(events & EPOLLIN)) return;
        char buf[64];
        while (::recv(fd, buf, sizeof buf, 0) > 0) {
        }
        log_.push_back("ready " + name_);
        if (defer) EXPECT_TRUE(poller_.defer(*this, defer_bytes));
        if (remove_other) poller_.remove(remove_other->fd, *remove_other);
    }
    void on_batch_end() override { log_.push_back("end " + name_); }

    int fd = -1;
    int peer = -1;
    bool defer = false;
    std::size_t defer_bytes = 1;
    Client* remove_other = nullptr;

private:
    Poller& poller_;
    std::vector<std::string>& log_;
    std::string name_;
};

// Two deferring clients in one poller; the test decides when they join it.
struct TwoClients : ::testing::Test {
    asio::io_context context;
    Poller poller{context};
    std::vector<std::string> log;
    std::shared_ptr<Client> a = std::make_shared<Client>(poller, log, "a");
    std::shared_ptr<Client> b = std::make_shared<Client>(poller, log, "b");

    TwoClients() { a->defer = b->defer = true; }
    // Watches both, gives each one byte of input, and runs the loop over it.
    void add_and_feed() {
        poller.add(a->fd, *a, a);
        poller.add(b->fd, *b, b);
        ASSERT_EQ(::send(a->peer, "x", 1, 0), 1);
        ASSERT_EQ(::send(b->peer, "y", 1, 0), 1);
        context.run_for(std::chrono::milliseconds(50));
    }
};

TEST_F(TwoClients, DeferredClientsAreCalledAfterEveryEventOfTheBatch) {
    EXPECT_FALSE(poller.defer(*a, 1));  // outside a batch nothing is deferred
    add_and_feed();
    // The first events (room to write) bring no input; both inputs come in one batch.
    ASSERT_EQ(log.size(), 4u);
    EXPECT_EQ(log[0].substr(0, 6), "ready ");
    EXPECT_EQ(log[1].substr(0, 6), "ready ");
    EXPECT_EQ(log[2].substr(0, 4), "end ");
    EXPECT_EQ(log[3].substr(0, 4), "end ");
    poller.remove(a->fd, *a);
    poller.remove(b->fd, *b);
    context.run();  // lets go of the owners and ends: nothing is watched
}

TEST_F(TwoClients, DeferredOutputOverTheBudgetLeavesBeforeTheNextEvent) {
    a->defer_bytes = b->defer_bytes = Poller::defer_budget_bytes;
    add_and_feed();
    ASSERT_EQ(log.size(), 4u);
    EXPECT_EQ(log[0].substr(0, 6), "ready ");
    EXPECT_EQ(log[1], "end " + log[0].substr(6));
    EXPECT_EQ(log[2].substr(0, 6), "ready ");
    EXPECT_EQ(log[3], "end " + log[2].substr(6));
    poller.remove(a->fd, *a);
    poller.remove(b->fd, *b);
    context.run();
}

TEST_F(TwoClients, AClientRemovedDuringTheBatchIsNotCalledAtItsEnd) {
    a->remove_other = b.get();
    b->remove_other = a.get();
    std::weak_ptr<Client> watch_a = a, watch_b = b;
    add_and_feed();
    a.reset();
    b.reset();  // only the poller (or nothing) holds them now
    // Whichever ran first removed the other before its event or its batch end, and let go of it (the test's
    // references were the last ones).
    ASSERT_EQ(log.size(), 2u);
    ASSERT_EQ(log[0].substr(0, 6), "ready ");
    EXPECT_EQ(log[1], "end " + log[0].substr(6));
    EXPECT_NE(watch_a.expired(), watch_b.expired());
    auto survivor = watch_a.expired() ? watch_b.lock() : watch_a.lock();
    poller.remove(survivor->fd, *survivor);
    survivor.reset();
    context.run();
    EXPECT_TRUE(watch_a.expired());
    EXPECT_TRUE(watch_b.expired());
}

}  // namespace
}  // namespace herald::net
