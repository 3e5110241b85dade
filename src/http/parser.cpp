#include <herald/http/parser.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>

namespace herald::http {
namespace {

// RFC 9112 §2.2 lets a server skip empty lines before the request line; a few are enough for the
// stray CRLF some clients send after a body, and a bound keeps a stream of CRLFs from being free.
constexpr std::size_t max_leading_empty_lines = 4;

// Reserving for every allowed field would be absurd with huge limits; past this the vector may grow.
constexpr std::size_t max_reserved_fields = 1024;

constexpr std::size_t npos = std::string_view::npos;

constexpr std::size_t sat_add(std::size_t a, std::size_t b) noexcept {
    return a > std::numeric_limits<std::size_t>::max() - b ? std::numeric_limits<std::size_t>::max() : a + b;
}

// tchar (RFC 9110 §5.6.2): the bytes allowed in methods, field names and transfer-coding names.
constexpr std::array<bool, 256> make_tchar_table() noexcept {
    std::array<bool, 256> t{};
    for (std::size_t c = '0'; c <= '9'; ++c) t[c] = true;
    for (std::size_t c = 'a'; c <= 'z'; ++c) t[c] = true;
    for (std::size_t c = 'A'; c <= 'Z'; ++c) t[c] = true;
    for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
    return t;
}
constexpr auto tchar_table = make_tchar_table();

constexpr bool is_tchar(char c) noexcept { return tchar_table[static_cast<unsigned char>(c)]; }
constexpr bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }
// CTL: %x00-1F and DEL.
constexpr bool is_ctl(char c) noexcept {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
}

bool is_token(std::string_view s) noexcept {
    if (s.empty()) return false;
    for (char c : s) {
        if (!is_tchar(c)) return false;
    }
    return true;
}

std::size_t token_length(std::string_view s) noexcept {
    std::size_t i = 0;
    while (i < s.size() && is_tchar(s[i])) ++i;
    return i;
}

std::string_view trim_ows(std::string_view s) noexcept {
    while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
    return s;
}

// Finds the first byte that may not appear in a field value: a CTL other than HTAB (CR, LF and NUL
// included). Tests eight bytes per step because values are most of a head's bytes; only a word that
// may hold such a byte (or an HTAB) is looked at byte by byte.
std::size_t find_invalid_value_byte(std::string_view v) noexcept {
    constexpr std::uint64_t ones = 0x0101010101010101ULL;
    constexpr std::uint64_t highs = 0x8080808080808080ULL;
    const char* p = v.data();
    const std::size_t n = v.size();
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        std::uint64_t w;
        std::memcpy(&w, p + i, sizeof w);
        const std::uint64_t below_space = (w - ones * 0x20) & ~w & highs;
        const std::uint64_t del = w ^ (ones * 0x7f);
        const std::uint64_t has_del = (del - ones) & ~del & highs;
        if ((below_space | has_del) == 0) continue;
        for (std::size_t j = i; j < i + 8; ++j) {
            if (is_ctl(p[j]) && p[j] != '\t') return j;
        }
    }
    for (; i < n; ++i) {
        if (is_ctl(p[i]) && p[i] != '\t') return i;
    }
    return npos;
}

constexpr ParseError ok{};

// Validates one field line (without its CRLF) of a head or a trailer section and splits it.
ParseError parse_field_line(std::string_view line, Header& out) noexcept {
    if (is_ows(line.front())) return {400, "obsolete line folding"};
    const std::size_t colon = line.find(':');
    if (colon == npos) return {400, "header field without colon"};
    const std::string_view name = line.substr(0, colon);
    if (name.empty()) return {400, "empty header field name"};
    for (char c : name) {
        if (is_tchar(c)) continue;
        // Whitespace before the colon is a known smuggling vector (RFC 9112 §5.1), so name it.
        if (is_ows(c)) return {400, "whitespace before colon in header field"};
        return {400, "invalid character in header field name"};
    }
    const std::string_view value = trim_ows(line.substr(colon + 1));
    const std::size_t bad = find_invalid_value_byte(value);
    if (bad != npos) {
        return {400, value[bad] == '\r' ? std::string_view("bare CR in header field")
                                        : std::string_view("invalid character in header field value")};
    }
    out = Header{name, value};
    return ok;
}

ParseError parse_request_line(std::string_view line, RequestHead& head) noexcept {
    const std::size_t sp1 = line.find(' ');
    if (sp1 == npos) return {400, "malformed request line"};
    const std::string_view method = line.substr(0, sp1);
    if (!is_token(method)) return {400, "invalid method"};

    const std::string_view rest = line.substr(sp1 + 1);
    const std::size_t sp2 = rest.find(' ');
    if (sp2 == npos) return {400, "malformed request line"};
    const std::string_view target = rest.substr(0, sp2);
    if (target.empty()) return {400, "empty request target"};
    for (char c : target) {
        if (is_ctl(c)) return {400, "invalid character in request target"};
    }

    const std::string_view version = rest.substr(sp2 + 1);
    const auto digit = [](char c) { return c >= '0' && c <= '9'; };
    if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || !digit(version[5]) || version[6] != '.' ||
        !digit(version[7])) {
        return {400, "malformed HTTP version"};
    }
    if (version[5] != '1' || (version[7] != '0' && version[7] != '1')) return {505, "HTTP version not supported"};

    head.method_name = method;
    head.method = parse_method(method);
    head.target = target;
    head.version_minor = version[7] - '0';
    return ok;
}

// Content-Length = 1*DIGIT; capped so that the length fits an int64 (off_t and friends) comfortably.
ParseError parse_content_length(std::string_view v, std::uint64_t& out) noexcept {
    if (v.empty() || v.size() > 19) return {400, "invalid Content-Length"};
    std::uint64_t n = 0;
    for (char c : v) {
        if (c < '0' || c > '9') return {400, "invalid Content-Length"};
        n = n * 10 + static_cast<std::uint64_t>(c - '0');  // 19 digits cannot overflow 64 bits
    }
    if (n > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return {400, "Content-Length too large"};
    }
    out = n;
    return ok;
}

// The transfer codings seen so far across every Transfer-Encoding field, in order.
struct TransferCodings {
    bool present = false;
    bool chunked = false;  // "chunked" was seen; it must be the last coding
    bool other = false;    // some coding we do not implement was seen
};

ParseError add_transfer_codings(std::string_view list, TransferCodings& tc) noexcept {
    tc.present = true;
    while (true) {
        const std::size_t comma = list.find(',');
        const std::string_view element = trim_ows(list.substr(0, comma));
        if (!element.empty()) {  // empty list elements are allowed and ignored (RFC 9110 §5.6.1)
            // Anything after chunked means chunked is not the final coding, including a second chunked.
            if (tc.chunked) return {400, "chunked is not the final transfer coding"};
            const std::size_t len = token_length(element);
            if (len == 0) return {400, "invalid Transfer-Encoding"};
            const std::string_view params = trim_ows(element.substr(len));
            if (!params.empty() && params.front() != ';') return {400, "invalid Transfer-Encoding"};
            if (iequals(element.substr(0, len), "chunked")) {
                if (!params.empty()) return {400, "invalid Transfer-Encoding"};
                tc.chunked = true;
            } else {
                tc.other = true;
            }
        }
        if (comma == npos) return ok;
        list.remove_prefix(comma + 1);
    }
}

// Applies the fields that decide framing and connection handling (RFC 9112 §6, RFC 9110 §7.2, §10.1.1).
ParseError apply_fields(RequestHead& head) noexcept {
    std::size_t host_count = 0;
    bool has_content_length = false;
    TransferCodings te;
    bool conn_close = false;
    bool conn_keep_alive = false;
    bool conn_upgrade = false;
    bool has_upgrade = false;

    for (const Header& h : head.headers) {
        // The length picks the one candidate worth comparing, so most fields cost one switch.
        switch (h.name.size()) {
            case 4:
                if (iequals(h.name, "host")) {
                    if (++host_count > 1) return {400, "duplicate Host"};
                    head.host = h.value;
                }
                break;
            case 6:
                if (iequals(h.name, "expect")) {
                    if (!iequals(h.value, "100-continue")) return {417, "unsupported expectation"};
                    head.expect_continue = true;
                }
                break;
            case 7:
                if (iequals(h.name, "upgrade")) has_upgrade = true;
                break;
            case 10:
                if (iequals(h.name, "connection")) {
                    conn_close = conn_close || has_token(h.value, "close");
                    conn_keep_alive = conn_keep_alive || has_token(h.value, "keep-alive");
                    conn_upgrade = conn_upgrade || has_token(h.value, "upgrade");
                }
                break;
            case 14:
                if (iequals(h.name, "content-length")) {
                    // Even equal duplicates are refused: two parsers disagreeing on framing is smuggling.
                    if (has_content_length) return {400, "duplicate Content-Length"};
                    has_content_length = true;
                    if (const ParseError e = parse_content_length(h.value, head.content_length); e.status != 0) {
                        return e;
                    }
                }
                break;
            case 17:
                if (iequals(h.name, "transfer-encoding")) {
                    if (const ParseError e = add_transfer_codings(h.value, te); e.status != 0) return e;
                }
                break;
            default: break;
        }
    }

    if (head.version_minor == 1 && host_count == 0) return {400, "missing Host"};
    if (te.present) {
        if (head.version_minor == 0) return {400, "Transfer-Encoding in HTTP/1.0 request"};
        if (has_content_length) return {400, "Content-Length with Transfer-Encoding"};
        if (!te.chunked) return {400, "chunked is not the final transfer coding"};
        if (te.other) return {501, "unsupported transfer coding"};
        head.body = BodyKind::chunked;
    } else if (has_content_length) {
        head.body = BodyKind::content_length;
    }

    head.keep_alive = head.version_minor == 1 ? !conn_close : (conn_keep_alive && !conn_close);
    head.upgrade = conn_upgrade && has_upgrade;
    // A 1.0 client cannot understand 100 Continue; RFC 9110 §10.1.1 says to ignore the expectation.
    if (head.version_minor == 0) head.expect_continue = false;
    return ok;
}

// One CRLF-terminated line searched for incrementally, never past its limit.
struct LineScan {
    enum class Kind : std::uint8_t { found, incomplete, too_long, bare_lf } kind;
    std::string_view line;  // without CRLF, when found
    std::size_t next = 0;   // offset after the LF, when found
};

// Looks for the LF ending the line that starts at `start` in `in`. `scanned` is how many bytes of the
// line are already known to hold no LF; it is updated so a trickled line is searched only once.
// The line's content may be at most `max_content` bytes.
LineScan scan_line(std::string_view in, std::size_t start, std::size_t max_content, std::size_t& scanned) noexcept {
    const std::size_t window_end = sat_add(sat_add(start, max_content), 2);
    const std::size_t end = std::min(in.size(), window_end);
    std::size_t from = start + scanned;
    if (from > end) from = start;  // the caller did not keep its side of the contract; search again
    const void* lf = from < end ? std::memchr(in.data() + from, '\n', end - from) : nullptr;
    if (lf == nullptr) {
        scanned = end - start;
        // Too long only once the whole window is there: the verdict must not depend on how input was split.
        return {in.size() >= window_end ? LineScan::Kind::too_long : LineScan::Kind::incomplete, {}, 0};
    }
    scanned = 0;
    const auto lf_pos = static_cast<std::size_t>(static_cast<const char*>(lf) - in.data());
    if (lf_pos == start || in[lf_pos - 1] != '\r') return {LineScan::Kind::bare_lf, {}, 0};
    return {LineScan::Kind::found, in.substr(start, lf_pos - 1 - start), lf_pos + 1};
}

constexpr int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::size_t skip_ows(std::string_view s, std::size_t i) noexcept {
    while (i < s.size() && is_ows(s[i])) ++i;
    return i;
}

// quoted-string starting at s[i] == '"'; returns the offset after the closing quote, or npos.
std::size_t skip_quoted_string(std::string_view s, std::size_t i) noexcept {
    for (++i; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '"') return i + 1;
        if (c == '\\') {
            if (++i == s.size()) return npos;
            if (is_ctl(s[i]) && s[i] != '\t') return npos;
        } else if (is_ctl(c) && c != '\t') {
            return npos;
        }
    }
    return npos;
}

// chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ) (RFC 9112 §7.1.1)
bool valid_chunk_extensions(std::string_view s) noexcept {
    std::size_t i = 0;
    while (true) {
        const std::size_t semi = skip_ows(s, i);
        if (semi == s.size()) return i == s.size();  // BWS is only allowed before ';', not at the end
        if (s[semi] != ';') return false;
        i = skip_ows(s, semi + 1);
        const std::size_t name_len = token_length(s.substr(i));
        if (name_len == 0) return false;
        i += name_len;
        const std::size_t eq = skip_ows(s, i);
        if (eq < s.size() && s[eq] == '=') {
            i = skip_ows(s, eq + 1);
            if (i < s.size() && s[i] == '"') {
                i = skip_quoted_string(s, i);
                if (i == npos) return false;
            } else {
                const std::size_t value_len = token_length(s.substr(i));
                if (value_len == 0) return false;
                i += value_len;
            }
        }
    }
}

// chunk-size [ chunk-ext ], without CRLF.
ParseError parse_chunk_size_line(std::string_view line, std::uint64_t& size) noexcept {
    std::size_t digits = 0;
    std::uint64_t n = 0;
    for (; digits < line.size(); ++digits) {
        const int v = hex_value(line[digits]);
        if (v < 0) break;
        if (digits == 16) return {400, "chunk size too long"};  // a 17th digit could overflow
        n = (n << 4) | static_cast<std::uint64_t>(v);
    }
    if (digits == 0) return {400, "invalid chunk size"};
    if (!valid_chunk_extensions(line.substr(digits))) return {400, "invalid chunk extension"};
    size = n;
    return ok;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// RequestParser

RequestParser::RequestParser(ParserLimits limits) : limits_(limits) {
    // A field line needs at least 4 bytes ("a:" CRLF), so the byte limit also bounds the count.
    fields_.reserve(std::min({limits_.max_header_count, limits_.max_header_bytes / 4 + 1, max_reserved_fields}));
}

void RequestParser::reset() noexcept {
    fields_.clear();  // keeps the capacity: no allocation for the next request
    head_ = RequestHead{};
    error_ = ParseError{};
    head_size_ = 0;
    scanned_ = 0;
    line_start_ = 0;
    request_line_start_ = 0;
    request_line_end_ = 0;
    field_lines_ = 0;
    leading_empty_lines_ = 0;
}

ParseStatus RequestParser::fail(int status, std::string_view reason) noexcept {
    error_ = ParseError{status, reason};
    return ParseStatus::error;
}

ParseStatus RequestParser::parse(std::string_view data) {
    if (error_.status != 0) return ParseStatus::error;
    if (head_size_ != 0) return ParseStatus::complete;
    if (scanned_ > data.size()) reset();  // not the growing prefix we were promised: start over

    // Only line ends are found here (memchr, O(new bytes) per call), plus the request line, which is
    // checked as soon as it is complete so that garbage (TLS on a plain port, HTTP/2 prior knowledge)
    // is turned away at once. Field lines are validated once, when the whole head is present: views
    // cannot be kept before that because the caller's buffer may move between calls.
    const char* base = data.data();
    while (true) {
        const bool in_request_line = request_line_end_ == 0;
        // Where the current line must have ended at the latest: limit plus its CRLF.
        const std::size_t window_end = in_request_line ? sat_add(sat_add(line_start_, limits_.max_request_line), 2)
                                                       : sat_add(sat_add(request_line_end_, limits_.max_header_bytes), 2);
        const std::size_t end = std::min(data.size(), window_end);
        const void* lf = scanned_ < end ? std::memchr(base + scanned_, '\n', end - scanned_) : nullptr;
        if (lf == nullptr) {
            scanned_ = std::max(scanned_, end);
            // Judged only on a full window, so every split of the same bytes gives the same verdict.
            if (data.size() < window_end) return ParseStatus::incomplete;
            return in_request_line ? fail(414, "request line too long") : fail(431, "request header fields too large");
        }

        const auto lf_pos = static_cast<std::size_t>(static_cast<const char*>(lf) - base);
        scanned_ = lf_pos + 1;
        if (lf_pos == line_start_ || base[lf_pos - 1] != '\r') return fail(400, "bare LF in request head");
        const bool empty_line = lf_pos == line_start_ + 1;

        if (in_request_line) {
            if (empty_line) {
                if (++leading_empty_lines_ > max_leading_empty_lines) return fail(400, "empty lines before request line");
            } else {
                const ParseError e = parse_request_line(data.substr(line_start_, lf_pos - 1 - line_start_), head_);
                if (e.status != 0) return fail(e.status, e.reason);
                request_line_start_ = line_start_;
                request_line_end_ = scanned_;
            }
        } else if (empty_line) {
            head_size_ = scanned_;
            // Only grows past the constructor's reservation for limits above max_reserved_fields.
            if (fields_.capacity() < field_lines_) fields_.reserve(field_lines_);
            return parse_complete_head(data.substr(0, head_size_));
        } else if (++field_lines_ > limits_.max_header_count) {
            return fail(431, "too many header fields");
        }
        line_start_ = scanned_;
    }
}

ParseStatus RequestParser::parse_complete_head(std::string_view head) noexcept {
    // The request line was validated when it arrived; only its views must be re-pointed at this buffer
    // (their sizes are still right, their data pointers may be stale).
    const std::size_t method_size = head_.method_name.size();
    head_.method_name = head.substr(request_line_start_, method_size);
    head_.target = head.substr(request_line_start_ + method_size + 1, head_.target.size());

    // Every line here is known to end in CRLF: the scan checked each LF.
    fields_.clear();
    const std::size_t fields_end = head.size() - 2;  // start of the final empty line
    std::size_t pos = request_line_end_;
    while (pos < fields_end) {
        const auto* lf = static_cast<const char*>(std::memchr(head.data() + pos, '\n', fields_end - pos));
        const auto lf_pos = static_cast<std::size_t>(lf - head.data());
        Header field;
        if (const ParseError e = parse_field_line(head.substr(pos, lf_pos - 1 - pos), field); e.status != 0) {
            return fail(e.status, e.reason);
        }
        fields_.push_back(field);  // within the reserved capacity: the count was checked while scanning
        pos = lf_pos + 1;
    }
    head_.headers = fields_;

    if (const ParseError e = apply_fields(head_); e.status != 0) return fail(e.status, e.reason);
    return ParseStatus::complete;
}

// ---------------------------------------------------------------------------------------------
// ChunkedDecoder

ChunkedDecoder::ChunkedDecoder(ChunkedLimits limits) : limits_(limits) {}

void ChunkedDecoder::reset() noexcept {
    error_ = ParseError{};
    state_ = State::size_line;
    chunk_left_ = 0;
    body_bytes_ = 0;
    trailer_bytes_ = 0;
    line_scanned_ = 0;
}

ChunkedDecoder::Result ChunkedDecoder::fail(std::size_t consumed, int status, std::string_view reason) noexcept {
    error_ = ParseError{status, reason};
    return Result{consumed, ParseStatus::error};
}

ChunkedDecoder::Result ChunkedDecoder::decode(std::string_view in, std::string& out) {
    if (error_.status != 0) return Result{0, ParseStatus::error};
    std::size_t pos = 0;
    while (true) {
        switch (state_) {
            case State::done: return Result{pos, ParseStatus::complete};

            case State::size_line: {
                const LineScan s = scan_line(in, pos, limits_.max_line_bytes, line_scanned_);
                if (s.kind == LineScan::Kind::incomplete) return Result{pos, ParseStatus::incomplete};
                if (s.kind == LineScan::Kind::too_long) return fail(pos, 400, "chunk size line too long");
                if (s.kind == LineScan::Kind::bare_lf) return fail(pos, 400, "bare LF in chunked body");
                std::uint64_t size = 0;
                if (const ParseError e = parse_chunk_size_line(s.line, size); e.status != 0) {
                    return fail(pos, e.status, e.reason);
                }
                // Refuse before buffering anything: the size alone says the body will be too large.
                if (size > limits_.max_body_bytes - std::min(body_bytes_, limits_.max_body_bytes)) {
                    return fail(pos, 413, "chunked body too large");
                }
                pos = s.next;
                chunk_left_ = size;
                state_ = size == 0 ? State::trailer : State::data;
                break;
            }

            case State::data: {
                const std::size_t avail = in.size() - pos;
                if (avail == 0) return Result{pos, ParseStatus::incomplete};
                const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk_left_, avail));
                out.append(in.data() + pos, n);
                pos += n;
                chunk_left_ -= n;
                body_bytes_ += n;
                if (chunk_left_ == 0) state_ = State::data_crlf;
                break;
            }

            case State::data_crlf: {
                const std::size_t avail = in.size() - pos;
                if (avail == 0) return Result{pos, ParseStatus::incomplete};
                if (in[pos] != '\r') return fail(pos, 400, "missing CRLF after chunk data");
                if (avail == 1) return Result{pos, ParseStatus::incomplete};
                if (in[pos + 1] != '\n') return fail(pos, 400, "missing CRLF after chunk data");
                pos += 2;
                state_ = State::size_line;
                break;
            }

            case State::trailer: {
                const std::size_t budget = limits_.max_trailer_bytes - std::min(trailer_bytes_, limits_.max_trailer_bytes);
                const LineScan s = scan_line(in, pos, budget, line_scanned_);
                if (s.kind == LineScan::Kind::incomplete) return Result{pos, ParseStatus::incomplete};
                if (s.kind == LineScan::Kind::too_long) return fail(pos, 431, "trailer fields too large");
                if (s.kind == LineScan::Kind::bare_lf) return fail(pos, 400, "bare LF in chunked body");
                if (s.line.empty()) {
                    pos = s.next;
                    state_ = State::done;
                    break;
                }
                trailer_bytes_ += s.line.size() + 2;
                if (trailer_bytes_ > limits_.max_trailer_bytes) return fail(pos, 431, "trailer fields too large");
                Header ignored;
                if (const ParseError e = parse_field_line(s.line, ignored); e.status != 0) {
                    return fail(pos, e.status, e.reason);
                }
                pos = s.next;
                break;
            }
        }
    }
}

}  // namespace herald::http
