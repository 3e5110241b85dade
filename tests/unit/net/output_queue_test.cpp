#include "net/output_queue.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>

namespace herald::net {
namespace {

// A connected pair of non-blocking stream sockets: the queue writes to `out`, the test reads `in`.
struct Pipe {
    int out = -1;
    int in = -1;
    Pipe() {
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) throw std::runtime_error("socketpair");
        out = fds[0];
        in = fds[1];
        ::fcntl(out, F_SETFL, ::fcntl(out, F_GETFL) | O_NONBLOCK);
        ::fcntl(in, F_SETFL, ::fcntl(in, F_GETFL) | O_NONBLOCK);
    }
    ~Pipe() {
        ::close(out);
        ::close(in);
    }
    std::string drain() const {
        std::string got;
        char buf[65536];
        for (;;) {
            ssize_t n = ::recv(in, buf, sizeof buf, 0);
            if (n <= 0) return got;
            got.append(buf, static_cast<std::size_t>(n));
        }
    }
};

TEST(OutputQueue, SharedPiecesAreWrittenInOrderWithOwnedOnes) {
    Pipe pipe;
    OutputQueue q;
    auto payload = std::make_shared<const std::string>(std::string(10000, 'x') + std::string(10000, 'y'));
    std::weak_ptr<const std::string> watch = payload;
    q.append("h1");
    q.push_shared(payload, std::string_view(*payload).substr(0, 10000));
    q.append("h2");
    q.push_shared(payload, std::string_view(*payload).substr(10000));
    payload.reset();
    EXPECT_FALSE(watch.expired());  // the queue keeps the owner until its bytes are written
    EXPECT_EQ(q.buffered(), 20004u);
    EXPECT_EQ(q.flush(pipe.out), OutputQueue::Flush::done);
    EXPECT_TRUE(q.empty());
    EXPECT_TRUE(watch.expired());
    EXPECT_EQ(pipe.drain(), "h1" + std::string(10000, 'x') + "h2" + std::string(10000, 'y'));
    EXPECT_EQ(q.written(), q.queued());
}

TEST(OutputQueue, ExtendedBytesCoalesceWithAppendedOnes) {
    Pipe pipe;
    OutputQueue q;
    std::string expected;
    for (int i = 0; i < 50; ++i) {
        const std::string piece = "<" + std::to_string(i) + ">";
        std::memcpy(q.extend(piece.size()), piece.data(), piece.size());
        q.append("payload");
        expected += piece + "payload";
    }
    EXPECT_EQ(q.buffered(), expected.size());
    EXPECT_EQ(q.flush(pipe.out), OutputQueue::Flush::done);
    EXPECT_EQ(pipe.drain(), expected);
    EXPECT_EQ(q.written(), q.queued());
}

TEST(OutputQueue, PartialWritesResumeWhereTheyStopped) {
    Pipe pipe;
    int small = 4096;
    ::setsockopt(pipe.out, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    OutputQueue q;
    std::string expected;
    auto big = std::make_shared<const std::string>(std::string(300000, 'b'));
    for (int i = 0; i < 100; ++i) {
        const std::string head = "<" + std::to_string(i) + ">";
        q.append(head);
        expected += head;
        if (i % 10 == 0) {
            q.push_shared(big, std::string_view(*big).substr(static_cast<std::size_t>(i) * 1000, 5000));
            expected += big->substr(static_cast<std::size_t>(i) * 1000, 5000);
        }
    }
    std::string got;
    for (int rounds = 0; !q.empty() && rounds < 100000; ++rounds) {
        auto result = q.flush(pipe.out);
        ASSERT_NE(result, OutputQueue::Flush::failed);
        got += pipe.drain();
    }
    got += pipe.drain();
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(got, expected);
}

// Borrowed bytes are written from where they lie; own_borrowed() copies what a flush left, so the
// caller may then overwrite them.
TEST(OutputQueue, BorrowedBytesLeftUnwrittenAreCopied) {
    Pipe pipe;
    int small = 4096;
    ::setsockopt(pipe.out, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    OutputQueue q;
    std::string source(300000, ' ');
    for (std::size_t i = 0; i < source.size(); ++i) source[i] = static_cast<char>('a' + i % 26);
    const std::string expected = "head" + source.substr(0, 150000) + "mid" + source.substr(150000) + "tail";
    q.append("head");
    q.push_borrowed(std::string_view(source).substr(0, 150000));
    q.append("mid");
    q.push_borrowed(std::string_view(source).substr(150000));
    q.append("tail");
    EXPECT_EQ(q.buffered(), expected.size());
    ASSERT_EQ(q.flush(pipe.out), OutputQueue::Flush::blocked);  // partly written, the front piece too
    std::string got = pipe.drain();
    q.own_borrowed();
    source.assign(source.size(), '#');  // the lender reuses its buffer
    for (int rounds = 0; !q.empty() && rounds < 100000; ++rounds) {
        ASSERT_NE(q.flush(pipe.out), OutputQueue::Flush::failed);
        got += pipe.drain();
    }
    got += pipe.drain();
    EXPECT_EQ(got, expected);
    EXPECT_EQ(q.written(), q.queued());
}

TEST(OutputQueue, TruncateCutsSharedAndOwnedTails) {
    Pipe pipe;
    OutputQueue q;
    auto payload = std::make_shared<const std::string>(std::string(8000, 'p'));
    q.append("abc");
    const auto keep = q.queued() + 100;
    q.push_shared(payload, *payload);
    q.append("tail");
    q.truncate(keep);
    EXPECT_EQ(q.queued(), keep);
    EXPECT_EQ(q.flush(pipe.out), OutputQueue::Flush::done);
    EXPECT_EQ(pipe.drain(), "abc" + std::string(100, 'p'));
}

TEST(OutputQueue, ClearForgetsEverything) {
    OutputQueue q;
    q.append("abc");
    q.push(std::string(5000, 'z'));
    q.clear();
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.buffered(), 0u);
    EXPECT_EQ(q.written(), q.queued());
}

}  // namespace
}  // namespace herald::net
