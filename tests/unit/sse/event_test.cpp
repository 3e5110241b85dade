// Server-Sent Events encoder: exact wire bytes, which Events dispatch, rejection of CR/LF/NUL injection
// in event types, ids and field names, comments and single fields, and encode → parse round trips of
// random events (multi-line data in all three line-end styles, fed to the parser in random splits).
#include <herald/sse/event.hpp>
#include <herald/sse/parser.hpp>

#include <herald/error.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace herald::sse {

// Readable failures: gtest prints ParsedEvent with this instead of raw bytes. The same inline
// definition is in parser_test.cpp, so every test file prints events the same way (one definition).
inline void PrintTo(const ParsedEvent& e, std::ostream* os) {
    *os << "{type=\"" << e.type << "\" data=\"";
    for (char c : e.data) {
        if (c == '\n') *os << "\\n";
        else if (c == '\r') *os << "\\r";
        else if (c == '\0') *os << "\\0";
        else *os << c;
    }
    *os << "\" id=\"" << e.last_event_id << "\"}";
}

namespace {

using namespace std::chrono_literals;
using namespace std::string_literals;
using std::chrono::milliseconds;

// Parses a whole stream; the parser's own tests cover splitting.
std::vector<ParsedEvent> parse(std::string_view stream, Parser& parser) {
    std::vector<ParsedEvent> got;
    EXPECT_TRUE(parser.feed(stream, [&](const ParsedEvent& e) { got.push_back(e); }));
    return got;
}
std::vector<ParsedEvent> parse(std::string_view stream) {
    Parser parser;
    return parse(stream, parser);
}

// ---- Exact bytes ----

TEST(SseEncode, DataOnly) {
    EXPECT_EQ(encode({.data = "Hello, world!"}), "data: Hello, world!\n\n");  // Sisk's sse.Send("Hello, world!")
}

TEST(SseEncode, AllFieldsInOrder) {
    const Event e{.event = "update", .data = "payload", .id = "42", .retry = 3s, .comment = "note"};
    EXPECT_EQ(encode(e), ": note\nevent: update\nid: 42\nretry: 3000\ndata: payload\n\n");
}

TEST(SseEncode, MultiLineDataInEveryLineEndStyle) {
    const std::string expected = "data: one\ndata: two\ndata: three\n\n";
    EXPECT_EQ(encode({.data = "one\ntwo\nthree"}), expected);
    EXPECT_EQ(encode({.data = "one\r\ntwo\r\nthree"}), expected);
    EXPECT_EQ(encode({.data = "one\rtwo\rthree"}), expected);
    EXPECT_EQ(encode({.data = "one\r\ntwo\rthree"}), expected);
    // LF CR is two line ends, so an empty line between.
    EXPECT_EQ(encode({.data = "one\n\rtwo"}), "data: one\ndata: \ndata: two\n\n");
}

TEST(SseEncode, EmptyLinesInDataAreKept) {
    EXPECT_EQ(encode({.data = "a\n"}), "data: a\ndata: \n\n");
    EXPECT_EQ(encode({.data = "\n"}), "data: \ndata: \n\n");
    EXPECT_EQ(encode({.data = "\r\n\r\n"}), "data: \ndata: \ndata: \n\n");
    EXPECT_EQ(encode({.data = "a\n\nb"}), "data: a\ndata: \ndata: b\n\n");
}

TEST(SseEncode, DataKeepsLeadingSpacesColonsAndOtherBytes) {
    EXPECT_EQ(encode({.data = " indented"}), "data:  indented\n\n");
    EXPECT_EQ(encode({.data = "event: not a field"}), "data: event: not a field\n\n");
    EXPECT_EQ(encode({.data = "nul\0byte"s}), "data: nul\0byte\n\n"s);
    EXPECT_EQ(encode({.data = "\xE2\x9C\x93"}), "data: \xE2\x9C\x93\n\n");
}

TEST(SseEncode, CommentLines) {
    EXPECT_EQ(encode({.data = "x", .comment = "a\r\nb\rc\nd"}), ": a\n: b\n: c\n: d\ndata: x\n\n");
}

TEST(SseEncode, RetryIsWholeMilliseconds) {
    EXPECT_EQ(encode({.data = "x", .retry = 0ms}), "retry: 0\ndata: x\n\n");
    EXPECT_EQ(encode({.data = "x", .retry = 1500ms}), "retry: 1500\ndata: x\n\n");
    EXPECT_EQ(encode({.data = "x", .retry = milliseconds(9223372036854775807)}),
              "retry: 9223372036854775807\ndata: x\n\n");
}

TEST(SseEncode, AppendsToTheBuffer) {
    std::string out = "data: earlier\n\n";
    encode({.data = "later"}, out);
    EXPECT_EQ(out, "data: earlier\n\ndata: later\n\n");
}

// ---- Which Events dispatch ----

TEST(SseEncode, EmptyEventStillDispatchesAnEmptyMessage) {
    EXPECT_TRUE(dispatches(Event{}));
    EXPECT_EQ(encode(Event{}), "data: \n\n");
    EXPECT_EQ(parse(encode(Event{})), (std::vector{ParsedEvent{"message", "", ""}}));
}

TEST(SseEncode, NamedEventWithoutDataStillDispatches) {
    // Without a data line a browser would fire nothing, which is never what {.event = "ping"} means.
    const Event e{.event = "ping"};
    EXPECT_TRUE(dispatches(e));
    EXPECT_EQ(encode(e), "event: ping\ndata: \n\n");
    EXPECT_EQ(parse(encode(e)), (std::vector{ParsedEvent{"ping", "", ""}}));
}

TEST(SseEncode, ControlOnlyEventsDoNotDispatch) {
    Parser parser;
    const Event id_only{.id = "7"};
    const Event retry_only{.retry = 5s};
    const Event comment_only{.comment = "keep-alive"};
    EXPECT_FALSE(dispatches(id_only));
    EXPECT_FALSE(dispatches(retry_only));
    EXPECT_FALSE(dispatches(comment_only));
    EXPECT_EQ(encode(id_only), "id: 7\n\n");
    EXPECT_EQ(encode(retry_only), "retry: 5000\n\n");
    EXPECT_EQ(encode(comment_only), ": keep-alive\n\n");
    EXPECT_TRUE(parse(encode(id_only) + encode(retry_only) + encode(comment_only), parser).empty());
    EXPECT_EQ(parser.last_event_id(), "7");
    EXPECT_EQ(parser.retry(), 5000ms);
    // With data they dispatch.
    EXPECT_TRUE(dispatches(Event{.data = "x", .id = "7"}));
    EXPECT_TRUE(dispatches(Event{.event = "e", .retry = 1s}));
}

// ---- Injection ----

TEST(SseEncode, ValidNames) {
    EXPECT_TRUE(is_valid_event_name(""));
    EXPECT_TRUE(is_valid_event_name("user.joined: room 1 \xE2\x9C\x93"));
    EXPECT_TRUE(is_valid_id(""));
    EXPECT_TRUE(is_valid_id("42:a b"));
    for (std::string bad : {"a\nb"s, "a\rb"s, "a\0b"s, "\n"s, "\r"s, "\0"s, "a\r\n"s}) {
        EXPECT_FALSE(is_valid_event_name(bad));
        EXPECT_FALSE(is_valid_id(bad));
    }
    EXPECT_TRUE(is_valid_field_name("data"));
    EXPECT_TRUE(is_valid_field_name("x-custom"));
    for (std::string bad : {""s, ":"s, "a:b"s, "a\nb"s, "a\rb"s, "a\0b"s}) EXPECT_FALSE(is_valid_field_name(bad));
}

TEST(SseEncode, RejectsCrLfNulInEventTypeAndId) {
    const std::vector<std::string> attacks = {
        "x\ndata: injected",  "x\r\ndata: injected", "x\rdata: injected", "x\n\ndata: injected\n",
        "x\0y"s,              "\n",                  "\r",                "\0"s,
    };
    for (const std::string& bad : attacks) {
        std::string out = "kept";
        EXPECT_THROW(encode(Event{.event = bad, .data = "d"}, out), herald::error);
        EXPECT_THROW(encode(Event{.data = "d", .id = bad}, out), herald::error);
        EXPECT_EQ(out, "kept");  // nothing written
    }
    try {
        encode(Event{.event = "a\nb"});
        FAIL() << "no exception";
    } catch (const std::system_error& e) {  // herald::error is a std::system_error
        EXPECT_NE(std::string(e.what()).find("CR, LF or NUL"), std::string::npos) << e.what();
    }
}

TEST(SseEncode, RejectsNegativeRetry) {
    std::string out;
    EXPECT_THROW(encode(Event{.data = "x", .retry = -1ms}, out), herald::error);
    EXPECT_TRUE(out.empty());
}

// ---- Comments and single fields ----

TEST(SseEncode, CommentHasNoBlankLine) {
    std::string out;
    encode_comment("", out);
    EXPECT_EQ(out, ": \n");
    out.clear();
    encode_comment("ping", out);
    EXPECT_EQ(out, ": ping\n");
    out.clear();
    encode_comment("a\nb\r\nc", out);
    EXPECT_EQ(out, ": a\n: b\n: c\n");
    // Between or inside events a comment changes nothing.
    std::string stream;
    encode_comment("before", stream);
    stream += "data: a\n";
    encode_comment("inside\nan event", stream);
    stream += "\n";
    encode_comment("after", stream);
    EXPECT_EQ(parse(stream), (std::vector{ParsedEvent{"message", "a", ""}}));
}

TEST(SseEncode, SingleField) {
    std::string out;
    encode_field("data", "a\nb\r\nc", out);
    EXPECT_EQ(out, "data: a\ndata: b\ndata: c\n\n");
    out.clear();
    encode_field("x-custom", "value", out);
    EXPECT_EQ(out, "x-custom: value\n\n");
    out.clear();
    encode_field("event", "e", out);
    encode_field("retry", "250", out);
    encode_field("id", "", out);
    EXPECT_EQ(out, "event: e\n\nretry: 250\n\nid: \n\n");
}

TEST(SseEncode, EmptyIdFieldResetsTheLastEventId) {
    Parser parser;
    std::string out;
    encode({.data = "a", .id = "1"}, out);
    encode_field("id", "", out);
    encode({.data = "b"}, out);
    EXPECT_EQ(parse(out, parser), (std::vector{ParsedEvent{"message", "a", "1"}, ParsedEvent{"message", "b", ""}}));
    EXPECT_EQ(parser.last_event_id(), "");
}

TEST(SseEncode, SingleFieldRejectsBadNamesAndValues) {
    std::string out;
    for (std::string bad : {""s, ":"s, "da:ta"s, "data\n"s, "data\r"s, "da\0ta"s})
        EXPECT_THROW(encode_field(bad, "x", out), herald::error) << bad;
    EXPECT_THROW(encode_field("event", "a\nb", out), herald::error);
    EXPECT_THROW(encode_field("id", "a\rb", out), herald::error);
    EXPECT_THROW(encode_field("id", "a\0b"s, out), herald::error);
    for (std::string bad : {""s, "-1"s, "1.5"s, "10 "s, " 10"s, "ten"s})
        EXPECT_THROW(encode_field("retry", bad, out), herald::error) << bad;
    EXPECT_TRUE(out.empty());
}

// ---- Round trips ----

std::string normalize_line_ends(std::string_view s) {
    std::string r;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\r') {
            r += '\n';
            if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
        } else {
            r += s[i];
        }
    }
    return r;
}

TEST(SseRoundTrip, MultiLineDataInAllThreeStyles) {
    for (std::string_view eol : {"\n", "\r\n", "\r"}) {
        std::string data;
        for (std::string_view line : {"first", "", " second", "third:", ""}) {
            if (!data.empty() || line != "first") data += eol;
            data += line;
        }
        ASSERT_EQ(data.substr(0, 5), "first");
        EXPECT_EQ(parse(encode({.event = "e", .data = data, .id = "i"})),
                  (std::vector{ParsedEvent{"e", "first\n\n second\nthird:\n", "i"}}));
    }
}

std::string random_text(std::mt19937& rng, const std::vector<std::string>& pieces, int max_pieces) {
    std::string s;
    const int n = std::uniform_int_distribution<int>(0, max_pieces)(rng);
    for (int i = 0; i < n; ++i) s += pieces[rng() % pieces.size()];
    return s;
}

TEST(SseRoundTrip, RandomEventsSurviveEncodeThenParseInRandomSplits) {
    std::mt19937 rng(7);
    const std::vector<std::string> line_pieces = {"a", "Z", " ", ":", ": ", "data", "\xC3\xA9", "\xE2\x9C\x93",
                                                  "\xEF\xBB\xBF", "-", "0"};
    std::vector<std::string> text_pieces = line_pieces;
    for (std::string s : {"\n"s, "\r\n"s, "\r"s, "\n\n"s, "\0"s}) text_pieces.push_back(s);

    for (int round = 0; round < 300; ++round) {
        std::vector<Event> sent;
        std::string stream;
        const int count = std::uniform_int_distribution<int>(1, 12)(rng);
        for (int i = 0; i < count; ++i) {
            Event e;
            if (rng() % 2) e.data = random_text(rng, text_pieces, 12);
            if (rng() % 3 == 0) e.event = random_text(rng, line_pieces, 4);
            if (rng() % 3 == 0) e.id = random_text(rng, line_pieces, 4);
            if (rng() % 4 == 0) e.retry = milliseconds(rng() % 100000);
            if (rng() % 4 == 0) e.comment = random_text(rng, text_pieces, 6);
            encode(e, stream);
            sent.push_back(std::move(e));
        }
        // What a client must see.
        std::vector<ParsedEvent> expected;
        std::string last_id;
        std::optional<milliseconds> retry;
        for (const Event& e : sent) {
            if (!e.id.empty()) last_id = e.id;
            if (e.retry) retry = e.retry;
            if (dispatches(e))
                expected.push_back({e.event.empty() ? "message" : e.event, normalize_line_ends(e.data), last_id});
        }

        Parser parser;
        std::vector<ParsedEvent> got;
        auto on_event = [&](const ParsedEvent& p) { got.push_back(p); };
        for (std::size_t at = 0; at < stream.size();) {
            const std::size_t n = std::uniform_int_distribution<std::size_t>(0, 9)(rng);
            ASSERT_TRUE(parser.feed(std::string_view(stream).substr(at, n), on_event));
            at += n;
        }
        parser.end_of_stream();
        ASSERT_EQ(got, expected) << "round " << round;
        EXPECT_EQ(parser.last_event_id(), last_id);
        EXPECT_EQ(parser.retry(), retry);
    }
}

}  // namespace
}  // namespace herald::sse
