#pragma once
// A response body's payload, from the bytes that follow its head, whatever its framing (RFC 9112 §6.3):
// none, Content-Length, chunked, or until the server closes. Pure: the caller reads, this decodes.
#include <cstdint>
#include <string>
#include <string_view>

#include <herald/http/parser.hpp>
#include <herald/http/response_parser.hpp>

namespace herald::client {

class BodyDecoder {
public:
    struct Result {
        std::string_view payload;  ///< decoded bytes: a view into the input, or into the decoder (chunked)
        http::ParseStatus status = http::ParseStatus::incomplete;  ///< complete: the body ended; error: error()
    };

    /// Decodes the body announced by `head`; a chunked body may hold up to `max_body_bytes` in all.
    explicit BodyDecoder(const http::ResponseHead& head, std::uint64_t max_body_bytes = UINT64_MAX);

    /// The payload in the next bytes read. The result's payload is valid until the next call. Bytes after
    /// the end of the body are ignored.
    Result decode(std::string_view in);
    /// The connection closed: true when that ends the body properly (until_close, or already complete).
    bool end_of_input() const noexcept;
    /// Why decode() returned error.
    std::string_view error() const noexcept { return chunked_.error().reason; }

private:
    http::ResponseBody framing_;
    std::uint64_t remaining_;        // content_length: payload bytes still to come
    http::ChunkedDecoder chunked_;
    std::string pending_;            // chunked: input not consumed yet (a partial size line or trailer)
    std::string payload_;            // chunked: the decoded bytes of the last call
    bool complete_ = false;
};

}  // namespace herald::client
