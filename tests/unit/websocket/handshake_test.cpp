// Opening handshake helpers: the RFC 6455 accept-key vector, client key checks and token lists.
#include <herald/websocket/handshake.hpp>

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace herald::websocket {
namespace {

using Views = std::vector<std::string_view>;

TEST(Handshake, RfcAcceptKeyVector) {
    // RFC 6455 §1.3.
    EXPECT_EQ(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(Handshake, MoreAcceptKeys) {
    // The example of the WebSocket article on Wikipedia, and the key of RFC 6455 §4.2.2.
    EXPECT_EQ(accept_key("x3JJHMbDL1EzLkh9GBhXDw=="), "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
    EXPECT_EQ(accept_key("AAAAAAAAAAAAAAAAAAAAAA==").size(), 28u);
    EXPECT_EQ(accept_key("").size(), 28u);  // the hash is defined for any input; validity is checked elsewhere
    EXPECT_NE(accept_key("AAAAAAAAAAAAAAAAAAAAAA=="), accept_key("AAAAAAAAAAAAAAAAAAAAAQ=="));
    EXPECT_EQ(handshake_guid, "258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
}

TEST(Handshake, ValidClientKeys) {
    EXPECT_TRUE(is_valid_client_key("dGhlIHNhbXBsZSBub25jZQ=="));
    EXPECT_TRUE(is_valid_client_key("x3JJHMbDL1EzLkh9GBhXDw=="));
    EXPECT_TRUE(is_valid_client_key("AAAAAAAAAAAAAAAAAAAAAA=="));
    EXPECT_TRUE(is_valid_client_key("/////////////////////w=="));
    EXPECT_TRUE(is_valid_client_key("+/+/+/+/+/+/+/+/+/+/+g=="));
    // Non-zero unused bits in the last character decode to 16 bytes as well; peers accept them.
    EXPECT_TRUE(is_valid_client_key("AAAAAAAAAAAAAAAAAAAAAB=="));
}

TEST(Handshake, InvalidClientKeys) {
    for (const std::string_view key : {
             std::string_view(""),
             std::string_view("dGhlIHNhbXBsZSBub25jZQ="),     // 23 characters
             std::string_view("dGhlIHNhbXBsZSBub25jZQ==="),   // 25
             std::string_view("dGhlIHNhbXBsZSBub25jZQAA"),    // no padding: 18 bytes
             std::string_view("dGhlIHNhbXBsZSBub25jZQA="),    // 17 bytes
             std::string_view("dGhlIHNhbXBsZSBub25j===="),    // too much padding
             std::string_view("dGhlIHNhbXBsZSBub25jZ=A="),    // padding in the middle
             std::string_view("dGhlIHNhbXBsZSBub25jZQ-="),
             std::string_view("dGhlIHNhbXBsZSBub25jZ-=="),    // base64url alphabet
             std::string_view("dGhlIHNhbXBsZSBub25jZ_=="),
             std::string_view("dGhlIHNhbXBsZSBub25j ZQ=="),
             std::string_view(" dGhlIHNhbXBsZSBub25jZQ=="),
             std::string_view("dGhlIHNhbXBsZSBub25jZQ==\r"),
             std::string_view("dGhlIHNhbXBsZSBub25jZ\0==", 24),
             std::string_view("dGhlIHNhbXBsZSBub25jZ\x80==", 24),
             std::string_view("the sample nonce"),
         })
        EXPECT_FALSE(is_valid_client_key(key)) << key;
}

TEST(Handshake, MadeClientKeysAreValidAndFresh) {
    std::set<std::string> seen;
    for (int i = 0; i < 200; ++i) {
        const std::string key = make_client_key();
        ASSERT_EQ(key.size(), 24u);
        ASSERT_TRUE(is_valid_client_key(key)) << key;
        ASSERT_TRUE(key[21] == 'A' || key[21] == 'Q' || key[21] == 'g' || key[21] == 'w') << key;
        seen.insert(key);
    }
    EXPECT_EQ(seen.size(), 200u);
}

TEST(Handshake, TokenLists) {
    EXPECT_EQ(parse_token_list("chat, superchat"), (Views{"chat", "superchat"}));
    EXPECT_EQ(parse_token_list("chat"), (Views{"chat"}));
    EXPECT_EQ(parse_token_list(""), Views{});
    EXPECT_EQ(parse_token_list(" \t "), Views{});
    EXPECT_EQ(parse_token_list(",,, ,"), Views{});
    EXPECT_EQ(parse_token_list(" ,a,,\tb\t, c ,"), (Views{"a", "b", "c"}));
    EXPECT_EQ(parse_token_list("v1.chat.example,v2.chat.example"), (Views{"v1.chat.example", "v2.chat.example"}));
    EXPECT_EQ(parse_token_list("a b, c"), (Views{"a b", "c"}));  // not a token, but kept for comparison
    const std::string_view list = "x, y";
    const Views parsed = parse_token_list(list);
    ASSERT_EQ(parsed.size(), 2u);
    EXPECT_EQ(parsed[1].data(), list.data() + 3);  // views into the input
}

}  // namespace
}  // namespace herald::websocket
