#pragma once
// An exception that carries the HTTP answer to send, for failures inside handlers (e.g. a refused upgrade).
#include <string>
#include <utility>

#include <herald/error.hpp>
#include <herald/http/response.hpp>

namespace herald {

/// Thrown from a handler (or an API it calls) to answer with `response` instead of a 500.
class HttpError : public error {
public:
    explicit HttpError(Response response, const std::string& what = "HTTP error")
        : error(what), response_(std::move(response)) {}
    const Response& response() const noexcept { return response_; }

private:
    Response response_;
};

}  // namespace herald
