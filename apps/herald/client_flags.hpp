#pragma once
// Flags and output helpers shared by `herald ws` and `herald sse`.
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <asio/io_context.hpp>

#include <herald/http/headers.hpp>
#include <herald/task.hpp>

namespace herald::cli {

/// Headers from repeated `--header "Name: value"` flags; throws herald::error for one without a colon.
Headers parse_header_flags(const std::vector<std::string>& flags);

/// Lower-case hex of `bytes`.
std::string to_hex(std::span<const std::byte> bytes);
/// Standard base64 (RFC 4648) of `bytes`, padded.
std::string to_base64(std::span<const std::byte> bytes);
/// `text` as a JSON string literal, quotes included.
std::string json_string(std::string_view text);

/// Runs a client's `session` on `io` until nothing is left to do; rethrows what the session threw.
void run_session(asio::io_context& io, Task<void> session);

}  // namespace herald::cli
