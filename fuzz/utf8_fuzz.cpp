// libFuzzer target for the incremental UTF-8 validator.
//
// Input byte 0 seeds how the rest is split into pieces; the pieces are fed one by one and the result is
// compared with a deliberately simple reference validator written here (decode each sequence, then
// reject what RFC 3629 excludes): the first failure must happen in the piece holding the first invalid
// byte, at its offset; complete() must hold exactly when the whole input is valid; is_valid_utf8() and
// valid_utf8_prefix() must agree with the reference too.
#include <herald/websocket/utf8.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "fuzz_check.hpp"

namespace {

using namespace herald::websocket;


struct Reference {
    std::size_t first_error;  // index of the first byte that cannot continue valid UTF-8, or npos
    bool truncated;           // no invalid byte, but the input ends inside a sequence
    std::size_t boundary;     // end of the last whole code point before any error or truncation
};

// Decodes sequence by sequence. A lead byte that never occurs in UTF-8 is the invalid byte; otherwise a
// sequence's value range is known after its second byte, so an overlong form, a surrogate or a value
// above U+10FFFF is reported at that byte; a missing continuation at the byte that is not one.
Reference reference(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto b = static_cast<unsigned char>(s[i]);
        const std::size_t start = i;
        if (b < 0x80) {
            ++i;
            continue;
        }
        // Bytes that start no valid sequence at all are invalid themselves.
        if (b == 0xC0 || b == 0xC1 || b >= 0xF5) return {i, false, start};
        int need;
        std::uint32_t cp;
        if ((b & 0xE0) == 0xC0) { need = 1; cp = b & 0x1Fu; }
        else if ((b & 0xF0) == 0xE0) { need = 2; cp = b & 0x0Fu; }
        else if ((b & 0xF8) == 0xF0) { need = 3; cp = b & 0x07u; }
        else return {i, false, start};
        ++i;
        for (int k = 0; k < need; ++k, ++i) {
            if (i == s.size()) return {std::string_view::npos, true, start};
            const auto c = static_cast<unsigned char>(s[i]);
            if ((c & 0xC0) != 0x80) return {i, false, start};
            cp = (cp << 6) | (c & 0x3Fu);
            if (k == 0) {
                // The smallest and largest values this sequence can still encode.
                const int rest = 6 * (need - 1);
                const std::uint32_t low = cp << rest;
                const std::uint32_t high = low | ((1u << rest) - 1);
                const std::uint32_t min = need == 1 ? 0x80 : need == 2 ? 0x800 : 0x10000;
                if (high < min || low > 0x10FFFF || (low >= 0xD800 && high <= 0xDFFF)) return {i, false, start};
            }
        }
    }
    return {std::string_view::npos, false, s.size()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    std::uint32_t rng = data[0] * 2654435761u + 1;
    const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    const Reference ref = reference(text);

    Utf8Validator v;
    std::size_t pos = 0;
    bool failed = false;
    while (pos < text.size()) {
        rng = rng * 1103515245u + 12345u;
        // Mostly short pieces, sometimes long ones so the word-at-a-time path runs inside a piece.
        const std::size_t want = (rng >> 16) % 4 == 0 ? 1 + (rng >> 20) % 64 : 1 + (rng >> 20) % 5;
        const std::size_t n = want < text.size() - pos ? want : text.size() - pos;
        const bool ok = v.feed(text.substr(pos, n));
        if (ref.first_error != std::string_view::npos && ref.first_error < pos + n) {
            FUZZ_CHECK(!ok);
            FUZZ_CHECK(v.failed());
            FUZZ_CHECK(v.valid_bytes() == ref.first_error - pos);
            failed = true;
            break;
        }
        FUZZ_CHECK(ok);
        FUZZ_CHECK(v.valid_bytes() == n);
        pos += n;
    }
    FUZZ_CHECK(failed == (ref.first_error != std::string_view::npos));
    if (!failed) {
        FUZZ_CHECK(v.complete() == !ref.truncated);
    } else {
        FUZZ_CHECK(!v.complete() && !v.feed(std::string_view("a")));  // a failure sticks
    }

    const bool valid = ref.first_error == std::string_view::npos && !ref.truncated;
    FUZZ_CHECK(is_valid_utf8(text) == valid);
    FUZZ_CHECK(valid_utf8_prefix(text) == ref.boundary);

    // In one piece the validator must agree with itself fed in pieces.
    Utf8Validator whole;
    const bool whole_ok = whole.feed(text);
    FUZZ_CHECK(whole_ok == (ref.first_error == std::string_view::npos));
    if (!whole_ok) FUZZ_CHECK(whole.valid_bytes() == ref.first_error);
    return 0;
}
