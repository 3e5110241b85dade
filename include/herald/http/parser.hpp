#pragma once
// Pure, incremental HTTP/1.1 request parsing (RFC 9112): no I/O, no allocation in steady state.
// Views returned by the parser point into the caller's buffer and stay valid while it is unchanged.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <herald/http/headers.hpp>
#include <herald/http/method.hpp>

namespace herald::http {

/// Limits enforced while parsing; crossing one is an error with the given status, never a buffer grown past it.
struct ParserLimits {
    std::size_t max_request_line = 8 * 1024;   ///< request line bytes without CRLF; over it → 414
    std::size_t max_header_bytes = 16 * 1024;  ///< header block bytes after the request line; over it → 431
    std::size_t max_header_count = 100;        ///< header fields; over it → 431
};

/// Why a message was rejected: the HTTP status to answer with and a short human-readable reason.
struct ParseError {
    int status = 0;            ///< 400, 413, 414, 417, 431, 501 or 505
    std::string_view reason;   ///< static text, e.g. "Content-Length with Transfer-Encoding"
};

enum class ParseStatus : std::uint8_t { complete, incomplete, error };

/// How the body of a parsed request is delimited.
enum class BodyKind : std::uint8_t { none, content_length, chunked };

/// The parsed request head. All views point into the buffer passed to RequestParser::parse().
struct RequestHead {
    Method method = Method::get;
    std::string_view method_name;    ///< the method token as sent
    std::string_view target;         ///< request-target as sent (origin-form, absolute-form, '*' or authority)
    int version_minor = 1;           ///< HTTP/1.<version_minor>: 0 or 1
    std::span<const Header> headers; ///< fields in order of arrival
    std::string_view host;           ///< the Host field value (may be empty for HTTP/1.0)
    BodyKind body = BodyKind::none;
    std::uint64_t content_length = 0; ///< valid when body == content_length
    bool keep_alive = true;           ///< after Connection tokens and version defaults
    bool expect_continue = false;     ///< "Expect: 100-continue" was sent
    bool upgrade = false;             ///< Connection has the "upgrade" token and an Upgrade field is present
};

/// Parses one request head at a time from the start of a buffer. Call parse() with the bytes received
/// so far (the same prefix plus more on each call); it remembers how far it scanned, so repeated calls
/// cost O(new bytes) until the head is complete. Then handle the body, reset(), and parse the next request.
class RequestParser {
public:
    explicit RequestParser(ParserLimits limits = {});

    /// Parses `data`. complete: head() is valid and head_size() bytes were used; incomplete: more bytes
    /// are needed (limits already checked against what is there); error: error() says why.
    ParseStatus parse(std::string_view data);

    /// The parsed head, valid after parse() returned complete and until the buffer changes or reset().
    const RequestHead& head() const noexcept { return head_; }
    /// Bytes of the head including the final empty line, after parse() returned complete.
    std::size_t head_size() const noexcept { return head_size_; }
    /// The reason for the last error status.
    const ParseError& error() const noexcept { return error_; }
    /// Forgets the previous request; the next parse() starts at a new request.
    void reset() noexcept;
    const ParserLimits& limits() const noexcept { return limits_; }

private:
    ParseStatus fail(int status, std::string_view reason) noexcept;
    ParseStatus parse_complete_head(std::string_view head) noexcept;

    ParserLimits limits_;
    std::vector<Header> fields_;  // capacity reserved once: max_header_count
    RequestHead head_;
    ParseError error_;
    std::size_t head_size_ = 0;
    std::size_t scanned_ = 0;     // bytes already searched for the end of the head
    // Offsets, not views: the caller's buffer may move between calls while the head is incomplete.
    std::size_t line_start_ = 0;          // start of the line being scanned
    std::size_t request_line_start_ = 0;  // after tolerated leading empty lines
    std::size_t request_line_end_ = 0;    // just after the request line's CRLF; 0 until it is seen
    std::size_t field_lines_ = 0;         // complete header lines seen so far
    std::size_t leading_empty_lines_ = 0; // CRLFs before the request line (RFC 9112 §2.2)
};

/// Limits of a chunked body decoder.
struct ChunkedLimits {
    std::uint64_t max_body_bytes = 1024 * 1024;  ///< decoded payload; over it → 413
    std::size_t max_line_bytes = 4096;           ///< one chunk-size line with extensions; over it → 400
    std::size_t max_trailer_bytes = 16 * 1024;   ///< all trailer fields together; over it → 431
};

/// Incremental decoder of a chunked request body (RFC 9112 §7.1). Feed it bytes in any split; it appends
/// payload bytes to `out` and reports how many input bytes it consumed. Extensions are skipped, trailer
/// fields are validated and discarded.
class ChunkedDecoder {
public:
    struct Result {
        std::size_t consumed = 0;   ///< input bytes used; unconsumed bytes must be offered again with more
        ParseStatus status = ParseStatus::incomplete;
    };

    explicit ChunkedDecoder(ChunkedLimits limits = {});

    /// Decodes from `in`, appending payload to `out`. complete: the body ended after `consumed` bytes
    /// (bytes after it belong to the next request); error: error() says why.
    Result decode(std::string_view in, std::string& out);
    const ParseError& error() const noexcept { return error_; }
    /// Total payload bytes decoded so far.
    std::uint64_t body_bytes() const noexcept { return body_bytes_; }
    void reset() noexcept;
    void set_limits(const ChunkedLimits& limits) noexcept { limits_ = limits; }

private:
    Result fail(std::size_t consumed, int status, std::string_view reason) noexcept;

    enum class State : std::uint8_t { size_line, data, data_crlf, trailer, done };
    ChunkedLimits limits_;
    ParseError error_;
    State state_ = State::size_line;
    std::uint64_t chunk_left_ = 0;
    std::uint64_t body_bytes_ = 0;
    std::size_t trailer_bytes_ = 0;
    std::size_t line_scanned_ = 0;  // bytes of the unconsumed pending line already known to hold no LF
};

}  // namespace herald::http
