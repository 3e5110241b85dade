// BodyDecoder: each framing fed whole and split at every position, the end of input, bytes past the end.
#include "client/body_decoder.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace herald::client {
namespace {

http::ResponseHead head_of(http::ResponseBody framing, std::uint64_t length = 0) {
    http::ResponseHead head;
    head.status = 200;
    head.body = framing;
    head.content_length = length;
    return head;
}

struct Decoded {
    std::string payload;
    http::ParseStatus status = http::ParseStatus::incomplete;
};

// Feeds `wire` in two parts split at `at`, collecting the payload until complete or error.
Decoded decode_split(const http::ResponseHead& head, std::string_view wire, std::size_t at) {
    BodyDecoder decoder(head);
    Decoded out;
    for (std::string_view part : {wire.substr(0, at), wire.substr(at)}) {
        const auto r = decoder.decode(part);
        out.payload.append(r.payload);
        out.status = r.status;
        if (r.status != http::ParseStatus::incomplete) break;
    }
    return out;
}

TEST(BodyDecoder, ChunkedAtEverySplit) {
    const std::string wire = "5\r\ndata:\r\n7\r\n hi\n\n\r\n\r\n0\r\n\r\nNEXT";
    for (std::size_t at = 0; at <= wire.size(); ++at) {
        const auto d = decode_split(head_of(http::ResponseBody::chunked), wire, at);
        EXPECT_EQ(d.payload, "data: hi\n\n\r\n") << "split at " << at;
        EXPECT_EQ(d.status, http::ParseStatus::complete) << "split at " << at;
    }
}

TEST(BodyDecoder, MalformedChunkIsAnError) {
    BodyDecoder decoder(head_of(http::ResponseBody::chunked));
    EXPECT_EQ(decoder.decode("zz\r\n").status, http::ParseStatus::error);
    EXPECT_FALSE(decoder.error().empty());
}

TEST(BodyDecoder, TruncatedChunkedBodyDoesNotEndProperly) {
    BodyDecoder decoder(head_of(http::ResponseBody::chunked));
    EXPECT_EQ(decoder.decode("5\r\nab").status, http::ParseStatus::incomplete);
    EXPECT_FALSE(decoder.end_of_input());
}

TEST(BodyDecoder, ContentLengthAtEverySplitIgnoresWhatFollows) {
    const std::string wire = "data: x\n\nEXTRA";
    for (std::size_t at = 0; at <= wire.size(); ++at) {
        const auto d = decode_split(head_of(http::ResponseBody::content_length, 9), wire, at);
        EXPECT_EQ(d.payload, "data: x\n\n") << "split at " << at;
        EXPECT_EQ(d.status, http::ParseStatus::complete) << "split at " << at;
    }
}

TEST(BodyDecoder, ContentLengthShortOfItsLengthIsTruncated) {
    BodyDecoder decoder(head_of(http::ResponseBody::content_length, 10));
    EXPECT_EQ(decoder.decode("abc").payload, "abc");
    EXPECT_FALSE(decoder.end_of_input());
}

TEST(BodyDecoder, ZeroLengthAndNoBodyAreCompleteAtOnce) {
    EXPECT_EQ(BodyDecoder(head_of(http::ResponseBody::content_length, 0)).decode("x").status,
              http::ParseStatus::complete);
    BodyDecoder none(head_of(http::ResponseBody::none));
    EXPECT_TRUE(none.end_of_input());
    EXPECT_EQ(none.decode("x").payload, "");
}

TEST(BodyDecoder, UntilCloseTakesEverythingAndEndsAtClose) {
    BodyDecoder decoder(head_of(http::ResponseBody::until_close));
    const auto r = decoder.decode("data: a\n\n");
    EXPECT_EQ(r.payload, "data: a\n\n");
    EXPECT_EQ(r.status, http::ParseStatus::incomplete);
    EXPECT_TRUE(decoder.end_of_input());
}

}  // namespace
}  // namespace herald::client
