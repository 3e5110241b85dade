// Response heads are small and parsed once per connection (or reconnect): clarity over speed.
// Lines may end in CRLF or a bare LF (RFC 9112 §2.2 lets a recipient accept it).
#include <herald/http/response_parser.hpp>

#include <charconv>

namespace herald::http {
namespace {

bool is_tchar(char c) noexcept {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    switch (c) {
        case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-': case '.':
        case '^': case '_': case '`': case '|': case '~': return true;
        default: return false;
    }
}

bool is_field_value_char(unsigned char c) noexcept { return c == '\t' || (c >= 0x20 && c != 0x7f); }

// The next line of `rest` without its terminator; advances `rest` past it.
std::string_view take_line(std::string_view& rest) noexcept {
    const auto lf = rest.find('\n');
    std::string_view line = rest.substr(0, lf);
    rest.remove_prefix(lf == std::string_view::npos ? rest.size() : lf + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
}

// Where the head ends (just past its empty line), scanning from `from`; npos when not yet there.
std::size_t find_head_end(std::string_view data, std::size_t from) noexcept {
    for (std::size_t i = data.find('\n', from); i != std::string_view::npos; i = data.find('\n', i + 1)) {
        // An empty line: LF right after the previous LF, or after "\n\r".
        if (i >= 1 && data[i - 1] == '\n') return i + 1;
        if (i >= 2 && data[i - 1] == '\r' && data[i - 2] == '\n') return i + 1;
    }
    return std::string_view::npos;
}

}  // namespace

ResponseParser::ResponseParser(std::size_t max_head_bytes, std::size_t max_header_count)
    : max_head_bytes_(max_head_bytes), max_header_count_(max_header_count) {}

void ResponseParser::reset() noexcept {
    scanned_ = 0;
    head_size_ = 0;
    error_ = {};
    head_ = ResponseHead{};
}

ParseStatus ResponseParser::fail(std::string_view reason) noexcept {
    error_ = reason;
    return ParseStatus::error;
}

ParseStatus ResponseParser::parse(std::string_view data, bool request_was_head) {
    if (!error_.empty()) return ParseStatus::error;
    if (head_size_ != 0) return ParseStatus::complete;
    // The terminator may straddle the previous scan's end: look back two bytes.
    const std::size_t end = find_head_end(data, scanned_ >= 2 ? scanned_ - 2 : 0);
    if (end == std::string_view::npos) {
        if (data.size() > max_head_bytes_) return fail("response head too large");
        scanned_ = data.size();
        return ParseStatus::incomplete;
    }
    if (end > max_head_bytes_) return fail("response head too large");
    const ParseStatus status = parse_head(data.substr(0, end), request_was_head);
    if (status == ParseStatus::complete) head_size_ = end;
    return status;
}

ParseStatus ResponseParser::parse_head(std::string_view rest, bool request_was_head) {
    // status-line = HTTP-version SP status-code SP [ reason-phrase ]
    const std::string_view line = take_line(rest);
    if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || line[8] != ' ' || line[7] < '0' || line[7] > '9')
        return fail("malformed status line");
    head_.version_minor = line[7] - '0';
    const std::string_view code = line.substr(9, 3);
    int status = 0;
    auto [ptr, ec] = std::from_chars(code.data(), code.data() + code.size(), status);
    if (ec != std::errc{} || ptr != code.data() + 3 || status < 100 || status > 599) return fail("malformed status code");
    if (line.size() > 12 && line[12] != ' ') return fail("malformed status line");
    head_.status = status;
    head_.reason = line.size() > 13 ? std::string(line.substr(13)) : std::string();
    for (unsigned char c : head_.reason)
        if (!is_field_value_char(c)) return fail("invalid character in reason phrase");

    std::size_t count = 0;
    for (std::string_view field = take_line(rest); !field.empty(); field = take_line(rest)) {
        if (field.front() == ' ' || field.front() == '\t') return fail("obsolete line folding in response header");
        const auto colon = field.find(':');
        if (colon == std::string_view::npos || colon == 0) return fail("malformed response header field");
        const std::string_view name = field.substr(0, colon);
        for (char c : name)
            if (!is_tchar(c)) return fail("invalid character in response header name");
        const std::string_view value = trim_ows(field.substr(colon + 1));
        for (unsigned char c : value)
            if (!is_field_value_char(c)) return fail("invalid character in response header value");
        if (++count > max_header_count_) return fail("too many response header fields");
        head_.headers.add(name, value);
    }

    // Body framing (RFC 9112 §6.3).
    if (request_was_head || status < 200 || status == 204 || status == 304) {
        head_.body = ResponseBody::none;
        return ParseStatus::complete;
    }
    if (auto te = head_.headers.get("Transfer-Encoding")) {
        if (head_.headers.contains("Content-Length")) return fail("Content-Length with Transfer-Encoding");
        // Chunked only when it is the final coding; otherwise the body runs until the connection closes.
        const auto last_comma = te->rfind(',');
        const auto last = trim_ows(last_comma == std::string_view::npos ? *te : te->substr(last_comma + 1));
        head_.body = iequals(last, "chunked") ? ResponseBody::chunked : ResponseBody::until_close;
        return ParseStatus::complete;
    }
    if (auto cl = head_.headers.get("Content-Length")) {
        std::uint64_t n = 0;
        auto [p, e] = std::from_chars(cl->data(), cl->data() + cl->size(), n);
        if (cl->empty() || e != std::errc{} || p != cl->data() + cl->size()) return fail("malformed Content-Length");
        // Repeated fields must agree.
        for (const auto& [fname, fvalue] : head_.headers)
            if (iequals(fname, "Content-Length") && trim_ows(fvalue) != *cl)
                return fail("conflicting Content-Length fields");
        head_.body = ResponseBody::content_length;
        head_.content_length = n;
        return ParseStatus::complete;
    }
    head_.body = ResponseBody::until_close;
    return ParseStatus::complete;
}

}  // namespace herald::http
