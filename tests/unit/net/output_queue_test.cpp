#include "net/output_queue.hpp"

#include <fcntl.h>
#include <netinet/in.h>
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
        make_nonblocking();
    }
    // A TCP connection over loopback: unlike a UNIX socket, it takes part of a write when its buffers
    // are nearly full, so a flush stops inside a piece.
    struct Tcp {};
    explicit Pipe(Tcp) {
        const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            ::listen(listener, 1) != 0 || ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
            throw std::runtime_error("listen");
        out = ::socket(AF_INET, SOCK_STREAM, 0);
        int small = 4096;
        ::setsockopt(out, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
        if (::connect(out, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw std::runtime_error("connect");
        in = ::accept(listener, nullptr, nullptr);
        ::close(listener);
        if (in < 0) throw std::runtime_error("accept");
        ::setsockopt(in, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
        make_nonblocking();
    }
    void make_nonblocking() const {
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
    // The socket then takes a few KiB at a time, so flushes stop part way.
    void shrink_send_buffer() const {
        int small = 4096;
        ::setsockopt(out, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    }
    // Flushes `q` until it is empty, reading as it goes; everything read.
    std::string flush_all(OutputQueue& q) const {
        std::string got;
        for (int rounds = 0; !q.empty() && rounds < 100000; ++rounds) {
            EXPECT_NE(q.flush(out), OutputQueue::Flush::failed);
            got += drain();
        }
        EXPECT_TRUE(q.empty());
        return got + drain();
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
    pipe.shrink_send_buffer();
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
    EXPECT_EQ(pipe.flush_all(q), expected);
}

// Borrowed bytes are written from where they lie; own_borrowed() copies what a flush left, so the
// caller may then overwrite them.
TEST(OutputQueue, BorrowedBytesLeftUnwrittenAreCopied) {
    Pipe pipe;
    pipe.shrink_send_buffer();
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
    got += pipe.flush_all(q);
    EXPECT_EQ(got, expected);
    EXPECT_EQ(q.written(), q.queued());
}

// copy() moves short pieces inline in overlapping 16-byte steps: every size around those steps.
TEST(OutputQueue, CopiedPiecesOfEverySizeArriveWhole) {
    Pipe pipe;
    OutputQueue q;
    std::string expected;
    for (std::size_t n = 0; n <= 100; ++n) {
        std::string piece(n, ' ');
        for (std::size_t i = 0; i < n; ++i) piece[i] = static_cast<char>('A' + (n + i) % 50);
        OutputQueue::copy(q.extend(n + 1), piece + "|");
        expected += piece + "|";
    }
    EXPECT_EQ(q.flush(pipe.out), OutputQueue::Flush::done);
    EXPECT_EQ(pipe.drain(), expected);
}

// A drained queue gives its list and last buffer to the thread's pool; the next queue (or the same one)
// starts from them: the bytes stay right however the previous queue ended.
TEST(OutputQueue, QueuesRefilledAfterDrainingWriteTheirOwnBytes) {
    Pipe pipe;
    auto big = std::make_shared<const std::string>(std::string(6000, 'B'));
    OutputQueue a;
    OutputQueue b;
    std::string expected;
    for (int round = 0; round < 20; ++round) {
        OutputQueue& q = round % 2 ? a : b;
        const std::string head = "<" + std::to_string(round) + ">";
        q.append(head);
        expected += head;
        if (round % 3 == 0) {  // ends on small pieces after a shared one, on an owned one, or small only
            q.push_shared(big, *big);
            q.append("tail");
            expected += *big + "tail";
        }
        if (round % 4 == 0) {  // or on a shared piece
            q.push_shared(big, *big);
            expected += *big;
        }
        if (round % 3 == 1) {
            q.push(std::string(5000, static_cast<char>('a' + round)));
            expected += std::string(5000, static_cast<char>('a' + round));
        }
        ASSERT_EQ(q.flush(pipe.out), OutputQueue::Flush::done);
        EXPECT_TRUE(q.empty());
    }
    EXPECT_EQ(pipe.drain(), expected);
}

// Bytes queued after a flush stopped inside the last buffer follow the bytes still unwritten.
TEST(OutputQueue, BytesQueuedAfterAPartialWriteFollowTheRest) {
    Pipe pipe;
    pipe.shrink_send_buffer();
    OutputQueue q;
    std::string expected;
    for (int i = 0; i < 2000; ++i) {
        const std::string piece = "(" + std::to_string(i) + ")";
        q.append(piece);
        expected += piece;
    }
    ASSERT_EQ(q.flush(pipe.out), OutputQueue::Flush::blocked);
    std::string got = pipe.drain();
    for (int i = 0; i < 100; ++i) {
        const std::string piece = "[" + std::to_string(i) + "]";
        OutputQueue::copy(q.extend(piece.size()), piece);
        expected += piece;
    }
    got += pipe.flush_all(q);
    EXPECT_EQ(got, expected);
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

// The usual answers of a read go into one chunk of the thread's pool; what does not fit follows in
// buffers of the queue's own, and small pieces queued after those must not slip back into the chunk.
// Flushes that stop part way (small TCP buffers, read now and then) keep every byte in order. (Linux
// takes a write of a chunk's size whole or not at all: a flush stops between pieces or inside a buffer.)
TEST(OutputQueue, ChunkAndBuffersKeepTheirOrderAcrossPartialWrites) {
    Pipe pipe{Pipe::Tcp{}};
    OutputQueue q;
    auto shared = std::make_shared<const std::string>(std::string(3000, 'S'));
    std::string expected;
    std::string got;
    for (int round = 0; round < 300; ++round) {
        const int pieces = 1 + round % 40;  // 8 to 400-odd bytes, then over the chunk's size
        for (int i = 0; i < pieces + (round % 7 == 0 ? 300 : 0); ++i) {
            const std::string piece = "<" + std::to_string(round) + "." + std::to_string(i) + ">";
            OutputQueue::copy(q.extend(piece.size()), piece);
            expected += piece;
            if (round % 5 == 0 && i == pieces / 2) {
                q.push_shared(shared, std::string_view(*shared).substr(static_cast<std::size_t>(round % 100)));
                expected += shared->substr(static_cast<std::size_t>(round % 100));
            }
        }
        ASSERT_NE(q.flush(pipe.out), OutputQueue::Flush::failed);
        if (round % 3 == 0) got += pipe.drain();
    }
    got += pipe.flush_all(q);
    EXPECT_EQ(got, expected);
    EXPECT_EQ(q.written(), q.queued());
}

// Cut back into the chunk, the chunk is the last piece again and takes what is queued next.
TEST(OutputQueue, TruncateIntoTheChunkKeepsItsFirstBytes) {
    Pipe pipe;
    OutputQueue q;
    auto payload = std::make_shared<const std::string>(std::string(8000, 'p'));
    q.append("abc");
    const auto keep = q.queued() - 1;
    q.push_shared(payload, *payload);
    q.append("tail");
    q.truncate(keep);
    EXPECT_EQ(q.queued(), keep);
    q.append("Z");
    EXPECT_EQ(q.buffered(), 3u);
    EXPECT_EQ(q.flush(pipe.out), OutputQueue::Flush::done);
    EXPECT_EQ(pipe.drain(), "abZ");
    q.append("x");
    q.truncate(q.written());
    EXPECT_TRUE(q.empty());
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
