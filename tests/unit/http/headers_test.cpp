// iequals, has_token, find_header, Headers, and the method helpers.
#include <herald/http/headers.hpp>
#include <herald/http/method.hpp>

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace herald {
namespace {

TEST(Iequals, ComparesAsciiCaseInsensitively) {
    EXPECT_TRUE(iequals("", ""));
    EXPECT_TRUE(iequals("Content-Length", "content-length"));
    EXPECT_TRUE(iequals("HOST", "host"));
    EXPECT_TRUE(iequals("x-A1_~", "X-a1_~"));
    EXPECT_FALSE(iequals("host", "hosts"));
    EXPECT_FALSE(iequals("host", "hast"));
    EXPECT_FALSE(iequals("a", ""));
}

TEST(Iequals, FoldsOnlyLetters) {
    // '@' (0x40) and '`' (0x60) differ by the case bit but are not letters; same for '[' and '{'.
    EXPECT_FALSE(iequals("@", "`"));
    EXPECT_FALSE(iequals("[", "{"));
    EXPECT_FALSE(iequals("^", "~"));
    // Non-ASCII bytes compare exactly.
    EXPECT_FALSE(iequals("\xC3\xA9", "\xC3\x89"));
    EXPECT_TRUE(iequals("\xC3\xA9", "\xC3\xA9"));
}

TEST(HasToken, FindsElementsOfAList) {
    EXPECT_TRUE(has_token("close", "close"));
    EXPECT_TRUE(has_token("Close", "close"));
    EXPECT_TRUE(has_token("keep-alive, close", "close"));
    EXPECT_TRUE(has_token("keep-alive,close", "close"));
    EXPECT_TRUE(has_token("close, keep-alive", "keep-alive"));
    EXPECT_TRUE(has_token("  close  ", "close"));
    EXPECT_TRUE(has_token("\tclose\t,\tupgrade", "UPGRADE"));
    EXPECT_TRUE(has_token(",,close,,", "close"));
    EXPECT_TRUE(has_token("a , b , c", "b"));
}

TEST(HasToken, EdgeCases) {
    EXPECT_FALSE(has_token("", "close"));
    EXPECT_FALSE(has_token(",", "close"));
    EXPECT_FALSE(has_token(" , ", "close"));
    EXPECT_FALSE(has_token("closed", "close"));
    EXPECT_FALSE(has_token("x-close", "close"));
    EXPECT_FALSE(has_token("clo se", "close"));
    EXPECT_FALSE(has_token("close;x=1", "close"));
    EXPECT_FALSE(has_token("keep-alive", "keep"));
    EXPECT_FALSE(has_token("upgrade", ""));
    EXPECT_FALSE(has_token("", ""));
    EXPECT_FALSE(has_token("a,,b", ""));
    EXPECT_FALSE(has_token("\"close\"", "close"));
}

TEST(FindHeader, CaseInsensitiveFirstMatch) {
    const std::vector<Header> headers = {
        {"Host", "example.com"}, {"X-Dup", "first"}, {"x-dup", "second"}, {"Empty", ""}};
    EXPECT_EQ(find_header(headers, "host"), "example.com");
    EXPECT_EQ(find_header(headers, "HOST"), "example.com");
    EXPECT_EQ(find_header(headers, "X-DUP"), "first");
    ASSERT_TRUE(find_header(headers, "empty").has_value());
    EXPECT_EQ(find_header(headers, "empty"), "");
    EXPECT_FALSE(find_header(headers, "Hos").has_value());
    EXPECT_FALSE(find_header(headers, "").has_value());
    EXPECT_FALSE(find_header({}, "host").has_value());
}

TEST(Headers, AddKeepsDuplicatesInOrder) {
    Headers h;
    EXPECT_TRUE(h.empty());
    h.add("Set-Cookie", "a=1").add("Content-Type", "text/plain").add("set-cookie", "b=2");
    EXPECT_EQ(h.size(), 3u);
    std::vector<std::string> order;
    for (const auto& [name, value] : h) order.push_back(name + "=" + value);
    EXPECT_EQ(order, (std::vector<std::string>{"Set-Cookie=a=1", "Content-Type=text/plain", "set-cookie=b=2"}));
    EXPECT_EQ(h.get("SET-COOKIE"), "a=1");
}

TEST(Headers, SetReplacesEveryFieldOfThatName) {
    Headers h;
    h.add("A", "1").add("X", "x1").add("B", "2").add("x", "x2");
    h.set("X", "only");
    ASSERT_EQ(h.size(), 3u);
    std::vector<std::string> order;
    for (const auto& [name, value] : h) order.push_back(name + "=" + value);
    EXPECT_EQ(order, (std::vector<std::string>{"A=1", "X=only", "B=2"}));
    h.set("New", "v");
    EXPECT_EQ(h.size(), 4u);
    EXPECT_EQ(h.get("new"), "v");
}

TEST(Headers, RemoveAndContains) {
    Headers h;
    h.add("A", "1").add("a", "2").add("B", "3");
    EXPECT_TRUE(h.contains("a"));
    EXPECT_EQ(h.remove("A"), 2u);
    EXPECT_FALSE(h.contains("a"));
    EXPECT_FALSE(h.get("A").has_value());
    EXPECT_EQ(h.remove("missing"), 0u);
    EXPECT_EQ(h.size(), 1u);
    h.clear();
    EXPECT_TRUE(h.empty());
}

TEST(Method, ParseKnownMethods) {
    EXPECT_EQ(parse_method("GET"), Method::get);
    EXPECT_EQ(parse_method("HEAD"), Method::head);
    EXPECT_EQ(parse_method("POST"), Method::post);
    EXPECT_EQ(parse_method("PUT"), Method::put);
    EXPECT_EQ(parse_method("PATCH"), Method::patch);
    EXPECT_EQ(parse_method("DELETE"), Method::delete_);
    EXPECT_EQ(parse_method("OPTIONS"), Method::options);
    EXPECT_EQ(parse_method("CONNECT"), Method::connect);
    EXPECT_EQ(parse_method("TRACE"), Method::trace);
}

TEST(Method, UnknownAndCaseSensitive) {
    EXPECT_EQ(parse_method("get"), Method::other);
    EXPECT_EQ(parse_method("Get"), Method::other);
    EXPECT_EQ(parse_method("PROPFIND"), Method::other);
    EXPECT_EQ(parse_method(""), Method::other);
    EXPECT_EQ(parse_method("GETS"), Method::other);
    EXPECT_EQ(parse_method("GE"), Method::other);
}

TEST(Method, ToStringRoundTrips) {
    for (const Method m : {Method::get, Method::head, Method::post, Method::put, Method::patch, Method::delete_,
                           Method::options, Method::connect, Method::trace}) {
        EXPECT_EQ(parse_method(to_string(m)), m);
    }
    EXPECT_EQ(to_string(Method::delete_), "DELETE");
    EXPECT_EQ(to_string(Method::other), "OTHER");
}

}  // namespace
}  // namespace herald
