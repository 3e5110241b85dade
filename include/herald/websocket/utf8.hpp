#pragma once
// Incremental UTF-8 validation (RFC 3629) for WebSocket text messages and close reasons (RFC 6455 §8.1).
// Pure and allocation-free: a byte-class table drives a small state machine, with an ASCII fast path.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace herald::websocket {

/// Validates UTF-8 fed in pieces of any size. A code point may be split across feed() calls (message
/// fragments, socket reads); an invalid byte is reported as soon as it is fed, not at the end.
/// Rejects overlong forms, surrogates (U+D800–U+DFFF), code points above U+10FFFF and the bytes
/// 0xC0, 0xC1 and 0xF5–0xFF.
class Utf8Validator {
public:
    /// Feeds the next bytes. False at the first invalid byte: valid_bytes() then says how many bytes of
    /// `data` came before it, and every later call fails too until reset().
    bool feed(std::span<const char> data) noexcept;
    /// True when everything fed so far is valid and ends on a code point boundary (call at message end).
    bool complete() const noexcept { return state_ == accept_state; }
    /// True once an invalid byte was fed.
    bool failed() const noexcept { return state_ == reject_state; }
    /// Bytes of the last feed() that were valid: its size on success, the invalid byte's index on failure.
    std::size_t valid_bytes() const noexcept { return valid_bytes_; }
    /// Starts a new message.
    void reset() noexcept { state_ = accept_state; valid_bytes_ = 0; }

    // States of the machine, public so the tables in utf8.cpp can be built from them.
    static constexpr std::uint8_t accept_state = 0;
    static constexpr std::uint8_t reject_state = 1;

private:
    std::uint8_t state_ = accept_state;
    std::size_t valid_bytes_ = 0;
};

/// True when `data` is complete, valid UTF-8.
bool is_valid_utf8(std::span<const char> data) noexcept;

/// Length of the longest prefix of `data` made of whole valid code points (all of it when it is valid).
/// Used to cut text, e.g. a close reason, without splitting a character.
std::size_t valid_utf8_prefix(std::span<const char> data) noexcept;

}  // namespace herald::websocket
