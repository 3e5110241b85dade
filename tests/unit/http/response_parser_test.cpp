// ResponseParser: status lines, fields, body framing, limits, and any split of the input.
#include <herald/http/response_parser.hpp>

#include <gtest/gtest.h>

#include <string>

namespace herald::http {
namespace {

TEST(ResponseParser, ParsesA101) {
    const std::string head =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept:  s3pPLMBiTxaQ9kYGzzhZRbK+xOo= \r\n\r\n";
    ResponseParser p;
    ASSERT_EQ(p.parse(head + "frames"), ParseStatus::complete) << p.error();
    EXPECT_EQ(p.head_size(), head.size());
    EXPECT_EQ(p.head().status, 101);
    EXPECT_EQ(p.head().reason, "Switching Protocols");
    EXPECT_EQ(p.head().headers.get("sec-websocket-accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    EXPECT_EQ(p.head().body, ResponseBody::none);
}

TEST(ResponseParser, EverySplitGivesTheSameHead) {
    const std::string head = "HTTP/1.1 200 OK\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\n\r\n";
    for (std::size_t cut = 0; cut <= head.size(); ++cut) {
        ResponseParser p;
        const auto first = p.parse(head.substr(0, cut));
        if (cut < head.size()) EXPECT_EQ(first, ParseStatus::incomplete) << cut;
        ASSERT_EQ(p.parse(head), ParseStatus::complete) << cut;
        EXPECT_EQ(p.head_size(), head.size());
        EXPECT_EQ(p.head().body, ResponseBody::chunked);
        EXPECT_EQ(p.head().headers.get("content-type"), "text/event-stream");
    }
}

TEST(ResponseParser, BodyFraming) {
    auto framing = [](const std::string& head, bool was_head = false) {
        ResponseParser p;
        EXPECT_EQ(p.parse(head, was_head), ParseStatus::complete) << head << p.error();
        return p.head();
    };
    EXPECT_EQ(framing("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n").body, ResponseBody::content_length);
    EXPECT_EQ(framing("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n").content_length, 12u);
    EXPECT_EQ(framing("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n", true).body, ResponseBody::none);
    EXPECT_EQ(framing("HTTP/1.1 204 No Content\r\n\r\n").body, ResponseBody::none);
    EXPECT_EQ(framing("HTTP/1.1 304 Not Modified\r\n\r\n").body, ResponseBody::none);
    EXPECT_EQ(framing("HTTP/1.0 200 OK\r\n\r\n").body, ResponseBody::until_close);
    EXPECT_EQ(framing("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n").body, ResponseBody::chunked);
    EXPECT_EQ(framing("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n").body, ResponseBody::until_close);
    EXPECT_EQ(framing("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n").content_length, 5u);
    EXPECT_EQ(framing("HTTP/1.1 404 \r\n\r\n").reason, "");
    EXPECT_EQ(framing("HTTP/1.1 404\r\n\r\n").status, 404);
}

TEST(ResponseParser, RejectsMalformedHeads) {
    for (const char* bad : {"HTTP/2 200 OK\r\n\r\n", "HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n",
                            "HTTP/1.1 099 X\r\n\r\n", "HTTP/1.1 600 X\r\n\r\n", "HTTP/1.1 abc\r\n\r\n",
                            "ICY 200 OK\r\n\r\n", "HTTP/1.1 200 OK\r\n folded\r\n\r\n",
                            "HTTP/1.1 200 OK\r\nNo colon\r\n\r\n", "HTTP/1.1 200 OK\r\n: empty\r\n\r\n",
                            "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", "HTTP/1.1 200 OK\r\nX: a\x01b\r\n\r\n",
                            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
                            "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
                            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"}) {
        ResponseParser p;
        EXPECT_EQ(p.parse(bad), ParseStatus::error) << bad;
        EXPECT_FALSE(p.error().empty());
        EXPECT_EQ(p.parse(bad), ParseStatus::error);  // stays failed
    }
}

TEST(ResponseParser, Limits) {
    ResponseParser small(64, 2);
    EXPECT_EQ(small.parse("HTTP/1.1 200 OK\r\nX-Long: " + std::string(100, 'a')), ParseStatus::error);
    ResponseParser few(1024, 2);
    EXPECT_EQ(few.parse("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"), ParseStatus::error);
    ResponseParser ok(1024, 2);
    EXPECT_EQ(ok.parse("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\n\r\n"), ParseStatus::complete);
    ok.reset();
    EXPECT_EQ(ok.parse("HTTP/1.1 201 Created\r\n\r\n"), ParseStatus::complete);
    EXPECT_EQ(ok.head().status, 201);
    EXPECT_TRUE(ok.head().headers.empty());
}

}  // namespace
}  // namespace herald::http
