// Close codes: the wire-validity table for every 16-bit value, Close payload parsing and building.
#include <herald/websocket/close_code.hpp>

#include <herald/error.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace herald::websocket {
namespace {

std::string payload_for(std::uint16_t code, std::string_view reason = {}) {
    std::string s;
    s.push_back(static_cast<char>(code >> 8));
    s.push_back(static_cast<char>(code & 0xFF));
    s.append(reason);
    return s;
}

TEST(CloseCode, RegisteredValues) {
    EXPECT_EQ(to_underlying(CloseCode::normal), 1000);
    EXPECT_EQ(to_underlying(CloseCode::going_away), 1001);
    EXPECT_EQ(to_underlying(CloseCode::protocol_error), 1002);
    EXPECT_EQ(to_underlying(CloseCode::unsupported_data), 1003);
    EXPECT_EQ(to_underlying(CloseCode::no_status), 1005);
    EXPECT_EQ(to_underlying(CloseCode::abnormal), 1006);
    EXPECT_EQ(to_underlying(CloseCode::invalid_payload), 1007);
    EXPECT_EQ(to_underlying(CloseCode::policy_violation), 1008);
    EXPECT_EQ(to_underlying(CloseCode::message_too_big), 1009);
    EXPECT_EQ(to_underlying(CloseCode::mandatory_extension), 1010);
    EXPECT_EQ(to_underlying(CloseCode::internal_error), 1011);
    EXPECT_EQ(to_underlying(CloseCode::service_restart), 1012);
    EXPECT_EQ(to_underlying(CloseCode::try_again_later), 1013);
    EXPECT_EQ(to_underlying(CloseCode::bad_gateway), 1014);
    EXPECT_EQ(to_underlying(CloseCode::tls_handshake), 1015);
    // Re-exported at the top level.
    EXPECT_EQ(herald::CloseCode::going_away, CloseCode::going_away);
}

TEST(CloseCode, Names) {
    EXPECT_EQ(to_string(CloseCode::normal), "normal");
    EXPECT_EQ(to_string(CloseCode::message_too_big), "message_too_big");
    EXPECT_EQ(to_string(CloseCode::tls_handshake), "tls_handshake");
    EXPECT_EQ(to_string(static_cast<CloseCode>(4000)), "");
    int named = 0;
    for (int v = 0; v <= 0xFFFF; ++v)
        if (!to_string(static_cast<CloseCode>(v)).empty()) ++named;
    EXPECT_EQ(named, 15);
}

bool expected_wire_valid(int v) {
    return (v >= 1000 && v <= 1003) || (v >= 1007 && v <= 1014) || (v >= 3000 && v <= 4999);
}

TEST(CloseCode, WireValidityForEveryValue) {
    int valid = 0;
    for (int v = 0; v <= 0xFFFF; ++v) {
        const bool want = expected_wire_valid(v);
        ASSERT_EQ(is_valid_wire_close_code(static_cast<std::uint16_t>(v)), want) << v;
        if (want) ++valid;
    }
    EXPECT_EQ(valid, 4 + 8 + 2000);
    for (const int v : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535})
        EXPECT_FALSE(is_valid_wire_close_code(static_cast<std::uint16_t>(v))) << v;
    for (const int v : {1000, 1003, 1007, 1014, 3000, 4999}) EXPECT_TRUE(is_valid_wire_close_code(static_cast<std::uint16_t>(v)));
}

TEST(ClosePayload, EmptyMeansNoStatus) {
    const CloseParseResult r = parse_close_payload({});
    EXPECT_FALSE(r.error);
    EXPECT_EQ(r.status.code, CloseCode::no_status);
    EXPECT_TRUE(r.status.reason.empty());
}

TEST(ClosePayload, OneByteIsAProtocolError) {
    for (int b = 0; b < 256; ++b) {
        const CloseParseResult r = parse_close_payload(std::string(1, static_cast<char>(b)));
        ASSERT_TRUE(r.error);
        EXPECT_EQ(r.error->code, CloseCode::protocol_error);
    }
}

TEST(ClosePayload, CodeAndReason) {
    const std::string p = payload_for(1001, "server restart");
    const CloseParseResult r = parse_close_payload(p);
    ASSERT_FALSE(r.error);
    EXPECT_EQ(r.status.code, CloseCode::going_away);
    EXPECT_EQ(r.status.reason, "server restart");
    EXPECT_EQ(r.status.reason.data(), p.data() + 2);  // a view into the payload
    const CloseParseResult app = parse_close_payload(payload_for(4321));
    ASSERT_FALSE(app.error);
    EXPECT_EQ(to_underlying(app.status.code), 4321);
}

TEST(ClosePayload, EveryCodeOnTheWire) {
    for (int v = 0; v <= 0xFFFF; ++v) {
        const std::string payload = payload_for(static_cast<std::uint16_t>(v), "why");  // outlives the reason view
        const CloseParseResult r = parse_close_payload(payload);
        if (expected_wire_valid(v)) {
            ASSERT_FALSE(r.error) << v;
            ASSERT_EQ(to_underlying(r.status.code), v);
            ASSERT_EQ(r.status.reason, "why");
        } else {
            ASSERT_TRUE(r.error) << v;
            ASSERT_EQ(r.error->code, CloseCode::protocol_error) << v;
        }
    }
}

TEST(ClosePayload, ReasonMustBeUtf8) {
    for (const std::string_view bad : {std::string_view("\xff"), std::string_view("ok\xc0\xaf"),
                                       std::string_view("\xed\xa0\x80"), std::string_view("cut \xe2\x82")}) {
        const CloseParseResult r = parse_close_payload(payload_for(1000, bad));
        ASSERT_TRUE(r.error);
        EXPECT_EQ(r.error->code, CloseCode::invalid_payload);
    }
    const CloseParseResult ok = parse_close_payload(payload_for(1000, "κόσμε 😀"));
    EXPECT_FALSE(ok.error);
    // An invalid code is reported before the reason is looked at.
    const CloseParseResult both = parse_close_payload(payload_for(1005, "\xff"));
    ASSERT_TRUE(both.error);
    EXPECT_EQ(both.error->code, CloseCode::protocol_error);
}

TEST(ClosePayload, SizeLimit) {
    EXPECT_FALSE(parse_close_payload(payload_for(1000, std::string(123, 'r'))).error);
    const CloseParseResult r = parse_close_payload(payload_for(1000, std::string(124, 'r')));
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->code, CloseCode::protocol_error);
}

TEST(MakeClosePayload, CodeAndReason) {
    EXPECT_EQ(make_close_payload(CloseCode::normal), payload_for(1000));
    EXPECT_EQ(make_close_payload(CloseCode::going_away, "bye"), payload_for(1001, "bye"));
    EXPECT_EQ(make_close_payload(static_cast<CloseCode>(4000), "app"), payload_for(4000, "app"));
    EXPECT_EQ(make_close_payload(CloseCode::no_status), "");
    EXPECT_EQ(make_close_payload(CloseCode::no_status, "ignored"), "");
}

TEST(MakeClosePayload, TruncatesOnACharacterBoundary) {
    EXPECT_EQ(make_close_payload(CloseCode::normal, std::string(200, 'a')).size(), 125u);
    const std::string euro = "\xe2\x82\xac";
    EXPECT_EQ(make_close_payload(CloseCode::normal, std::string(120, 'a') + euro).size(), 125u);
    EXPECT_EQ(make_close_payload(CloseCode::normal, std::string(121, 'a') + euro).size(), 2u + 121u);
    EXPECT_EQ(make_close_payload(CloseCode::normal, std::string(122, 'a') + euro).size(), 2u + 122u);
    EXPECT_EQ(make_close_payload(CloseCode::normal, std::string(123, 'a') + euro).size(), 125u);
    // Every cut of long multibyte text stays parseable.
    std::string text;
    for (int i = 0; i < 60; ++i) text += i % 2 ? "😀" : "é";
    for (std::size_t n = 0; n <= text.size(); ++n) {
        const std::string p = make_close_payload(CloseCode::policy_violation, std::string_view(text).substr(0, n));
        ASSERT_LE(p.size(), 125u);
        const CloseParseResult r = parse_close_payload(p);
        ASSERT_FALSE(r.error) << n;
        ASSERT_EQ(r.status.code, CloseCode::policy_violation);
        ASSERT_EQ(std::string_view(text).substr(0, r.status.reason.size()), r.status.reason);
    }
    // A reason that is not UTF-8 is cut before its first invalid byte rather than sent broken.
    EXPECT_EQ(make_close_payload(CloseCode::normal, "ok\xff" "rest"), payload_for(1000, "ok"));
}

TEST(MakeClosePayload, RefusesCodesThatMayNotBeSent) {
    for (const int v : {0, 999, 1004, 1006, 1015, 1016, 2999, 5000, 65535})
        EXPECT_THROW(make_close_payload(static_cast<CloseCode>(v)), herald::error) << v;
    EXPECT_THROW(make_close_payload(CloseCode::abnormal), herald::error);
    EXPECT_THROW(make_close_payload(CloseCode::tls_handshake), herald::error);
}

TEST(MakeClosePayload, RoundTripsEveryValidCode) {
    for (int v = 0; v <= 0xFFFF; ++v) {
        if (!expected_wire_valid(v)) continue;
        const std::string p = make_close_payload(static_cast<CloseCode>(v), "r");
        const CloseParseResult r = parse_close_payload(p);
        ASSERT_FALSE(r.error);
        ASSERT_EQ(to_underlying(r.status.code), v);
        ASSERT_EQ(r.status.reason, "r");
    }
}

}  // namespace
}  // namespace herald::websocket
