#pragma once
// Pure, incremental parsing of an HTTP/1.1 response head (RFC 9112 §4–§6), for our clients: the
// WebSocket handshake answer and the head of an event stream. No I/O; the head is copied out.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <herald/http/headers.hpp>
#include <herald/http/parser.hpp>

namespace herald::http {

/// How the body after a response head is delimited (RFC 9112 §6.3).
enum class ResponseBody : std::uint8_t { none, content_length, chunked, until_close };

/// A parsed response head, owned.
struct ResponseHead {
    int version_minor = 1;       ///< HTTP/1.<version_minor>
    int status = 0;              ///< 100–599
    std::string reason;          ///< the reason phrase as sent (may be empty)
    Headers headers;             ///< fields in order of arrival
    ResponseBody body = ResponseBody::until_close;
    std::uint64_t content_length = 0;  ///< valid when body == content_length
};

/// Parses one response head from the start of a buffer. Call parse() with the bytes received so far
/// (the same prefix plus more on each call); a head larger than `max_head_bytes` is an error.
class ResponseParser {
public:
    explicit ResponseParser(std::size_t max_head_bytes = 16 * 1024, std::size_t max_header_count = 100);

    /// complete: head() is valid and head_size() bytes were used; incomplete: more bytes are needed;
    /// error: error() says why. `request_was_head` marks responses without a body (answers to HEAD).
    ParseStatus parse(std::string_view data, bool request_was_head = false);
    const ResponseHead& head() const noexcept { return head_; }
    ResponseHead& head() noexcept { return head_; }
    std::size_t head_size() const noexcept { return head_size_; }
    /// Why parse() returned error (static text).
    std::string_view error() const noexcept { return error_; }
    /// Forgets the parsed head to parse another one.
    void reset() noexcept;

private:
    ParseStatus fail(std::string_view reason) noexcept;
    ParseStatus parse_head(std::string_view head, bool request_was_head);

    std::size_t max_head_bytes_;
    std::size_t max_header_count_;
    std::size_t scanned_ = 0;  // bytes already known not to hold the end of the head
    std::size_t head_size_ = 0;
    std::string_view error_;
    ResponseHead head_;
};

}  // namespace herald::http
