#pragma once
// The exception our clients (WebSocket, Server-Sent Events) throw when a connection cannot be opened.
#include <string>

#include <herald/error.hpp>

namespace herald {

/// Thrown when a client cannot open its connection: the server is unreachable, the exchange times out,
/// or the server's answer is not an acceptance (then http_status() is its status code).
class ConnectError : public herald::error {
public:
    ConnectError(const std::string& what, int http_status = 0) : herald::error(what), http_status_(http_status) {}
    /// The server's HTTP status (e.g. 403, or 101 with a bad Sec-WebSocket-Accept); 0 before a response.
    int http_status() const noexcept { return http_status_; }

private:
    int http_status_;
};

}  // namespace herald
