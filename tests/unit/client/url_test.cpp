// Url: what our clients accept, what they refuse with a reason, and redirect resolution.
#include <herald/client/url.hpp>
#include <herald/error.hpp>

#include <gtest/gtest.h>

namespace herald {
namespace {

TEST(Url, ParsesSchemesHostsPortsAndTargets) {
    auto u = Url::parse("ws://example.com/chat?room=1#frag");
    EXPECT_EQ(u.scheme, "ws");
    EXPECT_EQ(u.host, "example.com");
    EXPECT_EQ(u.port, 80);
    EXPECT_EQ(u.target, "/chat?room=1");
    EXPECT_EQ(u.authority(), "example.com");
    EXPECT_FALSE(u.secure());

    u = Url::parse("WSS://Example.com:8443");
    EXPECT_EQ(u.scheme, "wss");
    EXPECT_EQ(u.port, 8443);
    EXPECT_EQ(u.target, "/");
    EXPECT_TRUE(u.secure());
    EXPECT_EQ(u.authority(), "Example.com:8443");

    EXPECT_EQ(Url::parse("https://h").port, 443);
    EXPECT_EQ(Url::parse("http://h?x=1").target, "/?x=1");
    EXPECT_EQ(Url::parse("http://h:80/").authority(), "h");
}

TEST(Url, Ipv6Literals) {
    auto u = Url::parse("ws://[::1]:9000/x");
    EXPECT_EQ(u.host, "::1");
    EXPECT_EQ(u.port, 9000);
    EXPECT_EQ(u.authority(), "[::1]:9000");
    EXPECT_EQ(u.to_string(), "ws://[::1]:9000/x");
    EXPECT_EQ(Url::parse("http://[fe80::1]/").authority(), "[fe80::1]");
}

TEST(Url, RefusesWhatItCannotUse) {
    for (const char* bad : {"example.com/x", "ftp://h/", "ws://", "ws://:80/", "ws://h:0/", "ws://h:65536/",
                            "ws://h:12x/", "ws://user:pw@h/", "ws://[::1/", "ws://[zz]/", "ws://h h/",
                            "ws://h/a b", "ws://[::1]x/"})
        EXPECT_THROW(Url::parse(bad), herald::error) << bad;
}

TEST(Url, ResolvesRedirects) {
    const auto base = Url::parse("http://a.test:8080/dir/page?q=1");
    EXPECT_EQ(base.resolve("http://b.test/x").to_string(), "http://b.test/x");
    EXPECT_EQ(base.resolve("//c.test/y").to_string(), "http://c.test/y");
    EXPECT_EQ(base.resolve("/root").to_string(), "http://a.test:8080/root");
    EXPECT_EQ(base.resolve("other").to_string(), "http://a.test:8080/dir/other");
    EXPECT_EQ(base.resolve("?q=2").to_string(), "http://a.test:8080/dir/page?q=2");
    EXPECT_EQ(base.resolve("").to_string(), "http://a.test:8080/dir/page?q=1");
    EXPECT_THROW(base.resolve("/a b"), herald::error);
}

TEST(Url, SameOrigin) {
    const auto a = Url::parse("http://A.test/x");
    EXPECT_TRUE(a.same_origin(Url::parse("http://a.test:80/y")));
    EXPECT_FALSE(a.same_origin(Url::parse("https://a.test/")));
    EXPECT_FALSE(a.same_origin(Url::parse("http://a.test:81/")));
    EXPECT_FALSE(a.same_origin(Url::parse("http://b.test/")));
}

}  // namespace
}  // namespace herald
