// UTF-8 validation as a table-driven state machine over byte classes (RFC 3629 §4 grammar).
#include <herald/websocket/utf8.hpp>

#include <array>
#include <cstring>

namespace herald::websocket {
namespace {

// Byte classes: bytes that play the same role in the grammar share a column of the transition table.
enum Class : std::uint8_t {
    ascii,        // 00..7F
    cont_low,     // 80..8F: continuation; also the only second byte allowed after F4
    cont_mid,     // 90..9F: continuation; allowed after ED and F0..F3, not after F4
    cont_high,    // A0..BF: continuation; allowed after E0 and F0..F3, not after ED (surrogates)
    invalid,      // C0, C1 (overlong 2-byte leads) and F5..FF (beyond U+10FFFF)
    lead2,        // C2..DF
    lead_e0,      // E0: second byte A0..BF, else overlong
    lead3,        // E1..EC, EE, EF
    lead_ed,      // ED: second byte 80..9F, else a surrogate
    lead_f0,      // F0: second byte 90..BF, else overlong
    lead4,        // F1..F3
    lead_f4,      // F4: second byte 80..8F, else above U+10FFFF
    class_count
};

// States besides accept (0) and reject (1): how many continuation bytes remain and which are allowed.
enum State : std::uint8_t {
    s_accept = Utf8Validator::accept_state,
    s_reject = Utf8Validator::reject_state,
    s_need1,      // one continuation byte (80..BF) left
    s_need2,      // two left
    s_need3,      // three left
    s_after_e0,   // second byte of E0 xx xx must be A0..BF
    s_after_ed,   // second byte of ED xx xx must be 80..9F
    s_after_f0,   // second byte of F0 xx xx xx must be 90..BF
    s_after_f4,   // second byte of F4 xx xx xx must be 80..8F
    state_count
};

constexpr std::array<std::uint8_t, 256> make_classes() {
    std::array<std::uint8_t, 256> c{};
    for (int b = 0; b < 256; ++b) {
        std::uint8_t k = invalid;
        if (b < 0x80) k = ascii;
        else if (b < 0x90) k = cont_low;
        else if (b < 0xA0) k = cont_mid;
        else if (b < 0xC0) k = cont_high;
        else if (b < 0xC2) k = invalid;
        else if (b < 0xE0) k = lead2;
        else if (b == 0xE0) k = lead_e0;
        else if (b == 0xED) k = lead_ed;
        else if (b < 0xF0) k = lead3;
        else if (b == 0xF0) k = lead_f0;
        else if (b < 0xF4) k = lead4;
        else if (b == 0xF4) k = lead_f4;
        c[static_cast<std::size_t>(b)] = k;
    }
    return c;
}

using Table = std::array<std::array<std::uint8_t, class_count>, state_count>;

constexpr Table make_transitions() {
    Table t{};
    for (auto& row : t) row.fill(s_reject);
    auto& a = t[s_accept];
    a[ascii] = s_accept;
    a[lead2] = s_need1;
    a[lead_e0] = s_after_e0;
    a[lead3] = s_need2;
    a[lead_ed] = s_after_ed;
    a[lead_f0] = s_after_f0;
    a[lead4] = s_need3;
    a[lead_f4] = s_after_f4;
    for (const std::uint8_t k : {cont_low, cont_mid, cont_high}) {
        t[s_need1][k] = s_accept;
        t[s_need2][k] = s_need1;
        t[s_need3][k] = s_need2;
    }
    t[s_after_e0][cont_high] = s_need1;
    t[s_after_ed][cont_low] = s_need1;
    t[s_after_ed][cont_mid] = s_need1;
    t[s_after_f0][cont_mid] = s_need2;
    t[s_after_f0][cont_high] = s_need2;
    t[s_after_f4][cont_low] = s_need2;
    return t;
}

// The two tables folded into one 64-bit row per byte (a "shift DFA"): bits 6s..6s+5 of row[b] hold
// 6 × (the state after byte b in state s). Keeping the state as that multiple of 6, one step is a shift
// of a row chosen by the byte alone, so consecutive steps do not wait on a table load that depends on
// the previous state: multibyte text validates about twice as fast as with nested tables.
constexpr unsigned bits_per_state = 6;
static_assert(state_count * bits_per_state <= 64);

constexpr std::array<std::uint64_t, 256> make_rows() {
    constexpr auto classes = make_classes();
    constexpr auto transitions = make_transitions();
    std::array<std::uint64_t, 256> rows{};
    for (std::size_t b = 0; b < 256; ++b)
        for (std::size_t s = 0; s < state_count; ++s)
            rows[b] |= std::uint64_t{transitions[s][classes[b]] * bits_per_state} << (s * bits_per_state);
    return rows;
}

constexpr auto rows = make_rows();

constexpr std::uint64_t high_bits = 0x8080808080808080ULL;

inline std::uint64_t load64(const unsigned char* p) noexcept {
    std::uint64_t w;
    std::memcpy(&w, p, sizeof w);
    return w;
}

// `shift` is 6 × state.
inline unsigned step(unsigned shift, unsigned char byte) noexcept {
    return static_cast<unsigned>(rows[byte] >> shift) & 63u;
}

constexpr unsigned accept_shift = s_accept * bits_per_state;
constexpr unsigned reject_shift = s_reject * bits_per_state;

}  // namespace

bool Utf8Validator::feed(std::span<const char> data) noexcept {
    if (state_ == reject_state) {
        valid_bytes_ = 0;
        return false;
    }
    const auto* p = reinterpret_cast<const unsigned char*>(data.data());
    const std::size_t n = data.size();
    unsigned s = state_ * bits_per_state;
    std::size_t i = 0;
    while (i < n) {
        // Between code points, skip runs of ASCII a word at a time: most text is mostly ASCII.
        if (s == accept_shift && p[i] < 0x80) {
            while (i + 16 <= n && ((load64(p + i) | load64(p + i + 8)) & high_bits) == 0) i += 16;
            while (i + 8 <= n && (load64(p + i) & high_bits) == 0) i += 8;
            while (i < n && p[i] < 0x80) ++i;
            if (i == n) break;
        }
        s = step(s, p[i]);
        if (s == reject_shift) {
            state_ = reject_state;
            valid_bytes_ = i;
            return false;
        }
        ++i;
    }
    state_ = static_cast<std::uint8_t>(s / bits_per_state);
    valid_bytes_ = n;
    return true;
}

bool is_valid_utf8(std::span<const char> data) noexcept {
    Utf8Validator v;
    return v.feed(data) && v.complete();
}

std::size_t valid_utf8_prefix(std::span<const char> data) noexcept {
    const auto* p = reinterpret_cast<const unsigned char*>(data.data());
    unsigned s = accept_shift;
    std::size_t boundary = 0;  // end of the last whole code point
    for (std::size_t i = 0; i < data.size(); ++i) {
        s = step(s, p[i]);
        if (s == reject_shift) break;
        if (s == accept_shift) boundary = i + 1;
    }
    return boundary;
}

}  // namespace herald::websocket
