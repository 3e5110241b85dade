// The EventSource's request and its reading of response heads: headers sent, redirects, 204, status and
// content type checks, credentials dropped.
#include "sse/client_protocol.hpp"

#include <gtest/gtest.h>

#include <herald/error.hpp>

namespace herald::sse {
namespace {

http::ResponseHead head(int status, std::initializer_list<std::pair<const char*, const char*>> fields = {}) {
    http::ResponseHead h;
    h.status = status;
    for (const auto& [name, value] : fields) h.headers.add(name, value);
    return h;
}

TEST(SseClientRequest, AsksForAnEventStreamWithoutCaching) {
    const auto req = make_client_request(Url::parse("http://example.com:8080/events?room=1"), {}, "");
    EXPECT_EQ(req,
              "GET /events?room=1 HTTP/1.1\r\nHost: example.com:8080\r\nAccept: text/event-stream\r\n"
              "Cache-Control: no-cache\r\n\r\n");
}

TEST(SseClientRequest, SendsLastEventIdAndExtraFieldsButKeepsHostAndIdItsOwn) {
    Headers extra;
    extra.add("Authorization", "Bearer t").add("Host", "evil").add("Last-Event-ID", "forged").add("Accept", "*/*");
    const auto req = make_client_request(Url::parse("http://[::1]/s"), extra, "42");
    EXPECT_NE(req.find("Host: [::1]\r\n"), std::string::npos);
    EXPECT_NE(req.find("Last-Event-ID: 42\r\n"), std::string::npos);
    EXPECT_NE(req.find("Authorization: Bearer t\r\n"), std::string::npos);
    EXPECT_NE(req.find("Accept: */*\r\n"), std::string::npos);
    EXPECT_EQ(req.find("text/event-stream"), std::string::npos);
    EXPECT_EQ(req.find("evil"), std::string::npos);
    EXPECT_EQ(req.find("forged"), std::string::npos);
}

TEST(SseClientRequest, RejectsFieldsThatWouldInjectLines) {
    Headers bad;
    bad.add("X-A", "1\r\nX-B: 2");
    EXPECT_THROW(check_request_headers(bad), herald::error);
    Headers nul;
    nul.add(std::string("X\0", 2), "v");
    EXPECT_THROW(check_request_headers(nul), herald::error);
    Headers good;
    good.add("Cookie", "a=b");
    EXPECT_NO_THROW(check_request_headers(good));
}

TEST(SseClientRequest, DropsCredentials) {
    Headers h;
    h.add("Authorization", "x").add("cookie", "y").add("Proxy-Authorization", "z").add("X-Keep", "k");
    drop_credentials(h);
    EXPECT_EQ(h.size(), 1u);
    EXPECT_TRUE(h.contains("X-Keep"));
}

TEST(SseClientResponse, OpensOn200EventStream) {
    EXPECT_EQ(check_response(head(200, {{"Content-Type", "text/event-stream"}})).verdict, Verdict::open);
    EXPECT_EQ(check_response(head(200, {{"Content-Type", "Text/Event-Stream; charset=utf-8"}})).verdict, Verdict::open);
}

TEST(SseClientResponse, FailsOnAnotherContentType) {
    for (const char* type : {"text/html", "text/event-streamx", "text/plain; x=text/event-stream"}) {
        const auto c = check_response(head(200, {{"Content-Type", type}}));
        EXPECT_EQ(c.verdict, Verdict::fail) << type;
        EXPECT_NE(c.why.find(type), std::string::npos) << c.why;
    }
    EXPECT_EQ(check_response(head(200)).verdict, Verdict::fail);
}

TEST(SseClientResponse, StopsOn204AndFailsOnOtherStatuses) {
    EXPECT_EQ(check_response(head(204)).verdict, Verdict::no_content);
    for (int status : {201, 206, 304, 400, 404, 500, 503}) {
        const auto c = check_response(head(status, {{"Content-Type", "text/event-stream"}}));
        EXPECT_EQ(c.verdict, Verdict::fail) << status;
        EXPECT_NE(c.why.find(std::to_string(status)), std::string::npos) << c.why;
    }
}

TEST(SseClientResponse, FollowsTheFiveRedirects) {
    for (int status : {301, 302, 303, 307, 308}) {
        const auto c = check_response(head(status, {{"Location", " /next "}}));
        EXPECT_EQ(c.verdict, Verdict::redirect) << status;
        EXPECT_EQ(c.location, "/next");
    }
    EXPECT_EQ(check_response(head(302)).verdict, Verdict::fail);  // no Location
    EXPECT_EQ(check_response(head(300, {{"Location", "/x"}})).verdict, Verdict::fail);
}

}  // namespace
}  // namespace herald::sse
