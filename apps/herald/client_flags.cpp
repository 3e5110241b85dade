#include "client_flags.hpp"

#include <cstdio>

#include <asio/co_spawn.hpp>

#include <herald/error.hpp>

namespace herald::cli {

Headers parse_header_flags(const std::vector<std::string>& flags) {
    Headers headers;
    for (const auto& flag : flags) {
        const auto colon = flag.find(':');
        if (colon == std::string::npos || colon == 0)
            throw error("--header '" + flag + "' is not of the form 'Name: value'");
        headers.add(trim_ows(std::string_view(flag).substr(0, colon)), trim_ows(std::string_view(flag).substr(colon + 1)));
    }
    return headers;
}

std::string to_hex(std::span<const std::byte> bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (auto b : bytes) {
        const auto v = static_cast<unsigned>(b);
        out.push_back(digits[v >> 4]);
        out.push_back(digits[v & 0xf]);
    }
    return out;
}

std::string to_base64(std::span<const std::byte> bytes) {
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    for (std::size_t i = 0; i < bytes.size(); i += 3) {
        const std::size_t n = std::min<std::size_t>(3, bytes.size() - i);
        std::uint32_t group = 0;
        for (std::size_t k = 0; k < 3; ++k)
            group = (group << 8) | (k < n ? static_cast<std::uint32_t>(bytes[i + k]) : 0u);
        for (std::size_t k = 0; k < 4; ++k) out.push_back(k <= n ? alphabet[(group >> (18 - 6 * k)) & 0x3f] : '=');
    }
    return out;
}

std::string json_string(std::string_view text) {
    std::string out = "\"";
    for (unsigned char c : text) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    out += '"';
    return out;
}

void run_session(asio::io_context& io, Task<void> session) {
    asio::co_spawn(io, std::move(session), [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
    });
    io.run();
}

}  // namespace herald::cli
