// ChunkedDecoder: chunk sizes, extensions, data framing, trailers, limits, any input split.
#include <herald/http/parser.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace herald::http {
namespace {

using namespace std::string_literals;

struct Decoded {
    ParseStatus status = ParseStatus::incomplete;
    int error_status = 0;
    std::string body;
    std::size_t consumed = 0;  // input bytes used in total
    bool operator==(const Decoded&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Decoded& d) {
    return os << "{status " << int(d.status) << ", error " << d.error_status << ", body \"" << d.body
              << "\", consumed " << d.consumed << "}";
}

Decoded finish(const ChunkedDecoder& d, ParseStatus status, std::string body, std::size_t consumed) {
    return Decoded{status, status == ParseStatus::error ? d.error().status : 0, std::move(body), consumed};
}

Decoded decode_once(std::string_view in, ChunkedLimits limits = {}) {
    ChunkedDecoder d(limits);
    std::string body;
    const ChunkedDecoder::Result r = d.decode(in, body);
    EXPECT_LE(r.consumed, in.size());
    EXPECT_EQ(d.body_bytes(), body.size());
    return finish(d, r.status, std::move(body), r.consumed);
}

// Feeds `in` in pieces the way a connection does: unconsumed bytes stay at the front of a buffer that
// grows with the next piece. Pieces are cut at `cuts` (ascending offsets).
Decoded decode_pieces(std::string_view in, const std::vector<std::size_t>& cuts, ChunkedLimits limits) {
    ChunkedDecoder d(limits);
    std::string body;
    std::string pending;
    std::size_t consumed = 0;
    std::size_t fed = 0;
    ChunkedDecoder::Result r;
    for (std::size_t i = 0; i <= cuts.size(); ++i) {
        const std::size_t to = i < cuts.size() ? cuts[i] : in.size();
        pending.append(in.substr(fed, to - fed));
        fed = to;
        r = d.decode(pending, body);
        EXPECT_LE(r.consumed, pending.size());
        pending.erase(0, r.consumed);
        consumed += r.consumed;
        if (r.status != ParseStatus::incomplete) break;
    }
    EXPECT_EQ(d.body_bytes(), body.size());
    return finish(d, r.status, std::move(body), consumed);
}

// Decodes in one go, split in two at every byte, and one byte at a time; all must agree, and a body
// that decodes fine in one go must never report an error for a part of it.
Decoded decode_checked(std::string_view in, ChunkedLimits limits = {}) {
    const Decoded once = decode_once(in, limits);
    for (std::size_t k = 0; k <= in.size(); ++k) {
        const Decoded split = decode_pieces(in, {k}, limits);
        if (once.status == ParseStatus::error) {
            // An error may be noticed at a different offset, but it is the same error.
            EXPECT_EQ(split.status, ParseStatus::error) << "split at " << k;
            EXPECT_EQ(split.error_status, once.error_status) << "split at " << k;
        } else {
            EXPECT_EQ(split, once) << "split at " << k;
        }
    }
    std::vector<std::size_t> every;
    for (std::size_t k = 1; k < in.size(); ++k) every.push_back(k);
    const Decoded trickled = decode_pieces(in, every, limits);
    if (once.status == ParseStatus::error) {
        EXPECT_EQ(trickled.status, ParseStatus::error);
        EXPECT_EQ(trickled.error_status, once.error_status);
    } else {
        EXPECT_EQ(trickled, once) << "one byte at a time";
    }
    return once;
}

std::string body_of(std::string_view in, ChunkedLimits limits = {}) {
    const Decoded d = decode_checked(in, limits);
    EXPECT_EQ(d.status, ParseStatus::complete) << "error " << d.error_status << " for: " << in;
    EXPECT_EQ(d.consumed, in.size());
    return d.body;
}

int error_of(std::string_view in, ChunkedLimits limits = {}) {
    const Decoded d = decode_checked(in, limits);
    EXPECT_EQ(d.status, ParseStatus::error) << in;
    return d.error_status;
}

TEST(ChunkedDecoder, SingleChunk) { EXPECT_EQ(body_of("5\r\nhello\r\n0\r\n\r\n"), "hello"); }

TEST(ChunkedDecoder, EmptyBody) { EXPECT_EQ(body_of("0\r\n\r\n"), ""); }

TEST(ChunkedDecoder, SeveralChunksAndHexSizes) {
    EXPECT_EQ(body_of("3\r\nabc\r\na\r\n0123456789\r\nA\r\nABCDEFGHIJ\r\n1\r\n!\r\n0\r\n\r\n"),
              "abc0123456789ABCDEFGHIJ!");
    const std::string big(0x1f, 'z');
    EXPECT_EQ(body_of("1F\r\n" + big + "\r\n0\r\n\r\n"), big);
    EXPECT_EQ(body_of("1f\r\n" + big + "\r\n0\r\n\r\n"), big);
    EXPECT_EQ(body_of("0000000000000005\r\nhello\r\n0\r\n\r\n"), "hello");  // 16 digits is the maximum
    EXPECT_EQ(body_of("000\r\n\r\n"), "");
}

TEST(ChunkedDecoder, BinaryData) {
    const std::string data = "\r\n\0\xff\n0\r\n\r\n"s;
    EXPECT_EQ(body_of("a\r\n" + data + "\r\n0\r\n\r\n"), data);
}

TEST(ChunkedDecoder, StopsAtTheEndOfTheBody) {
    const Decoded d = decode_checked("2\r\nhi\r\n0\r\n\r\nGET / HTTP/1.1\r\n");
    EXPECT_EQ(d.status, ParseStatus::complete);
    EXPECT_EQ(d.body, "hi");
    EXPECT_EQ(d.consumed, 12u);

    ChunkedDecoder dec;
    std::string out;
    EXPECT_EQ(dec.decode("0\r\n\r\nXYZ", out).consumed, 5u);
    // Once complete, further calls consume nothing.
    const ChunkedDecoder::Result again = dec.decode("XYZ", out);
    EXPECT_EQ(again.status, ParseStatus::complete);
    EXPECT_EQ(again.consumed, 0u);
}

TEST(ChunkedDecoder, Extensions) {
    EXPECT_EQ(body_of("5;foo=bar\r\nhello\r\n0\r\n\r\n"), "hello");
    EXPECT_EQ(body_of("5;foo\r\nhello\r\n0\r\n\r\n"), "hello");
    EXPECT_EQ(body_of("5 ; foo = bar\r\nhello\r\n0\r\n\r\n"), "hello");
    EXPECT_EQ(body_of("5\t;\tfoo\t=\tbar\r\nhello\r\n0\r\n\r\n"), "hello");
    EXPECT_EQ(body_of("5;a=1;b;c=\"x y\"\r\nhello\r\n0\r\n\r\n"), "hello");
    EXPECT_EQ(body_of("5;q=\"quoted \\\"inner\\\" ; = \\\\\"\r\nhello\r\n0\r\n\r\n"), "hello");
    EXPECT_EQ(body_of("5;q=\"\"\r\nhello\r\n0\r\n\r\n"), "hello");
    EXPECT_EQ(body_of("5;q=\"caf\xC3\xA9\"\r\nhello\r\n0\r\n\r\n"), "hello");
    EXPECT_EQ(body_of("5\r\nhello\r\n0;last=yes;n\r\n\r\n"), "hello");
}

TEST(ChunkedDecoder, InvalidExtensions) {
    for (const char* line : {"5;", "5;=x", "5;a=", "5;a=\"open", "5;a=\"x\"y", "5;a b", "5;a=b c", "5 ",
                             "5;a ", "5;a=\"x\" ", "5 x", "5;a=(", "5;a=\"\x01\"", "5;a=\"\\\x01\"", "5;a=\"x\\",
                             "5;;a", "5,a", "5;a=b;"}) {
        EXPECT_EQ(error_of(line + "\r\nhello\r\n0\r\n\r\n"s), 400) << line;
    }
}

TEST(ChunkedDecoder, InvalidChunkSize) {
    for (const char* line : {"", " 5", "-1", "+5", "x", "0x5", "5x", "g", "\t5"}) {
        EXPECT_EQ(error_of(line + "\r\nhello\r\n0\r\n\r\n"s), 400) << line;
    }
    EXPECT_EQ(error_of("00000000000000005\r\nhello\r\n0\r\n\r\n"), 400);  // 17 digits
    EXPECT_EQ(error_of("10000000000000000\r\n"), 400);
}

TEST(ChunkedDecoder, ChunkDataMustEndWithCrlf) {
    EXPECT_EQ(error_of("5\r\nhelloX\r\n0\r\n\r\n"), 400);
    EXPECT_EQ(error_of("5\r\nhello\n0\r\n\r\n"), 400);
    EXPECT_EQ(error_of("5\r\nhello\rX0\r\n\r\n"), 400);
    EXPECT_EQ(error_of("5\r\nhello0\r\n\r\n"), 400);
    EXPECT_EQ(error_of("5\r\nhell\r\n0\r\n\r\n"), 400);  // size says 5, the CRLF comes one byte early
}

TEST(ChunkedDecoder, BareLfAndCr) {
    EXPECT_EQ(error_of("5\nhello\r\n0\r\n\r\n"), 400);
    EXPECT_EQ(error_of("5\r\nhello\r\n0\n\r\n"), 400);
    EXPECT_EQ(error_of("5\r\nhello\r\n0\r\n\n"), 400);
    EXPECT_EQ(error_of("5\r\nhello\r\n0\r\nX: y\n\r\n"), 400);
    EXPECT_EQ(error_of("5\r\r\nhello\r\n0\r\n\r\n"), 400);
    EXPECT_EQ(error_of("5\r\nhello\r\n0\r\nX: a\rb\r\n\r\n"), 400);
    EXPECT_EQ(error_of("\n"), 400);
}

TEST(ChunkedDecoder, Trailers) {
    EXPECT_EQ(body_of("5\r\nhello\r\n0\r\nX-Checksum: abc\r\nY:\r\nZ:  v  \r\n\r\n"), "hello");
    EXPECT_EQ(error_of("0\r\nBad Name: v\r\n\r\n"), 400);
    EXPECT_EQ(error_of("0\r\nX : v\r\n\r\n"), 400);
    EXPECT_EQ(error_of("0\r\nNoColon\r\n\r\n"), 400);
    EXPECT_EQ(error_of("0\r\n: v\r\n\r\n"), 400);
    EXPECT_EQ(error_of("0\r\nX: a\r\n folded\r\n\r\n"), 400);
    EXPECT_EQ(error_of("0\r\nX: a\x01\r\n\r\n"), 400);
    EXPECT_EQ(error_of("0\r\nX: a\x7f\r\n\r\n"), 400);
}

TEST(ChunkedDecoder, TrailerLimit) {
    ChunkedLimits limits;
    limits.max_trailer_bytes = 20;
    // Two fields of 10 bytes each with CRLF: exactly the limit.
    EXPECT_EQ(body_of("0\r\nA: 12345\r\nB: 12345\r\n\r\n", limits), "");
    EXPECT_EQ(error_of("0\r\nA: 12345\r\nB: 123456\r\n\r\n", limits), 431);
    EXPECT_EQ(error_of("0\r\nA: " + std::string(50, 'v') + "\r\n\r\n", limits), 431);
    // Noticed without the end of the line.
    EXPECT_EQ(decode_once("0\r\nA: " + std::string(50, 'v'), limits).error_status, 431);
    limits.max_trailer_bytes = 0;
    EXPECT_EQ(body_of("0\r\n\r\n", limits), "");
    EXPECT_EQ(error_of("0\r\nA:\r\n\r\n", limits), 431);
}

TEST(ChunkedDecoder, BodyLimit) {
    ChunkedLimits limits;
    limits.max_body_bytes = 10;
    EXPECT_EQ(body_of("5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n", limits), "helloworld");
    EXPECT_EQ(error_of("5\r\nhello\r\n6\r\nworld!\r\n0\r\n\r\n", limits), 413);
    // Refused from the size alone: no data byte is appended.
    const Decoded d = decode_once("b\r\nhello world\r\n0\r\n\r\n", limits);
    EXPECT_EQ(d.error_status, 413);
    EXPECT_EQ(d.body, "");
    EXPECT_EQ(decode_once("ffffffffffffffff\r\n").error_status, 413);
    EXPECT_EQ(decode_once("ffffffffffffffff\r\n", ChunkedLimits{~std::uint64_t{0}, 4096, 16384}).status,
              ParseStatus::incomplete);
}

TEST(ChunkedDecoder, SizeLineLimit) {
    ChunkedLimits limits;
    limits.max_line_bytes = 8;
    EXPECT_EQ(body_of("5;ab=cd\r\nhello\r\n0\r\n\r\n", limits), "hello");  // 7 bytes
    EXPECT_EQ(body_of("5;abc=de\r\nhello\r\n0\r\n\r\n", limits), "hello");  // 8 bytes
    EXPECT_EQ(error_of("5;abc=def\r\nhello\r\n0\r\n\r\n", limits), 400);    // 9 bytes
    EXPECT_EQ(decode_once("5;aaaaaaaaaaaaaaaaaaa", limits).error_status, 400);
    EXPECT_EQ(decode_once("5;abc=de\r", limits).status, ParseStatus::incomplete);
    EXPECT_EQ(decode_once("5;abc=de", limits).status, ParseStatus::incomplete);
    EXPECT_EQ(decode_once("5;abc=defg", limits).status, ParseStatus::error);
}

TEST(ChunkedDecoder, PartialLinesAreLeftUnconsumed) {
    ChunkedDecoder d;
    std::string out;
    ChunkedDecoder::Result r = d.decode("5;ext", out);
    EXPECT_EQ(r.status, ParseStatus::incomplete);
    EXPECT_EQ(r.consumed, 0u);
    r = d.decode("5;ext=1\r\nhel", out);
    EXPECT_EQ(r.status, ParseStatus::incomplete);
    EXPECT_EQ(r.consumed, 12u);  // the data bytes are taken as they come
    EXPECT_EQ(out, "hel");
    r = d.decode("lo\r", out);
    EXPECT_EQ(r.consumed, 2u);  // a lone CR is kept until its LF arrives
    r = d.decode("\r\n0\r\nX: 1", out);
    EXPECT_EQ(r.consumed, 5u);
    r = d.decode("X: 1\r\n", out);
    EXPECT_EQ(r.consumed, 6u);
    r = d.decode("\r\n", out);
    EXPECT_EQ(r.status, ParseStatus::complete);
    EXPECT_EQ(r.consumed, 2u);
    EXPECT_EQ(out, "hello");
    EXPECT_EQ(d.body_bytes(), 5u);
}

TEST(ChunkedDecoder, ErrorIsStickyUntilReset) {
    ChunkedDecoder d;
    std::string out;
    ASSERT_EQ(d.decode("zz\r\n", out).status, ParseStatus::error);
    EXPECT_EQ(d.error().status, 400);
    EXPECT_EQ(d.decode("0\r\n\r\n", out).status, ParseStatus::error);
    d.reset();
    EXPECT_EQ(d.error().status, 0);
    const ChunkedDecoder::Result r = d.decode("1\r\nx\r\n0\r\n\r\n", out);
    EXPECT_EQ(r.status, ParseStatus::complete);
    EXPECT_EQ(out, "x");
    EXPECT_EQ(d.body_bytes(), 1u);
}

TEST(ChunkedDecoder, SetLimits) {
    ChunkedDecoder d;
    d.set_limits(ChunkedLimits{3, 4096, 16384});
    std::string out;
    EXPECT_EQ(d.decode("4\r\nabcd\r\n0\r\n\r\n", out).status, ParseStatus::error);
    EXPECT_EQ(d.error().status, 413);
}

TEST(ChunkedDecoder, ManySmallChunks) {
    std::string in;
    std::string expected;
    for (int i = 0; i < 200; ++i) {
        const std::string piece(static_cast<std::size_t>(i % 17 + 1), static_cast<char>('a' + i % 26));
        char size[8];
        std::snprintf(size, sizeof size, "%x", static_cast<unsigned>(piece.size()));
        in += size + (i % 3 == 0 ? ";i=" + std::to_string(i) : "") + "\r\n" + piece + "\r\n";
        expected += piece;
    }
    in += "0\r\n\r\n";
    const Decoded once = decode_once(in);
    EXPECT_EQ(once.status, ParseStatus::complete);
    EXPECT_EQ(once.body, expected);
    std::vector<std::size_t> every;
    for (std::size_t k = 1; k < in.size(); ++k) every.push_back(k);
    EXPECT_EQ(decode_pieces(in, every, {}), once);
}

}  // namespace
}  // namespace herald::http
