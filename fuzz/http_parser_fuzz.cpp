// libFuzzer target for the HTTP/1.1 request parser and the chunked body decoder.
//
// Each input is treated as the byte stream of one connection: requests are parsed one after another
// (pipelining), bodies are skipped (Content-Length) or decoded (chunked), under the default limits and
// under tiny limits that make every limit path reachable. Besides crashes and sanitizer reports, it
// checks properties: accepted heads obey the grammar and the limits, and feeding the same bytes in
// pieces (growing prefix for the parser, consumed/re-offered buffer for the decoder) gives exactly
// the one-shot result.
#include <herald/http/parser.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"

namespace {

using namespace herald;
using namespace herald::http;


bool is_tchar(char c) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z')) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}
bool is_ctl(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }
bool is_token(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar); }

bool inside(std::string_view part, std::string_view whole) {
    return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

bool known_status(const ParseError& e) {
    switch (e.status) {
        case 400: case 413: case 414: case 417: case 431: case 501: case 505: return !e.reason.empty();
        default: return false;
    }
}

// Checks an accepted head against the grammar and limits, independently of how the parser got there.
void check_head(const RequestParser& p, std::string_view data) {
    const RequestHead& h = p.head();
    const ParserLimits& limits = p.limits();
    const std::size_t size = p.head_size();
    FUZZ_CHECK(size >= 4 && size <= data.size());
    const std::string_view head = data.substr(0, size);
    FUZZ_CHECK(head.substr(size - 4) == "\r\n\r\n");

    FUZZ_CHECK(inside(h.method_name, head) && is_token(h.method_name));
    FUZZ_CHECK(parse_method(h.method_name) == h.method);
    FUZZ_CHECK(inside(h.target, head) && !h.target.empty());
    for (char c : h.target) FUZZ_CHECK(!is_ctl(c) && c != ' ');
    FUZZ_CHECK(h.version_minor == 0 || h.version_minor == 1);
    // Request line: method SP target SP HTTP/1.x, within its limit.
    FUZZ_CHECK(h.target.data() == h.method_name.data() + h.method_name.size() + 1);
    const std::size_t line_end = static_cast<std::size_t>(h.target.data() + h.target.size() - head.data()) + 9;
    const std::size_t line_size = line_end - static_cast<std::size_t>(h.method_name.data() - head.data());
    FUZZ_CHECK(line_size <= limits.max_request_line);
    FUZZ_CHECK(head.substr(line_end - 9, 11) == (h.version_minor == 1 ? " HTTP/1.1\r\n" : " HTTP/1.0\r\n"));
    FUZZ_CHECK(size - (line_end + 2) - 2 <= limits.max_header_bytes);

    FUZZ_CHECK(h.headers.size() <= limits.max_header_count);
    std::size_t hosts = 0;
    for (const Header& f : h.headers) {
        FUZZ_CHECK(inside(f.name, head) && is_token(f.name));
        FUZZ_CHECK(inside(f.value, head));
        for (char c : f.value) FUZZ_CHECK(!is_ctl(c) || c == '\t');
        if (!f.value.empty()) {
            FUZZ_CHECK(f.value.front() != ' ' && f.value.front() != '\t');
            FUZZ_CHECK(f.value.back() != ' ' && f.value.back() != '\t');
        }
        if (iequals(f.name, "host")) ++hosts;
    }
    FUZZ_CHECK(hosts <= 1);
    if (h.version_minor == 1) FUZZ_CHECK(hosts == 1);
    if (h.body == BodyKind::chunked) {
        FUZZ_CHECK(h.version_minor == 1);
        FUZZ_CHECK(!find_header(h.headers, "content-length"));
    }
    if (h.body == BodyKind::content_length) {
        FUZZ_CHECK(!find_header(h.headers, "transfer-encoding"));
        FUZZ_CHECK(h.content_length <= 9223372036854775807ULL);
    }
}

struct HeadResult {
    ParseStatus status;
    int error;
    std::size_t head_size;
    std::size_t fields;
    std::string_view target;  // compared by content
};

HeadResult result_of(const RequestParser& p, ParseStatus st) {
    HeadResult r{st, 0, 0, 0, {}};
    if (st == ParseStatus::error) r.error = p.error().status;
    if (st == ParseStatus::complete) {
        r.head_size = p.head_size();
        r.fields = p.head().headers.size();
        r.target = p.head().target;
    }
    return r;
}

void check_same(const HeadResult& a, const HeadResult& b) {
    FUZZ_CHECK(a.status == b.status);
    FUZZ_CHECK(a.error == b.error);
    FUZZ_CHECK(a.head_size == b.head_size);
    FUZZ_CHECK(a.fields == b.fields);
    FUZZ_CHECK(a.target == b.target);
}

// The first request head parsed from a prefix that grows by `step` bytes per call must end exactly
// like the one-shot parse, and a head that is fine in one go must not fail on any prefix.
void check_incremental(std::string_view in, const ParserLimits& limits, const HeadResult& once, std::size_t step) {
    RequestParser p(limits);
    std::string buffer;  // grows and reallocates, as a connection's buffer would
    HeadResult last{ParseStatus::incomplete, 0, 0, 0, {}};
    for (std::size_t fed = 0; fed < in.size();) {
        const std::size_t n = std::min(step, in.size() - fed);
        buffer.append(in.substr(fed, n));
        fed += n;
        const ParseStatus st = p.parse(buffer);
        last = result_of(p, st);
        if (once.status != ParseStatus::error) FUZZ_CHECK(st != ParseStatus::error);
        if (st != ParseStatus::incomplete) break;
    }
    if (in.empty()) last = result_of(p, p.parse(buffer));
    check_same(last, once);
}

struct BodyResult {
    ParseStatus status;
    int error;
    std::size_t consumed;
    std::string body;
};

BodyResult decode_once(std::string_view in, const ChunkedLimits& limits) {
    ChunkedDecoder d(limits);
    BodyResult r{ParseStatus::incomplete, 0, 0, {}};
    const ChunkedDecoder::Result res = d.decode(in, r.body);
    FUZZ_CHECK(res.consumed <= in.size());
    FUZZ_CHECK(d.body_bytes() == r.body.size() && r.body.size() <= limits.max_body_bytes);
    r.status = res.status;
    r.consumed = res.consumed;
    if (res.status == ParseStatus::error) {
        FUZZ_CHECK(known_status(d.error()));
        r.error = d.error().status;
    }
    return r;
}

// Feeds the decoder `step` bytes at a time; unconsumed bytes stay at the front of the buffer.
BodyResult decode_pieces(std::string_view in, const ChunkedLimits& limits, std::size_t step) {
    ChunkedDecoder d(limits);
    BodyResult r{ParseStatus::incomplete, 0, 0, {}};
    std::string pending;
    for (std::size_t fed = 0; fed < in.size();) {
        const std::size_t n = std::min(step, in.size() - fed);
        pending.append(in.substr(fed, n));
        fed += n;
        const ChunkedDecoder::Result res = d.decode(pending, r.body);
        FUZZ_CHECK(res.consumed <= pending.size());
        pending.erase(0, res.consumed);
        r.consumed += res.consumed;
        r.status = res.status;
        if (res.status != ParseStatus::incomplete) break;
    }
    if (r.status == ParseStatus::error) r.error = d.error().status;
    return r;
}

void check_chunked(std::string_view in, const ChunkedLimits& limits, const BodyResult& once) {
    for (const std::size_t step : {std::size_t{1}, std::size_t{3}, std::size_t{64}}) {
        const BodyResult split = decode_pieces(in, limits, step);
        FUZZ_CHECK(split.status == once.status);
        FUZZ_CHECK(split.error == once.error);
        if (once.status != ParseStatus::error) {
            FUZZ_CHECK(split.consumed == once.consumed);
            FUZZ_CHECK(split.body == once.body);
        }
    }
}

// Parses `in` as a connection's byte stream: as many pipelined requests as it holds.
void run_connection(std::string_view in, const ParserLimits& limits, const ChunkedLimits& body_limits) {
    RequestParser p(limits);
    std::size_t pos = 0;
    for (int request = 0; request < 64; ++request) {
        const std::string_view rest = in.substr(pos);
        const ParseStatus st = p.parse(rest);
        const HeadResult once = result_of(p, st);
        if (request < 2) {
            check_incremental(rest, limits, once, 1);
            check_incremental(rest, limits, once, 7);
        }
        if (st == ParseStatus::error) {
            FUZZ_CHECK(known_status(p.error()));
            return;
        }
        if (st == ParseStatus::incomplete) return;
        check_head(p, rest);
        pos += p.head_size();

        if (p.head().body == BodyKind::content_length) {
            if (p.head().content_length > in.size() - pos) return;
            pos += static_cast<std::size_t>(p.head().content_length);
        } else if (p.head().body == BodyKind::chunked) {
            const std::string_view body = in.substr(pos);
            const BodyResult decoded = decode_once(body, body_limits);
            if (request < 2) check_chunked(body, body_limits, decoded);
            if (decoded.status != ParseStatus::complete) return;
            pos += decoded.consumed;
        }
        p.reset();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);

    const ParserLimits default_limits;
    const ParserLimits tiny_limits{48, 96, 4};
    const ChunkedLimits default_body_limits;
    const ChunkedLimits tiny_body_limits{64, 12, 24};

    run_connection(in, default_limits, default_body_limits);
    run_connection(in, tiny_limits, tiny_body_limits);

    // The decoder on its own too, so it is explored without first needing a valid request head.
    const BodyResult once = decode_once(in, tiny_body_limits);
    check_chunked(in, tiny_body_limits, once);
    return 0;
}
