// RequestParser: request line, header fields, framing fields, limits, incremental and pipelined use.
#include <herald/http/parser.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace herald::http {
namespace {

using namespace std::string_literals;

// An owned copy of everything a parse produced, so results from different buffers compare equal.
struct Outcome {
    ParseStatus status = ParseStatus::incomplete;
    int error_status = 0;
    std::size_t head_size = 0;
    Method method = Method::get;
    std::string method_name;
    std::string target;
    int version_minor = 0;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string host;
    BodyKind body = BodyKind::none;
    std::uint64_t content_length = 0;
    bool keep_alive = false;
    bool expect_continue = false;
    bool upgrade = false;

    bool operator==(const Outcome&) const = default;
};

Outcome snapshot(const RequestParser& p, ParseStatus status) {
    Outcome o;
    o.status = status;
    if (status == ParseStatus::error) {
        o.error_status = p.error().status;
        return o;
    }
    if (status != ParseStatus::complete) return o;
    const RequestHead& h = p.head();
    o.head_size = p.head_size();
    o.method = h.method;
    o.method_name = h.method_name;
    o.target = h.target;
    o.version_minor = h.version_minor;
    for (const Header& f : h.headers) o.headers.emplace_back(f.name, f.value);
    o.host = h.host;
    o.body = h.body;
    o.content_length = h.content_length;
    o.keep_alive = h.keep_alive;
    o.expect_continue = h.expect_continue;
    o.upgrade = h.upgrade;
    return o;
}

Outcome parse_once(std::string_view in, ParserLimits limits = {}) {
    RequestParser p(limits);
    const ParseStatus st = p.parse(in);
    return snapshot(p, st);
}

// Parses `in` in one go, then as a growing prefix (one byte more per call, each prefix in a fresh
// allocation so stale views would be caught by ASan), then split in two at every byte. Every way must
// reach the one-shot result, and a valid request must never produce an error on a prefix.
Outcome parse_checked(std::string_view in, ParserLimits limits = {}) {
    const Outcome once = parse_once(in, limits);
    const bool valid = once.status != ParseStatus::error;
    {
        RequestParser p(limits);
        Outcome last;
        for (std::size_t k = 0; k <= in.size(); ++k) {
            const std::string prefix(in.substr(0, k));
            const ParseStatus st = p.parse(prefix);
            last = snapshot(p, st);
            if (valid && k < once.head_size) {
                EXPECT_EQ(st, ParseStatus::incomplete) << "prefix of " << k << " bytes";
            }
            if (st != ParseStatus::incomplete) break;
        }
        EXPECT_EQ(last, once) << "growing prefix differs from one-shot parse";
    }
    for (std::size_t k = 0; k <= in.size(); ++k) {
        RequestParser p(limits);
        const std::string first(in.substr(0, k));
        const ParseStatus st1 = p.parse(first);
        if (valid) {
            EXPECT_NE(st1, ParseStatus::error) << "split at " << k;
        }
        if (st1 == ParseStatus::error) {
            EXPECT_EQ(p.error().status, once.error_status) << "split at " << k;
            continue;
        }
        const std::string whole(in);
        const ParseStatus st2 = p.parse(whole);
        EXPECT_EQ(snapshot(p, st2), once) << "split at " << k;
    }
    return once;
}

int error_of(std::string_view in, ParserLimits limits = {}) {
    const Outcome o = parse_checked(in, limits);
    EXPECT_EQ(o.status, ParseStatus::error) << in;
    return o.error_status;
}

Outcome complete(std::string_view in, ParserLimits limits = {}) {
    const Outcome o = parse_checked(in, limits);
    EXPECT_EQ(o.status, ParseStatus::complete) << "error " << o.error_status << " for: " << in;
    return o;
}

// A request with the given extra header lines (each ending in CRLF).
std::string get_with(std::string_view fields) { return "GET / HTTP/1.1\r\nHost: h\r\n"s + std::string(fields) + "\r\n"; }

// ---------------------------------------------------------------------------------------------
// Request line

TEST(RequestParser, SimpleGet) {
    const std::string in = "GET /index.html?x=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n";
    const Outcome o = complete(in);
    EXPECT_EQ(o.method, Method::get);
    EXPECT_EQ(o.method_name, "GET");
    EXPECT_EQ(o.target, "/index.html?x=1");
    EXPECT_EQ(o.version_minor, 1);
    EXPECT_EQ(o.host, "example.com");
    EXPECT_EQ(o.body, BodyKind::none);
    EXPECT_TRUE(o.keep_alive);
    EXPECT_FALSE(o.expect_continue);
    EXPECT_FALSE(o.upgrade);
    EXPECT_EQ(o.head_size, in.size());
    ASSERT_EQ(o.headers.size(), 2u);
    EXPECT_EQ(o.headers[0], (std::pair<std::string, std::string>{"Host", "example.com"}));
    EXPECT_EQ(o.headers[1], (std::pair<std::string, std::string>{"Accept", "*/*"}));
}

TEST(RequestParser, KnownMethods) {
    const std::pair<const char*, Method> cases[] = {
        {"GET", Method::get},         {"HEAD", Method::head},       {"POST", Method::post},
        {"PUT", Method::put},         {"PATCH", Method::patch},     {"DELETE", Method::delete_},
        {"OPTIONS", Method::options}, {"CONNECT", Method::connect}, {"TRACE", Method::trace},
    };
    for (const auto& [name, method] : cases) {
        const Outcome o = complete(std::string(name) + " / HTTP/1.1\r\nHost: h\r\n\r\n");
        EXPECT_EQ(o.method, method) << name;
        EXPECT_EQ(o.method_name, name);
    }
}

TEST(RequestParser, ExtensionMethodsAreOther) {
    EXPECT_EQ(complete("PROPFIND / HTTP/1.1\r\nHost: h\r\n\r\n").method, Method::other);
    EXPECT_EQ(complete("M-SEARCH * HTTP/1.1\r\nHost: h\r\n\r\n").method_name, "M-SEARCH");
    // Methods are case-sensitive: "get" is a valid token but not GET.
    const Outcome lower = complete("get / HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_EQ(lower.method, Method::other);
    EXPECT_EQ(lower.method_name, "get");
}

TEST(RequestParser, InvalidMethod) {
    EXPECT_EQ(error_of("GE(T / HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
    EXPECT_EQ(error_of("G:T / HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
    EXPECT_EQ(error_of(" / HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
    EXPECT_EQ(error_of("GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
    EXPECT_EQ(error_of("G\xC3\x89T / HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
}

TEST(RequestParser, TargetForms) {
    EXPECT_EQ(complete("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n").target, "*");
    EXPECT_EQ(complete("GET http://h/a?b HTTP/1.1\r\nHost: h\r\n\r\n").target, "http://h/a?b");
    EXPECT_EQ(complete("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n").target, "example.com:443");
}

TEST(RequestParser, MalformedRequestLine) {
    EXPECT_EQ(error_of("GET  / HTTP/1.1\r\nHost: h\r\n\r\n"), 400);   // double SP: empty target
    EXPECT_EQ(error_of("GET /  HTTP/1.1\r\nHost: h\r\n\r\n"), 400);   // double SP before version
    EXPECT_EQ(error_of("GET / HTTP/1.1 \r\nHost: h\r\n\r\n"), 400);   // trailing SP
    EXPECT_EQ(error_of("GET /a b HTTP/1.1\r\nHost: h\r\n\r\n"), 400); // space in target
    EXPECT_EQ(error_of("GET\r\nHost: h\r\n\r\n"), 400);
    EXPECT_EQ(error_of("GET /\r\nHost: h\r\n\r\n"), 400);             // HTTP/0.9 style
    EXPECT_EQ(error_of("GET / \r\nHost: h\r\n\r\n"), 400);
    EXPECT_EQ(error_of("GET /\tHTTP/1.1\r\nHost: h\r\n\r\n"), 400);
}

TEST(RequestParser, ControlCharactersInTarget) {
    for (const char c : {'\x00', '\x01', '\x1f', '\x7f', '\t', '\r'}) {
        std::string in = "GET /a?b HTTP/1.1\r\nHost: h\r\n\r\n";
        in[6] = c;
        EXPECT_EQ(error_of(in), 400) << "byte " << int(c);
    }
}

TEST(RequestParser, Versions) {
    const Outcome v10 = complete("GET / HTTP/1.0\r\n\r\n");
    EXPECT_EQ(v10.version_minor, 0);
    EXPECT_EQ(complete("GET / HTTP/1.1\r\nHost: h\r\n\r\n").version_minor, 1);
    for (const char* v : {"HTTP/2.0", "HTTP/1.2", "HTTP/0.9", "HTTP/3.0", "HTTP/9.9"}) {
        EXPECT_EQ(error_of("GET / "s + v + "\r\nHost: h\r\n\r\n"), 505) << v;
    }
    for (const char* v : {"HTTP/1.1x", "HTTP/11", "http/1.1", "HTTP/1", "HTTP/1.", "HTTP/a.b", "HTTP/1.10",
                          "HTTP/01.1", "HTTPS/1.1", "HTTP 1.1", "HTTP/2", "HTTP/1,1", ""}) {
        EXPECT_EQ(error_of("GET / "s + v + "\r\nHost: h\r\n\r\n"), 400) << v;
    }
}

// ---------------------------------------------------------------------------------------------
// Line endings

TEST(RequestParser, BareLfRejected) {
    EXPECT_EQ(error_of("GET / HTTP/1.1\nHost: h\r\n\r\n"), 400);
    EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\n\r\n"), 400);
    EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\r\n\n"), 400);
    EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\r\nX: a\nb\r\n\r\n"), 400);
    EXPECT_EQ(error_of("\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
    // Found while incomplete: no need to wait for the rest.
    EXPECT_EQ(parse_once("GET / HTTP/1.1\nHo").status, ParseStatus::error);
}

TEST(RequestParser, BareCrRejected) {
    EXPECT_EQ(error_of("GET / HTTP/1.1\r\r\nHost: h\r\n\r\n"), 400);
    EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n"), 400);
    EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\r\r\n\r\n"), 400);
    EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\r\n\rX: y\r\n\r\n"), 400);
    EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\r\n\r\r\n\r\n"), 400);
    EXPECT_EQ(error_of("GET /\r HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
    EXPECT_EQ(error_of("\rGET / HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
}

TEST(RequestParser, LeadingEmptyLinesTolerated) {
    const std::string req = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
    for (int n = 1; n <= 4; ++n) {
        std::string in;
        for (int i = 0; i < n; ++i) in += "\r\n";
        in += req;
        const Outcome o = complete(in);
        EXPECT_EQ(o.head_size, in.size());
        EXPECT_EQ(o.method_name, "GET");
    }
    EXPECT_EQ(error_of("\r\n\r\n\r\n\r\n\r\n" + req), 400);
    EXPECT_EQ(parse_once("\r\n\r\n\r\n\r\n\r\n").status, ParseStatus::error);
    EXPECT_EQ(parse_once("\r\n\r\n").status, ParseStatus::incomplete);
}

// ---------------------------------------------------------------------------------------------
// Limits

TEST(RequestParser, RequestLineLimit) {
    ParserLimits limits;
    limits.max_request_line = 20;
    const std::string line20 = "GET /" + std::string(6, 'a') + " HTTP/1.1";  // 20 bytes
    ASSERT_EQ(line20.size(), 20u);
    complete(line20 + "\r\nHost: h\r\n\r\n", limits);
    const std::string line21 = "GET /" + std::string(7, 'a') + " HTTP/1.1";
    EXPECT_EQ(error_of(line21 + "\r\nHost: h\r\n\r\n", limits), 414);

    // Detected without the end of the line, and without reading the rest of the buffer.
    EXPECT_EQ(error_of(std::string(22, 'a'), limits), 414);
    EXPECT_EQ(error_of("GET /" + std::string(2000, 'a'), limits), 414);
    // 20 bytes plus a CR could still become a valid line.
    EXPECT_EQ(parse_once(line20 + "\r", limits).status, ParseStatus::incomplete);
    EXPECT_EQ(parse_once(line20, limits).status, ParseStatus::incomplete);
}

TEST(RequestParser, DefaultRequestLineLimit) {
    const std::string long_target = "/" + std::string(8 * 1024, 'x');
    EXPECT_EQ(parse_once("GET " + long_target + " HTTP/1.1\r\nHost: h\r\n\r\n").error_status, 414);
    EXPECT_EQ(parse_once("GET " + long_target).status, ParseStatus::error);
}

TEST(RequestParser, HeaderBytesLimit) {
    ParserLimits limits;
    limits.max_header_bytes = 32;
    // The header block counts the field lines with their CRLFs, not the final empty line.
    const std::string fields32 = "Host: h\r\nX: " + std::string(18, 'v') + "\r\n";
    ASSERT_EQ(fields32.size(), 32u);
    complete("GET / HTTP/1.1\r\n" + fields32 + "\r\n", limits);
    const std::string fields33 = "Host: h\r\nX: " + std::string(19, 'v') + "\r\n";
    EXPECT_EQ(error_of("GET / HTTP/1.1\r\n" + fields33 + "\r\n", limits), 431);
    // Incomplete heads are checked too.
    EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(1000, 'v'), limits), 431);
    EXPECT_EQ(parse_once("GET / HTTP/1.1\r\n" + fields32 + "\r", limits).status, ParseStatus::incomplete);
    // The request line does not count against the header block.
    ParserLimits small_headers;
    small_headers.max_header_bytes = 9;
    complete("GET /" + std::string(1000, 'p') + " HTTP/1.1\r\nHost: h\r\n\r\n", small_headers);
}

TEST(RequestParser, HeaderCountLimit) {
    ParserLimits limits;
    limits.max_header_count = 3;
    complete(get_with("A: 1\r\nB: 2\r\n"), limits);
    EXPECT_EQ(error_of(get_with("A: 1\r\nB: 2\r\nC: 3\r\n"), limits), 431);
    // Counted while incomplete.
    EXPECT_EQ(parse_once("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n", limits).status, ParseStatus::error);
    EXPECT_EQ(parse_once("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n", limits).error_status, 431);

    std::string many;
    for (int i = 0; i < 100; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
    EXPECT_EQ(complete("GET / HTTP/1.1\r\nHost: h\r\n" + many.substr(many.find('\n') + 1) + "\r\n").headers.size(), 100u);
    EXPECT_EQ(error_of(get_with(many)), 431);
}

// ---------------------------------------------------------------------------------------------
// Header fields

TEST(RequestParser, FieldNameMustBeToken) {
    EXPECT_EQ(error_of(get_with("Ho(st: a\r\n")), 400);
    EXPECT_EQ(error_of(get_with("X Y: a\r\n")), 400);
    EXPECT_EQ(error_of(get_with(": a\r\n")), 400);
    EXPECT_EQ(error_of(get_with("X\x01: a\r\n")), 400);
    EXPECT_EQ(error_of(get_with("X\xC3\xA9: a\r\n")), 400);
    EXPECT_EQ(error_of(get_with("no colon here\r\n")), 400);
    EXPECT_EQ(error_of(get_with("NoColon\r\n")), 400);
    EXPECT_EQ(complete(get_with("X-Odd!#$%&'*+-.^_`|~: ok\r\n")).headers[1].first, "X-Odd!#$%&'*+-.^_`|~");
}

TEST(RequestParser, NoWhitespaceBeforeColon) {
    EXPECT_EQ(error_of(get_with("Content-Length : 5\r\n")), 400);
    EXPECT_EQ(error_of(get_with("X\t: a\r\n")), 400);
    EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost : h\r\n\r\n"), 400);
    RequestParser p;
    ASSERT_EQ(p.parse(get_with("X : a\r\n")), ParseStatus::error);
    EXPECT_EQ(p.error().reason, "whitespace before colon in header field");
}

TEST(RequestParser, ObsFoldRejected) {
    EXPECT_EQ(error_of(get_with("X: a\r\n b\r\n")), 400);
    EXPECT_EQ(error_of(get_with("X: a\r\n\tb\r\n")), 400);
    EXPECT_EQ(error_of("GET / HTTP/1.1\r\n Host: h\r\n\r\n"), 400);
}

TEST(RequestParser, ValuesTrimmedOfOws) {
    const Outcome o = complete(get_with("A:   spaced value \t \r\nB:\r\nC:\t\t\r\nD:x\r\nE: a\tb\r\n"));
    ASSERT_EQ(o.headers.size(), 6u);
    EXPECT_EQ(o.headers[1].second, "spaced value");
    EXPECT_EQ(o.headers[2].second, "");
    EXPECT_EQ(o.headers[3].second, "");
    EXPECT_EQ(o.headers[4].second, "x");
    EXPECT_EQ(o.headers[5].second, "a\tb");
}

TEST(RequestParser, ObsTextAllowedInValues) {
    const Outcome o = complete(get_with("X: caf\xC3\xA9 \x80\xFF\r\n"));
    EXPECT_EQ(o.headers[1].second, "caf\xC3\xA9 \x80\xFF");
}

TEST(RequestParser, ControlCharactersInValues) {
    // Every position within and around a word, to cover the word-at-a-time scan.
    for (const char bad : {'\x00', '\x01', '\x08', '\x0b', '\x1f', '\x7f', '\r'}) {
        for (std::size_t pos = 0; pos < 20; ++pos) {
            std::string value(20, 'v');
            value[pos] = bad;
            EXPECT_EQ(error_of(get_with("X: " + value + "\r\n")), 400) << "byte " << int(bad) << " at " << pos;
        }
    }
    for (std::size_t pos = 1; pos < 19; ++pos) {
        std::string value(20, 'v');
        value[pos] = '\t';
        EXPECT_EQ(complete(get_with("X: " + value + "\r\n")).headers[1].second, value);
    }
    // Bytes just above the CTL range and obs-text right next to DEL-like values are fine.
    EXPECT_EQ(complete(get_with("X: \x20\x7e\x80\x81\xfe\xff!aaaaaaaaaa\r\n")).headers[1].second,
              "\x7e\x80\x81\xfe\xff!aaaaaaaaaa");
}

TEST(RequestParser, ViewsPointIntoTheBuffer) {
    const std::string in = "POST /p HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n\r\nbody";
    RequestParser p;
    ASSERT_EQ(p.parse(in), ParseStatus::complete);
    const auto inside = [&](std::string_view v) { return v.data() >= in.data() && v.data() + v.size() <= in.data() + in.size(); };
    EXPECT_TRUE(inside(p.head().method_name));
    EXPECT_TRUE(inside(p.head().target));
    EXPECT_TRUE(inside(p.head().host));
    for (const Header& h : p.head().headers) {
        EXPECT_TRUE(inside(h.name));
        EXPECT_TRUE(inside(h.value));
    }
    EXPECT_EQ(p.head().target.data(), in.data() + 5);
}

TEST(RequestParser, FieldStorageIsReused) {
    RequestParser p;
    const std::string a = get_with("A: 1\r\nB: 2\r\n");
    ASSERT_EQ(p.parse(a), ParseStatus::complete);
    const Header* storage = p.head().headers.data();
    for (int i = 0; i < 10; ++i) {
        p.reset();
        const std::string b = get_with("C: " + std::to_string(i) + "\r\nD: x\r\nE: y\r\n");
        ASSERT_EQ(p.parse(b), ParseStatus::complete);
        EXPECT_EQ(p.head().headers.data(), storage);  // the reserved vector, not a new allocation
        EXPECT_EQ(p.head().headers.size(), 4u);
    }
}

TEST(RequestParser, DuplicateOrdinaryFieldsKeptInOrder) {
    const Outcome o = complete(get_with("Accept: a\r\naccept: b\r\nACCEPT: c\r\n"));
    ASSERT_EQ(o.headers.size(), 4u);
    EXPECT_EQ(o.headers[1].second, "a");
    EXPECT_EQ(o.headers[2].second, "b");
    EXPECT_EQ(o.headers[3].second, "c");
}

// ---------------------------------------------------------------------------------------------
// Host

TEST(RequestParser, HostRules) {
    EXPECT_EQ(error_of("GET / HTTP/1.1\r\n\r\n"), 400);
    EXPECT_EQ(error_of("GET / HTTP/1.1\r\nX: y\r\n\r\n"), 400);
    EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"), 400);
    EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: a\r\nhOST: b\r\n\r\n"), 400);
    EXPECT_EQ(error_of("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n"), 400);
    EXPECT_EQ(complete("GET / HTTP/1.1\r\nhost: a.example:8080\r\n\r\n").host, "a.example:8080");
    EXPECT_EQ(complete("GET / HTTP/1.1\r\nHost:\r\n\r\n").host, "");
    const Outcome v10 = complete("GET / HTTP/1.0\r\n\r\n");
    EXPECT_EQ(v10.host, "");
    EXPECT_EQ(complete("GET / HTTP/1.0\r\nHost: old\r\n\r\n").host, "old");
}

// ---------------------------------------------------------------------------------------------
// Content-Length

TEST(RequestParser, ContentLengthValid) {
    const Outcome zero = complete(get_with("Content-Length: 0\r\n"));
    EXPECT_EQ(zero.body, BodyKind::content_length);
    EXPECT_EQ(zero.content_length, 0u);
    EXPECT_EQ(complete(get_with("Content-Length: 42\r\n")).content_length, 42u);
    EXPECT_EQ(complete(get_with("content-length:\t 7 \r\n")).content_length, 7u);
    EXPECT_EQ(complete(get_with("Content-Length: 007\r\n")).content_length, 7u);
    EXPECT_EQ(complete(get_with("Content-Length: 9223372036854775807\r\n")).content_length, 9223372036854775807u);
    EXPECT_EQ(complete(get_with("Content-Length: 0000000000000000001\r\n")).content_length, 1u);
}

TEST(RequestParser, ContentLengthInvalid) {
    for (const char* v : {"", "-1", "+1", "1.0", "1 2", "0x10", "a", "5,5", "5, 5", "1e3", "9223372036854775808",
                          "18446744073709551615", "18446744073709551616", "99999999999999999999",
                          "00000000000000000001", "\xD9\xA1"}) {
        EXPECT_EQ(error_of(get_with("Content-Length: "s + v + "\r\n")), 400) << '"' << v << '"';
    }
}

TEST(RequestParser, ContentLengthDuplicates) {
    EXPECT_EQ(error_of(get_with("Content-Length: 5\r\nContent-Length: 5\r\n")), 400);
    EXPECT_EQ(error_of(get_with("Content-Length: 5\r\nContent-Length: 6\r\n")), 400);
    EXPECT_EQ(error_of(get_with("Content-Length: 5\r\ncontent-length: 5\r\n")), 400);
}

TEST(RequestParser, ContentLengthWithTransferEncoding) {
    EXPECT_EQ(error_of(get_with("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n")), 400);
    EXPECT_EQ(error_of(get_with("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n")), 400);
    RequestParser p;
    ASSERT_EQ(p.parse(get_with("Transfer-Encoding: chunked\r\nContent-Length: 0\r\n")), ParseStatus::error);
    EXPECT_EQ(p.error().reason, "Content-Length with Transfer-Encoding");
}

// ---------------------------------------------------------------------------------------------
// Transfer-Encoding

TEST(RequestParser, TransferEncodingChunked) {
    EXPECT_EQ(complete(get_with("Transfer-Encoding: chunked\r\n")).body, BodyKind::chunked);
    EXPECT_EQ(complete(get_with("transfer-encoding: CHUNKED\r\n")).body, BodyKind::chunked);
    EXPECT_EQ(complete(get_with("Transfer-Encoding: , chunked ,\r\n")).body, BodyKind::chunked);
    EXPECT_EQ(complete(get_with("Transfer-Encoding:\r\nTransfer-Encoding: chunked\r\n")).body, BodyKind::chunked);
}

TEST(RequestParser, TransferEncodingChunkedMustBeLastAndOnce) {
    EXPECT_EQ(error_of(get_with("Transfer-Encoding: chunked, gzip\r\n")), 400);
    EXPECT_EQ(error_of(get_with("Transfer-Encoding: chunked, chunked\r\n")), 400);
    EXPECT_EQ(error_of(get_with("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n")), 400);
    EXPECT_EQ(error_of(get_with("Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n")), 400);
    EXPECT_EQ(error_of(get_with("Transfer-Encoding: gzip\r\n")), 400);
    EXPECT_EQ(error_of(get_with("Transfer-Encoding: identity\r\n")), 400);
    EXPECT_EQ(error_of(get_with("Transfer-Encoding:\r\n")), 400);
    EXPECT_EQ(error_of(get_with("Transfer-Encoding: ,\r\n")), 400);
    EXPECT_EQ(error_of(get_with("Transfer-Encoding: chunked;x=1\r\n")), 400);
    EXPECT_EQ(error_of(get_with("Transfer-Encoding: chunked x\r\n")), 400);
    EXPECT_EQ(error_of(get_with("Transfer-Encoding: \"chunked\"\r\n")), 400);
    EXPECT_EQ(error_of(get_with("Transfer-Encoding: xchunked\r\n")), 400);
}

TEST(RequestParser, TransferEncodingUnsupportedCoding) {
    EXPECT_EQ(error_of(get_with("Transfer-Encoding: gzip, chunked\r\n")), 501);
    EXPECT_EQ(error_of(get_with("Transfer-Encoding: deflate,chunked\r\n")), 501);
    EXPECT_EQ(error_of(get_with("Transfer-Encoding: identity, chunked\r\n")), 501);
    EXPECT_EQ(error_of(get_with("Transfer-Encoding: gzip;q=1, chunked\r\n")), 501);
    EXPECT_EQ(error_of(get_with("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n")), 501);
    RequestParser p;
    ASSERT_EQ(p.parse(get_with("Transfer-Encoding: br, chunked\r\n")), ParseStatus::error);
    EXPECT_EQ(p.error().reason, "unsupported transfer coding");
}

TEST(RequestParser, TransferEncodingInHttp10) {
    EXPECT_EQ(error_of("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
}

// ---------------------------------------------------------------------------------------------
// Connection, Upgrade, Expect

TEST(RequestParser, KeepAliveHttp11) {
    EXPECT_TRUE(complete(get_with("")).keep_alive);
    EXPECT_FALSE(complete(get_with("Connection: close\r\n")).keep_alive);
    EXPECT_FALSE(complete(get_with("Connection: CLOSE\r\n")).keep_alive);
    EXPECT_FALSE(complete(get_with("Connection: keep-alive, close\r\n")).keep_alive);
    EXPECT_FALSE(complete(get_with("Connection: keep-alive\r\nConnection: close\r\n")).keep_alive);
    EXPECT_TRUE(complete(get_with("Connection: keep-alive\r\n")).keep_alive);
    EXPECT_TRUE(complete(get_with("Connection: closed\r\n")).keep_alive);
    EXPECT_TRUE(complete(get_with("Connection: x-close\r\n")).keep_alive);
}

TEST(RequestParser, KeepAliveHttp10) {
    EXPECT_FALSE(complete("GET / HTTP/1.0\r\n\r\n").keep_alive);
    EXPECT_TRUE(complete("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").keep_alive);
    EXPECT_TRUE(complete("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive);
    EXPECT_FALSE(complete("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n").keep_alive);
    EXPECT_FALSE(complete("GET / HTTP/1.0\r\nConnection: keep-alives\r\n\r\n").keep_alive);
}

TEST(RequestParser, Upgrade) {
    EXPECT_TRUE(complete(get_with("Connection: Upgrade\r\nUpgrade: websocket\r\n")).upgrade);
    EXPECT_TRUE(complete(get_with("Upgrade: websocket\r\nConnection: keep-alive, upgrade\r\n")).upgrade);
    EXPECT_FALSE(complete(get_with("Connection: Upgrade\r\n")).upgrade);
    EXPECT_FALSE(complete(get_with("Upgrade: websocket\r\n")).upgrade);
    EXPECT_FALSE(complete(get_with("Connection: upgraded\r\nUpgrade: websocket\r\n")).upgrade);
    EXPECT_TRUE(complete(get_with("Connection: upgrade\r\nUpgrade: websocket\r\n")).keep_alive);
}

TEST(RequestParser, Expect) {
    EXPECT_TRUE(complete(get_with("Expect: 100-continue\r\n")).expect_continue);
    EXPECT_TRUE(complete(get_with("expect: 100-Continue\r\n")).expect_continue);
    EXPECT_FALSE(complete(get_with("")).expect_continue);
    EXPECT_EQ(error_of(get_with("Expect: 200-ok\r\n")), 417);
    EXPECT_EQ(error_of(get_with("Expect:\r\n")), 417);
    EXPECT_EQ(error_of(get_with("Expect: 100-continue, foo\r\n")), 417);
    EXPECT_EQ(error_of(get_with("Expect: 100-continue\r\nExpect: foo\r\n")), 417);
    // HTTP/1.0 clients do not understand 100 Continue.
    EXPECT_FALSE(complete("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n").expect_continue);
}

// ---------------------------------------------------------------------------------------------
// Incremental behaviour

TEST(RequestParser, IncompleteUntilFinalEmptyLine) {
    RequestParser p;
    const std::string in = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
    for (std::size_t k = 0; k < in.size(); ++k) {
        EXPECT_EQ(p.parse(std::string_view(in).substr(0, k)), ParseStatus::incomplete) << k;
    }
    EXPECT_EQ(p.parse(in), ParseStatus::complete);
    EXPECT_EQ(p.head_size(), in.size());
}

TEST(RequestParser, CompleteAndErrorAreSticky) {
    RequestParser p;
    const std::string in = "GET / HTTP/1.1\r\nHost: h\r\n\r\nmore";
    ASSERT_EQ(p.parse(in), ParseStatus::complete);
    EXPECT_EQ(p.parse(in), ParseStatus::complete);
    EXPECT_EQ(p.head_size(), in.size() - 4);

    RequestParser q;
    ASSERT_EQ(q.parse("BAD\nrequest"), ParseStatus::error);
    EXPECT_EQ(q.parse("GET / HTTP/1.1\r\nHost: h\r\n\r\n"), ParseStatus::error);
    q.reset();
    EXPECT_EQ(q.error().status, 0);
    EXPECT_EQ(q.parse("GET / HTTP/1.1\r\nHost: h\r\n\r\n"), ParseStatus::complete);
}

TEST(RequestParser, BodyBytesAreNotPartOfTheHead) {
    const std::string head = "POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n";
    const Outcome o = complete(head + "hello");
    EXPECT_EQ(o.head_size, head.size());
    EXPECT_EQ(o.method, Method::post);
    EXPECT_EQ(o.body, BodyKind::content_length);
    EXPECT_EQ(o.content_length, 5u);
}

TEST(RequestParser, LargeHeadByteByByte) {
    // 90 fields of ~150 bytes: a quadratic rescan would be noticeably slow here under sanitizers.
    std::string fields;
    for (int i = 0; i < 90; ++i) fields += "X-Field-" + std::to_string(i) + ": " + std::string(140, 'v') + "\r\n";
    const std::string in = get_with(fields);
    RequestParser p;
    std::string buffer;
    ParseStatus st = ParseStatus::incomplete;
    for (char c : in) {
        buffer.push_back(c);  // the buffer reallocates now and then; the parser must not care
        st = p.parse(buffer);
        if (st != ParseStatus::incomplete) break;
    }
    ASSERT_EQ(st, ParseStatus::complete);
    EXPECT_EQ(p.head().headers.size(), 91u);
    EXPECT_EQ(p.head_size(), in.size());
}

TEST(RequestParser, ShrinkingInputRestarts) {
    RequestParser p;
    EXPECT_EQ(p.parse("GET / HTTP/1.1\r\nHost: h\r\nX: "), ParseStatus::incomplete);
    // Not the promised growing prefix; the parser starts over instead of reading out of bounds.
    EXPECT_EQ(p.parse("GET /"), ParseStatus::incomplete);
    EXPECT_EQ(p.parse("GET / HTTP/1.1\r\nHost: h\r\n\r\n"), ParseStatus::complete);
}

// ---------------------------------------------------------------------------------------------
// Pipelining

struct Served {
    std::string method;
    std::string target;
    std::string body;
    bool operator==(const Served&) const = default;
};

struct Connection {
    std::vector<Served> served;
    int error = 0;
};

// A minimal connection loop: the stream arrives `step` bytes at a time into one buffer, from which
// complete requests (head and body) are taken off the front, like the server's read loop does.
Connection serve(std::string_view stream, std::size_t step) {
    Connection c;
    RequestParser parser;
    ChunkedDecoder chunked;
    std::string buffer;
    enum class Phase { head, fixed_body, chunked_body } phase = Phase::head;
    Served current;
    std::uint64_t body_left = 0;
    std::size_t fed = 0;
    while (true) {
        bool progressed = false;
        if (phase == Phase::head) {
            const ParseStatus st = parser.parse(buffer);
            if (st == ParseStatus::error) {
                c.error = parser.error().status;
                return c;
            }
            if (st == ParseStatus::complete) {
                const RequestHead& h = parser.head();
                current = Served{std::string(h.method_name), std::string(h.target), {}};
                const BodyKind body = h.body;
                body_left = h.content_length;
                buffer.erase(0, parser.head_size());
                parser.reset();
                progressed = true;
                if (body == BodyKind::chunked) {
                    chunked.reset();
                    phase = Phase::chunked_body;
                } else if (body == BodyKind::content_length && body_left > 0) {
                    phase = Phase::fixed_body;
                } else {
                    c.served.push_back(current);
                }
            }
        } else if (phase == Phase::fixed_body) {
            const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(body_left, buffer.size()));
            current.body.append(buffer, 0, n);
            buffer.erase(0, n);
            body_left -= n;
            progressed = n > 0;
            if (body_left == 0) {
                c.served.push_back(current);
                phase = Phase::head;
            }
        } else {
            const ChunkedDecoder::Result r = chunked.decode(buffer, current.body);
            buffer.erase(0, r.consumed);
            progressed = r.consumed > 0;
            if (r.status == ParseStatus::error) {
                c.error = chunked.error().status;
                return c;
            }
            if (r.status == ParseStatus::complete) {
                c.served.push_back(current);
                phase = Phase::head;
                progressed = true;
            }
        }
        if (!progressed) {
            if (fed == stream.size()) return c;
            const std::size_t n = std::min(step, stream.size() - fed);
            buffer.append(stream.substr(fed, n));
            fed += n;
        }
    }
}

TEST(RequestParser, PipelinedBatch) {
    const std::string stream =
        "GET /one HTTP/1.1\r\nHost: h\r\n\r\n"
        "POST /two HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
        "POST /three HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        "3;ext=1\r\nabc\r\n4\r\ndefg\r\n0\r\nTrailer: t\r\n\r\n"
        "\r\n"  // a stray CRLF after a body is tolerated before the next request line
        "GET /four HTTP/1.0\r\n\r\n"
        "DELETE /five HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n";
    const std::vector<Served> expected = {
        {"GET", "/one", ""},        {"POST", "/two", "hello"}, {"POST", "/three", "abcdefg"},
        {"GET", "/four", ""},       {"DELETE", "/five", ""},
    };
    for (std::size_t step = 1; step <= stream.size(); ++step) {
        const Connection c = serve(stream, step);
        EXPECT_EQ(c.error, 0) << "step " << step;
        EXPECT_EQ(c.served, expected) << "step " << step;
    }
}

TEST(RequestParser, PipelinedOneBuffer) {
    const std::string stream =
        "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
        "GET /b HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
        "GET /c HTTP/1.1\r\nHost: h\r\n\r\n";
    RequestParser p;
    std::string_view rest = stream;
    std::vector<std::string> targets;
    std::vector<bool> keep_alive;
    while (!rest.empty()) {
        ASSERT_EQ(p.parse(rest), ParseStatus::complete);
        targets.emplace_back(p.head().target);
        keep_alive.push_back(p.head().keep_alive);
        rest.remove_prefix(p.head_size());
        p.reset();
    }
    EXPECT_EQ(targets, (std::vector<std::string>{"/a", "/b", "/c"}));
    EXPECT_EQ(keep_alive, (std::vector<bool>{true, false, true}));
}

TEST(RequestParser, PipelinedErrorStopsTheBatch) {
    const std::string stream =
        "GET /ok HTTP/1.1\r\nHost: h\r\n\r\n"
        "GET /bad HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n"
        "GET /never HTTP/1.1\r\nHost: h\r\n\r\n";
    for (std::size_t step : {std::size_t{1}, std::size_t{7}, stream.size()}) {
        const Connection c = serve(stream, step);
        EXPECT_EQ(c.error, 400);
        ASSERT_EQ(c.served.size(), 1u);
        EXPECT_EQ(c.served[0].target, "/ok");
    }
}

}  // namespace
}  // namespace herald::http
