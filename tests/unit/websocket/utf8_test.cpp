// Utf8Validator: RFC 3629 boundaries, every rejected form, exhaustive short sequences against a
// reference decoder, and incremental feeding where an invalid byte is reported exactly where it is.
#include <herald/websocket/utf8.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace herald::websocket {
namespace {

std::string bytes(std::initializer_list<int> list) {
    std::string s;
    for (int b : list) s.push_back(static_cast<char>(b));
    return s;
}

// Encodes any value up to 0x7FFFFFFF in the shortest form for its range, surrogates included: the
// validator has to tell which of these are legal.
std::string encode(std::uint32_t cp, int length = 0) {
    if (length == 0) length = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    std::string s;
    if (length == 1) {
        s.push_back(static_cast<char>(cp));
        return s;
    }
    const int lead_bits[] = {0, 0, 0xC0, 0xE0, 0xF0};
    s.push_back(static_cast<char>(lead_bits[length] | (cp >> (6 * (length - 1)))));
    for (int i = length - 2; i >= 0; --i) s.push_back(static_cast<char>(0x80 | ((cp >> (6 * i)) & 0x3F)));
    return s;
}

// A straightforward decoder-based reference: decode each sequence, then reject overlongs, surrogates
// and values above U+10FFFF. Returns the index of the first invalid byte, or npos when valid, or
// `size` when the input ends inside a sequence.
std::size_t reference_first_error(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto b = static_cast<unsigned char>(s[i]);
        int need = 0;
        std::uint32_t cp = 0;
        std::uint32_t min = 0;
        if (b < 0x80) { ++i; continue; }
        if (b >= 0xC2 && b <= 0xDF) { need = 1; cp = b & 0x1F; min = 0x80; }
        else if (b >= 0xE0 && b <= 0xEF) { need = 2; cp = b & 0x0F; min = 0x800; }
        else if (b >= 0xF0 && b <= 0xF4) { need = 3; cp = b & 0x07; min = 0x10000; }
        else return i;
        ++i;
        for (int k = 0; k < need; ++k, ++i) {
            if (i == s.size()) return s.size();
            const auto c = static_cast<unsigned char>(s[i]);
            if ((c & 0xC0) != 0x80) return i;
            cp = (cp << 6) | (c & 0x3F);
            // The earliest byte that makes the value impossible is the invalid one; for these forms
            // that is always the second byte, which already fixes the range.
            if (k == 0) {
                const std::uint32_t low = cp << (6 * (need - 1));
                const std::uint32_t high = low | ((1u << (6 * (need - 1))) - 1);
                if (high < min || low > 0x10FFFF || (low >= 0xD800 && high <= 0xDFFF)) return i;
            }
        }
    }
    return std::string_view::npos;
}

bool valid(std::string_view s) { return is_valid_utf8(s); }

TEST(Utf8, AcceptsValidText) {
    EXPECT_TRUE(valid(""));
    EXPECT_TRUE(valid("plain ASCII, long enough to take the word-at-a-time path: 0123456789"));
    EXPECT_TRUE(valid("κόσμε"));
    EXPECT_TRUE(valid("日本語のテキスト"));
    EXPECT_TRUE(valid("emoji 😀 and 𝄞 clef"));
    EXPECT_TRUE(valid(std::string(1, '\0') + "nul is valid"));
}

TEST(Utf8, Boundaries) {
    for (const std::uint32_t cp : {0x0u, 0x7Fu, 0x80u, 0x7FFu, 0x800u, 0xFFFu, 0x1000u, 0xD7FFu, 0xE000u, 0xFFFDu,
                                   0xFFFEu, 0xFFFFu, 0x10000u, 0x3FFFFu, 0x40000u, 0xFFFFFu, 0x100000u, 0x10FFFFu})
        EXPECT_TRUE(valid(encode(cp))) << std::hex << cp;
    EXPECT_FALSE(valid(encode(0x110000)));
    EXPECT_FALSE(valid(encode(0x13FFFF)));
    EXPECT_FALSE(valid(encode(0x1FFFFF)));
}

TEST(Utf8, RejectsSurrogates) {
    for (std::uint32_t cp = 0xD800; cp <= 0xDFFF; ++cp) EXPECT_FALSE(valid(encode(cp))) << std::hex << cp;
    // A CESU-8 style surrogate pair is not UTF-8 either.
    EXPECT_FALSE(valid(bytes({0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80})));
}

TEST(Utf8, RejectsOverlongForms) {
    for (std::uint32_t cp = 0; cp < 0x80; ++cp) EXPECT_FALSE(valid(encode(cp, 2))) << cp;
    for (std::uint32_t cp = 0; cp < 0x800; ++cp) EXPECT_FALSE(valid(encode(cp, 3))) << cp;
    for (std::uint32_t cp = 0; cp < 0x10000; cp += 7) EXPECT_FALSE(valid(encode(cp, 4))) << cp;
    EXPECT_FALSE(valid(bytes({0xC0, 0x80})));        // the "modified UTF-8" NUL
    EXPECT_FALSE(valid(bytes({0xC0, 0xAF})));        // overlong '/'
    EXPECT_FALSE(valid(bytes({0xE0, 0x80, 0xAF})));
    EXPECT_FALSE(valid(bytes({0xF0, 0x80, 0x80, 0xAF})));
    EXPECT_FALSE(valid(bytes({0xF8, 0x80, 0x80, 0x80, 0xAF})));  // 5-byte forms never existed
    EXPECT_FALSE(valid(bytes({0xFC, 0x80, 0x80, 0x80, 0x80, 0xAF})));
}

TEST(Utf8, RejectsBytesThatNeverAppear) {
    for (int b : {0xC0, 0xC1, 0xF5, 0xF6, 0xF7, 0xF8, 0xF9, 0xFA, 0xFB, 0xFC, 0xFD, 0xFE, 0xFF}) {
        EXPECT_FALSE(valid(bytes({b}))) << b;
        EXPECT_FALSE(valid(bytes({b, 0x80}))) << b;
        EXPECT_FALSE(valid(bytes({b, 0x80, 0x80, 0x80}))) << b;
    }
}

TEST(Utf8, RejectsStrayAndMissingContinuations) {
    for (int b = 0x80; b < 0xC0; ++b) EXPECT_FALSE(valid(bytes({b}))) << b;
    EXPECT_FALSE(valid(bytes({'a', 0x80, 'b'})));
    EXPECT_FALSE(valid(bytes({0xC3, 'a'})));
    EXPECT_FALSE(valid(bytes({0xE2, 0x82, 'a'})));
    EXPECT_FALSE(valid(bytes({0xF0, 0x9F, 0x98, 'a'})));
    EXPECT_FALSE(valid(bytes({0xC3, 0xA9, 0xA9})));  // one continuation too many
}

TEST(Utf8, TruncatedAtEndIsIncompleteNotFailed) {
    for (const std::string& s : {bytes({0xC3}), bytes({0xE2}), bytes({0xE2, 0x82}), bytes({0xF0}),
                                 bytes({0xF0, 0x9F}), bytes({0xF0, 0x9F, 0x98})}) {
        Utf8Validator v;
        EXPECT_TRUE(v.feed(s));
        EXPECT_FALSE(v.failed());
        EXPECT_FALSE(v.complete());
        EXPECT_FALSE(is_valid_utf8(s));
    }
}

TEST(Utf8, EveryOneAndTwoByteSequenceAgainstReference) {
    for (int a = 0; a < 256; ++a) {
        const std::string one = bytes({a});
        EXPECT_EQ(valid(one), reference_first_error(one) == std::string_view::npos) << a;
        for (int b = 0; b < 256; ++b) {
            const std::string two = bytes({a, b});
            Utf8Validator v;
            const bool fed = v.feed(two);
            const std::size_t ref = reference_first_error(two);
            ASSERT_EQ(fed, ref == std::string_view::npos || ref == two.size()) << a << ' ' << b;
            if (!fed) {
                ASSERT_EQ(v.valid_bytes(), ref) << a << ' ' << b;
            }
            ASSERT_EQ(fed && v.complete(), ref == std::string_view::npos) << a << ' ' << b;
        }
    }
}

TEST(Utf8, EveryThreeAndFourByteSequenceOfInterestingLeadsAgainstReference) {
    const int leads[] = {0x41, 0x80, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5};
    std::size_t checked = 0;
    for (const int a : leads)
        for (int b = 0; b < 256; ++b)
            for (int c = 0; c < 256; ++c) {
                std::string s = bytes({a, b, c});
                for (const int d : {-1, 0x41, 0x80, 0xBF, 0xC0}) {
                    if (d >= 0) {
                        // Four-byte forms: a few third bytes around the continuation range.
                        if (c != 0x80 && c != 0xBF && c != 0x41 && c != 0x90) continue;
                        s = bytes({a, b, c, d});
                    }
                    Utf8Validator v;
                    const bool fed = v.feed(s);
                    const std::size_t ref = reference_first_error(s);
                    ASSERT_EQ(fed, ref == std::string_view::npos || ref == s.size()) << a << ' ' << b << ' ' << c << ' ' << d;
                    if (!fed) {
                        ASSERT_EQ(v.valid_bytes(), ref);
                    }
                    ASSERT_EQ(fed && v.complete(), ref == std::string_view::npos);
                    ++checked;
                }
            }
    EXPECT_GT(checked, 900000u);
}

TEST(Utf8, EveryScalarValueIsAcceptedAlone) {
    for (std::uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
        if (cp >= 0xD800 && cp <= 0xDFFF) continue;
        ASSERT_TRUE(valid(encode(cp))) << std::hex << cp;
    }
}

// Text with ASCII runs (longer than a word, to exercise the fast path) and characters of every length.
std::string mixed_text() {
    std::string s;
    const char* parts[] = {"Hello, world! This run is ASCII. ", "κόσμε ", "日本語 ", "😀𝄞 ", "ab", "\xc2\x80",
                           "0123456789abcdef0123456789", "\xf4\x8f\xbf\xbf", "\xef\xbf\xbd", "x"};
    for (int round = 0; round < 3; ++round)
        for (const char* p : parts) s += p;
    return s;
}

// Index of every byte that starts a code point in valid text.
std::vector<bool> starts(std::string_view s) {
    std::vector<bool> out(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) out[i] = (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80;
    return out;
}

// Feeds `s` in pieces of the given sizes (cycled) and checks the first failure happens in the piece
// that holds byte `bad`, at its offset, with every earlier piece accepted.
void expect_fails_at(std::string_view s, std::size_t bad, const std::vector<std::size_t>& sizes) {
    Utf8Validator v;
    std::size_t pos = 0;
    for (std::size_t k = 0; pos < s.size(); ++k) {
        const std::size_t n = std::min(sizes[k % sizes.size()], s.size() - pos);
        const bool ok = v.feed(s.substr(pos, n));
        if (bad >= pos + n) {
            ASSERT_TRUE(ok) << "failed early: bad " << bad << " piece at " << pos;
        } else {
            ASSERT_FALSE(ok) << "missed: bad " << bad << " piece at " << pos;
            ASSERT_EQ(v.valid_bytes(), bad - pos);
            ASSERT_TRUE(v.failed());
            ASSERT_FALSE(v.feed(std::string_view("a")));  // stays failed
            return;
        }
        pos += n;
    }
    FAIL() << "never failed; bad byte at " << bad;
}

TEST(Utf8, InvalidByteAtEveryPositionFailsExactlyThere) {
    const std::string text = mixed_text();
    ASSERT_TRUE(valid(text));
    const std::vector<bool> boundary = starts(text);
    const std::vector<std::vector<std::size_t>> splits = {{text.size()}, {1}, {2}, {3}, {7}, {8}, {17}, {5, 1, 9, 2}};
    for (std::size_t bad = 0; bad < text.size(); ++bad) {
        std::vector<std::string> variants;
        std::string s = text;
        s[bad] = '\xff';  // never valid anywhere
        variants.push_back(s);
        s = text;
        s[bad] = boundary[bad] ? '\x80' : 'A';  // a stray continuation, or a sequence cut short by ASCII
        variants.push_back(s);
        if (boundary[bad]) {
            s = text;
            s[bad] = '\xc0';  // an overlong lead
            variants.push_back(s);
        }
        for (const std::string& v : variants) {
            ASSERT_EQ(reference_first_error(v), bad);
            for (const auto& sizes : splits) expect_fails_at(v, bad, sizes);
        }
    }
}

TEST(Utf8, ValidTextAtEverySplit) {
    const std::string text = mixed_text();
    for (std::size_t cut = 0; cut <= text.size(); ++cut) {
        Utf8Validator v;
        ASSERT_TRUE(v.feed(std::string_view(text).substr(0, cut)));
        EXPECT_EQ(v.complete(), cut == text.size() || starts(text)[cut]);
        ASSERT_TRUE(v.feed(std::string_view(text).substr(cut)));
        EXPECT_EQ(v.valid_bytes(), text.size() - cut);
        EXPECT_TRUE(v.complete());
    }
    Utf8Validator bytewise;
    for (char c : text) ASSERT_TRUE(bytewise.feed(std::string_view(&c, 1)));
    EXPECT_TRUE(bytewise.complete());
}

TEST(Utf8, RandomTextMatchesReference) {
    std::mt19937 rng(3629);
    for (int round = 0; round < 20000; ++round) {
        std::string s;
        const int length = static_cast<int>(rng() % 40);
        for (int i = 0; i < length; ++i) {
            const unsigned r = rng() % 10;
            if (r < 5) s += static_cast<char>('a' + rng() % 26);
            else if (r < 9) s += encode(rng() % 0x110000);
            else s += static_cast<char>(rng());
        }
        const std::size_t ref = reference_first_error(s);
        Utf8Validator v;
        const bool ok = v.feed(s);
        ASSERT_EQ(ok, ref == std::string_view::npos || ref == s.size());
        if (!ok) {
            ASSERT_EQ(v.valid_bytes(), ref);
        }
        ASSERT_EQ(ok && v.complete(), ref == std::string_view::npos);
    }
}

TEST(Utf8, ResetStartsOver) {
    Utf8Validator v;
    EXPECT_FALSE(v.feed(std::string_view("ab\xff")));
    EXPECT_EQ(v.valid_bytes(), 2u);
    EXPECT_FALSE(v.feed(std::string_view("ok")));
    EXPECT_EQ(v.valid_bytes(), 0u);
    v.reset();
    EXPECT_TRUE(v.feed(std::string_view("ok")));
    EXPECT_TRUE(v.complete());
    EXPECT_TRUE(v.feed(std::string_view("\xe2")));
    v.reset();
    EXPECT_TRUE(v.complete());
}

TEST(Utf8, ValidPrefix) {
    EXPECT_EQ(valid_utf8_prefix(std::string_view("")), 0u);
    EXPECT_EQ(valid_utf8_prefix(std::string_view("abc")), 3u);
    EXPECT_EQ(valid_utf8_prefix(std::string_view("ab\xe2\x82")), 2u);     // cut character dropped
    EXPECT_EQ(valid_utf8_prefix(std::string_view("ab\xe2\x82\xac")), 5u);
    EXPECT_EQ(valid_utf8_prefix(std::string_view("ab\xff" "cd")), 2u);     // stops at invalid bytes
    EXPECT_EQ(valid_utf8_prefix(std::string_view("\xc3\xa9\xc3")), 2u);
    const std::string text = mixed_text();
    for (std::size_t cut = 0; cut <= text.size(); ++cut) {
        const std::size_t p = valid_utf8_prefix(std::string_view(text).substr(0, cut));
        ASSERT_LE(p, cut);
        ASSERT_TRUE(valid(std::string_view(text).substr(0, p)));
        ASSERT_LE(cut - p, 3u);
        ASSERT_TRUE(p == text.size() || starts(text)[p]);
    }
}

}  // namespace
}  // namespace herald::websocket
