#pragma once
// An HTTP response: status, headers and a body from a string, a file or a chunked stream.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>

#include <herald/http/headers.hpp>
#include <herald/task.hpp>

namespace herald {

/// The standard reason phrase of a status code ("Not Found"), or "Unknown".
std::string_view reason_phrase(int status) noexcept;

/// A region of an open file sent as the body (with sendfile). The descriptor is shared and closed
/// when the last copy goes away.
struct FileBody {
    std::shared_ptr<const int> fd;  ///< open, readable descriptor
    std::uint64_t offset = 0;       ///< first byte to send
    std::uint64_t length = 0;       ///< bytes to send
};

/// Writes the chunks of a streamed (chunked) response body; given to a stream producer.
class BodyWriter {
public:
    virtual ~BodyWriter() = default;
    /// Sends one chunk (empty data is ignored); the error is set when the client is gone.
    virtual Task<std::error_code> write(std::string_view data) = 0;
};

/// Produces a streamed body; the response ends (last chunk) when the coroutine returns.
using StreamProducer = std::function<Task<void>(BodyWriter&)>;

/// A streamed body: sent with Transfer-Encoding: chunked (or until close to HTTP/1.0 clients).
struct StreamBody {
    StreamProducer producer;
};

/// The response a handler returns. Content-Length, Date, Server and Connection are added by the server.
class Response {
public:
    using Body = std::variant<std::string, FileBody, StreamBody>;

    /// An empty response with this status.
    explicit Response(int status = 200) : status_(status) {}
    /// A response with a body and its Content-Type.
    Response(int status, std::string body, std::string_view content_type);

    /// 200 (or `status`) with a text/plain UTF-8 body.
    static Response text(std::string body, int status = 200);
    /// 200 (or `status`) with a text/html UTF-8 body.
    static Response html(std::string body, int status = 200);
    /// 200 (or `status`) with an application/json body.
    static Response json(std::string body, int status = 200);
    /// 200 with a binary body (application/octet-stream unless `content_type` says otherwise).
    static Response bytes(std::span<const std::byte> body, std::string_view content_type = "application/octet-stream");
    /// A chunked body written by `producer` as the data becomes available.
    static Response stream(StreamProducer producer, std::string_view content_type = "application/octet-stream");
    /// An error response: `status` with "reason" as a plain-text body.
    static Response error(int status, std::string_view reason = {});
    /// 3xx redirect to `location` (302 by default).
    static Response redirect(std::string_view location, int status = 302);

    int status() const noexcept { return status_; }
    Response& set_status(int status) noexcept { status_ = status; return *this; }
    Headers& headers() noexcept { return headers_; }
    const Headers& headers() const noexcept { return headers_; }
    /// Sets (replaces) one header field; returns *this for chaining.
    Response& header(std::string_view name, std::string_view value) { headers_.set(name, value); return *this; }

    Body& body() noexcept { return body_; }
    const Body& body() const noexcept { return body_; }
    /// The body when it is a string (nullptr for file and stream bodies).
    const std::string* body_text() const noexcept { return std::get_if<std::string>(&body_); }
    Response& set_body(std::string body) { body_ = std::move(body); return *this; }
    Response& set_file(FileBody file) { body_ = std::move(file); return *this; }

    /// True when the response must not carry a body (1xx, 204, 304).
    bool bodiless() const noexcept { return (status_ >= 100 && status_ < 200) || status_ == 204 || status_ == 304; }

private:
    int status_ = 200;
    Headers headers_;
    Body body_;
};

}  // namespace herald
