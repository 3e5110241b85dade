// The request envelope and the Deduplicator: each seq processed once, repeats answered from the cache,
// the window and the client limit.
#include <herald/error.hpp>
#include <herald/websocket/dedup.hpp>

#include <gtest/gtest.h>

#include <string>

namespace herald::websocket {
namespace {

TEST(Envelope, RoundTrips) {
    const auto req = encode_request("c-1_A", 42, "buy 1 share");
    EXPECT_EQ(req, "REQ c-1_A 42 buy 1 share");
    auto r = parse_request(req);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->client, "c-1_A");
    EXPECT_EQ(r->seq, 42u);
    EXPECT_EQ(r->payload, "buy 1 share");
    EXPECT_EQ(parse_request("REQ c 1 ")->payload, "");

    auto a = parse_ack(encode_ack(7, "ok done"));
    ASSERT_TRUE(a);
    EXPECT_EQ(a->seq, 7u);
    EXPECT_FALSE(a->expired);
    EXPECT_EQ(a->answer, "ok done");
    auto e = parse_ack(encode_expired(9));
    ASSERT_TRUE(e);
    EXPECT_TRUE(e->expired);
    EXPECT_EQ(e->seq, 9u);
}

TEST(Envelope, RejectsMalformed) {
    for (const char* bad : {"", "REQ", "REQ c", "REQ c 1", "REQ  1 x", "REQ c 0 x", "REQ c 01 x", "REQ c -1 x",
                            "REQ c x1 x", "REQ c 99999999999999999999 x", "REQ c!d 1 x", "req c 1 x"})
        EXPECT_FALSE(parse_request(bad)) << bad;
    EXPECT_FALSE(parse_request("REQ " + std::string(65, 'a') + " 1 x"));
    for (const char* bad : {"", "ACK", "ACK 1", "ACK 0 x", "ACK x y", "EXPIRED", "EXPIRED 1 x", "EXPIRED 0", "EXPIRED 1 ", "NAK 1 x"})
        EXPECT_FALSE(parse_ack(bad)) << bad;
    EXPECT_THROW(encode_request("bad id", 1, "x"), herald::error);
    EXPECT_THROW(encode_request("ok", 0, "x"), herald::error);
}

TEST(Deduplicator, ProcessesEachSeqOnceAndRepeatsTheAnswer) {
    Deduplicator d;
    int calls = 0;
    auto process = [&](std::string_view p) {
        ++calls;
        return "done " + std::string(p);
    };
    EXPECT_EQ(d.handle("REQ a 1 x", process), "ACK 1 done x");
    EXPECT_EQ(d.handle("REQ a 1 x", process), "ACK 1 done x");
    EXPECT_EQ(d.handle("REQ a 2 y", process), "ACK 2 done y");
    EXPECT_EQ(d.handle("REQ b 1 z", process), "ACK 1 done z");  // seqs are per client
    EXPECT_EQ(calls, 3);
    EXPECT_EQ(d.handle("hello", process), std::nullopt);
    const auto s = d.stats();
    EXPECT_EQ(s.processed, 3u);
    EXPECT_EQ(s.duplicates, 1u);
    EXPECT_EQ(s.clients, 2u);
}

TEST(Deduplicator, RepeatsOlderThanTheWindowExpire) {
    Deduplicator d({.window = 2});
    auto process = [](std::string_view p) { return std::string(p); };
    for (int seq = 1; seq <= 3; ++seq) d.handle("REQ a " + std::to_string(seq) + " p", process);
    EXPECT_EQ(d.handle("REQ a 1 p", process), "EXPIRED 1");
    EXPECT_EQ(d.handle("REQ a 2 p", process), "ACK 2 p");
    EXPECT_EQ(d.stats().expired, 1u);
    EXPECT_EQ(d.stats().processed, 3u);
}

TEST(Deduplicator, ForgetsTheLeastRecentlySeenClient) {
    Deduplicator d({.window = 8, .max_clients = 2});
    int calls = 0;
    auto process = [&](std::string_view) { return std::to_string(++calls); };
    d.handle("REQ a 1 p", process);
    d.handle("REQ b 1 p", process);
    d.handle("REQ a 2 p", process);  // a is now the most recent
    d.handle("REQ c 1 p", process);  // b is forgotten
    EXPECT_EQ(d.stats().clients, 2u);
    EXPECT_EQ(d.handle("REQ a 1 p", process), "ACK 1 1");  // a still known
    EXPECT_EQ(d.handle("REQ b 1 p", process), "ACK 1 5");  // b processed again: it was forgotten
}

TEST(Deduplicator, AFailedProcessIsNotCached) {
    Deduplicator d;
    EXPECT_THROW(d.handle("REQ a 1 p", [](std::string_view) -> std::string { throw std::runtime_error("db down"); }),
                 std::runtime_error);
    EXPECT_EQ(d.handle("REQ a 1 p", [](std::string_view) { return std::string("ok"); }), "ACK 1 ok");
}

}  // namespace
}  // namespace herald::websocket
