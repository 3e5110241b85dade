// Server-Sent Events parser: every rule of WHATWG HTML §9.2.5–9.2.6 (with the spec's own examples),
// each input fed whole, one byte at a time and split at every position (and every pair of positions
// for short inputs), the CR|LF split, the BOM, last event ID and retry rules, limits, and random streams
// checked against a line-by-line reference written straight from the spec.
#include <herald/sse/parser.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <ostream>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace herald::sse {

// Readable failures: gtest prints ParsedEvent with this instead of raw bytes. The same inline
// definition is in event_test.cpp, so every test file prints events the same way (one definition).
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
using std::chrono::milliseconds;
using namespace std::string_literals;

const std::string bom = "\xEF\xBB\xBF";

ParsedEvent ev(std::string data, std::string type = "message", std::string id = "") {
    return ParsedEvent{std::move(type), std::move(data), std::move(id)};
}

// Everything observable after feeding a stream and ending it.
struct Outcome {
    std::vector<ParsedEvent> events;
    bool ok = true;
    std::string last_event_id;
    std::optional<milliseconds> retry;
    bool operator==(const Outcome&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
    os << (o.ok ? "ok" : "failed") << ", last id \"" << o.last_event_id << "\", retry "
       << (o.retry ? std::to_string(o.retry->count()) : "none") << ", " << o.events.size() << " events:";
    for (const auto& e : o.events) {
        os << ' ';
        PrintTo(e, &os);
    }
    return os;
}

// Feeds `input` cut at the given increasing positions, then ends the stream.
Outcome run(std::string_view input, const std::vector<std::size_t>& cuts, std::size_t max = 1 << 20) {
    Parser parser(max);
    Outcome out;
    auto on_event = [&](const ParsedEvent& e) { out.events.push_back(e); };
    std::size_t at = 0;
    for (std::size_t cut : cuts) {
        out.ok = parser.feed(input.substr(at, cut - at), on_event) && out.ok;
        at = cut;
    }
    out.ok = parser.feed(input.substr(at), on_event) && out.ok;
    EXPECT_EQ(parser.failed(), !out.ok);
    parser.end_of_stream();
    out.last_event_id = parser.last_event_id();
    out.retry = parser.retry();
    return out;
}

Outcome one_shot(std::string_view input, std::size_t max = 1 << 20) { return run(input, {}, max); }

std::string show(std::string_view s) {
    std::string r;
    for (char c : s) {
        if (c == '\n') r += "\\n";
        else if (c == '\r') r += "\\r";
        else if (c == '\0') r += "\\0";
        else r += c;
    }
    return r;
}

// The one-shot outcome, after checking that byte-at-a-time feeding and every split at one position
// (and at two positions, for inputs up to 48 bytes) give exactly the same.
Outcome parse_all_ways(std::string_view input, std::size_t max = 1 << 20) {
    const Outcome whole = one_shot(input, max);
    std::vector<std::size_t> every;
    for (std::size_t i = 1; i < input.size(); ++i) every.push_back(i);
    EXPECT_EQ(run(input, every, max), whole) << "one byte at a time: \"" << show(input) << '"';
    for (std::size_t i = 0; i <= input.size(); ++i)
        EXPECT_EQ(run(input, {i}, max), whole) << "split at " << i << ": \"" << show(input) << '"';
    if (input.size() <= 48) {
        for (std::size_t i = 0; i <= input.size(); ++i)
            for (std::size_t j = i; j <= input.size(); ++j)
                EXPECT_EQ(run(input, {i, j}, max), whole)
                    << "split at " << i << ", " << j << ": \"" << show(input) << '"';
    }
    return whole;
}

std::vector<ParsedEvent> events_of(std::string_view input) { return parse_all_ways(input).events; }

// ---- The examples of §9.2.6 ----

TEST(SseParser, SpecExampleMultiLineData) {
    EXPECT_EQ(events_of("data: YHOO\ndata: +2\ndata: 10\n\n"), std::vector{ev("YHOO\n+2\n10")});
}

TEST(SseParser, SpecExampleIdsAndUnterminatedLastEvent) {
    const std::string stream =
        ": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n";
    const Outcome o = parse_all_ways(stream);
    EXPECT_EQ(o.events, (std::vector{ev("first event", "message", "1"), ev("second event", "message", "")}));
    EXPECT_EQ(o.last_event_id, "");
    // With the final blank line the third event arrives, with one of its two leading spaces.
    EXPECT_EQ(events_of(stream + "\n").back(), ev(" third event"));
}

TEST(SseParser, SpecExampleEmptyAndNewlineData) {
    // "The first block fires events with the data set to the empty string, as would the last block if
    // it was followed by a blank line. The middle block fires an event with the data set to a single
    // newline character. The last block is discarded because it is not followed by a blank line."
    EXPECT_EQ(events_of("data\n\ndata\ndata\n\ndata:"), (std::vector{ev(""), ev("\n")}));
    EXPECT_EQ(events_of("data\n\ndata\ndata\n\ndata:\n\n"), (std::vector{ev(""), ev("\n"), ev("")}));
}

TEST(SseParser, SpecExampleSpaceAfterColonIsOptional) {
    EXPECT_EQ(events_of("data:test\n\ndata: test\n\n"), (std::vector{ev("test"), ev("test")}));
}

// ---- Line ends ----

TEST(SseParser, AllThreeLineEnds) {
    const std::vector expected{ev("a\nb")};
    EXPECT_EQ(events_of("data: a\ndata: b\n\n"), expected);
    EXPECT_EQ(events_of("data: a\r\ndata: b\r\n\r\n"), expected);
    EXPECT_EQ(events_of("data: a\rdata: b\r\r"), expected);
    EXPECT_EQ(events_of("data: a\rdata: b\n\r\n"), expected);
    EXPECT_EQ(events_of("data: a\r\ndata: b\r\n"), std::vector<ParsedEvent>{});  // no blank line yet
}

TEST(SseParser, CrLfIsOneLineEndButLfCrIsTwo) {
    EXPECT_EQ(events_of("data: a\r\ndata: b\r\n\r\n"), std::vector{ev("a\nb")});
    EXPECT_EQ(events_of("data: a\n\rdata: b\n\n"), (std::vector{ev("a"), ev("b")}));
    EXPECT_EQ(events_of("data: a\r\rdata: b\r\r"), (std::vector{ev("a"), ev("b")}));
    EXPECT_EQ(events_of("data: a\r\r\ndata: b\r\n\r\n"), (std::vector{ev("a"), ev("b")}));
}

TEST(SseParser, CrAtTheEndOfAChunkAndLfAtTheStartOfTheNext) {
    // Were the LF a second line end, it would be a blank line dispatching "a" alone.
    Parser parser;
    std::vector<ParsedEvent> got;
    auto on_event = [&](const ParsedEvent& e) { got.push_back(e); };
    EXPECT_TRUE(parser.feed("data: a\r", on_event));
    EXPECT_TRUE(parser.feed("", on_event));  // an empty read changes nothing
    EXPECT_TRUE(parser.feed("\ndata: b\r", on_event));
    EXPECT_TRUE(got.empty());
    EXPECT_TRUE(parser.feed("\n\r", on_event));
    EXPECT_EQ(got, std::vector{ev("a\nb")});
    // The CR ended a blank line; an LF after it is its end too, not a second blank line.
    EXPECT_TRUE(parser.feed("\ndata: c\n", on_event));
    EXPECT_TRUE(parser.feed("\r", on_event));
    EXPECT_TRUE(parser.feed("\r\n", on_event));  // CR, then CRLF: a blank line, then another
    EXPECT_EQ(got, (std::vector{ev("a\nb"), ev("c")}));
}

TEST(SseParser, CrAtTheEndOfAChunkFollowedByOtherBytes) {
    Parser parser;
    std::vector<ParsedEvent> got;
    auto on_event = [&](const ParsedEvent& e) { got.push_back(e); };
    EXPECT_TRUE(parser.feed("data: a\r", on_event));
    EXPECT_TRUE(parser.feed("data: b\r", on_event));
    EXPECT_TRUE(parser.feed("\r", on_event));
    EXPECT_EQ(got, std::vector{ev("a\nb")});
}

// ---- Lines and fields ----

TEST(SseParser, CommentsAreIgnored) {
    EXPECT_EQ(events_of(":data: x\n\n"), std::vector<ParsedEvent>{});
    EXPECT_EQ(events_of(":\n: keep-alive\ndata: x\n:event: no\n\n"), std::vector{ev("x")});
    EXPECT_EQ(events_of(": comment\r\n\r\n"), std::vector<ParsedEvent>{});
}

TEST(SseParser, LineWithoutColonIsAFieldWithEmptyValue) {
    EXPECT_EQ(events_of("data\n\n"), std::vector{ev("")});
    EXPECT_EQ(events_of("event\ndata\n\n"), std::vector{ev("")});
    EXPECT_EQ(events_of("event: a\nevent\ndata: x\n\n"), std::vector{ev("x")});
}

TEST(SseParser, OnlyOneLeadingSpaceIsStripped) {
    EXPECT_EQ(events_of("data:x\n\n"), std::vector{ev("x")});
    EXPECT_EQ(events_of("data: x\n\n"), std::vector{ev("x")});
    EXPECT_EQ(events_of("data:  x\n\n"), std::vector{ev(" x")});
    EXPECT_EQ(events_of("data:\tx\n\n"), std::vector{ev("\tx")});
    EXPECT_EQ(events_of("data: x \n\n"), std::vector{ev("x ")});
    EXPECT_EQ(events_of("data: \n\n"), std::vector{ev("")});
    EXPECT_EQ(events_of("event:  a\ndata: x\n\n"), std::vector{ev("x", " a")});
}

TEST(SseParser, ValueRunsFromTheFirstColon) {
    EXPECT_EQ(events_of("data: a: b:c\n\n"), std::vector{ev("a: b:c")});
    EXPECT_EQ(events_of("data::\n\n"), std::vector{ev(":")});
}

TEST(SseParser, FieldNamesAreExactAndCaseSensitive) {
    EXPECT_EQ(events_of("Data: x\n\n"), std::vector<ParsedEvent>{});
    EXPECT_EQ(events_of("data : x\n\n"), std::vector<ParsedEvent>{});
    EXPECT_EQ(events_of(" data: x\n\n"), std::vector<ParsedEvent>{});
    EXPECT_EQ(events_of("datas: x\n\n"), std::vector<ParsedEvent>{});
    EXPECT_EQ(events_of("dat: x\n\n"), std::vector<ParsedEvent>{});
}

TEST(SseParser, UnknownFieldsAreIgnored) {
    EXPECT_EQ(events_of("foo: bar\ndata: x\nx-custom\nretryy: 1\n\n"), std::vector{ev("x")});
    EXPECT_EQ(events_of("foo: bar\n\n"), std::vector<ParsedEvent>{});
}

TEST(SseParser, EventSetsTheTypeOfOneEventOnly) {
    EXPECT_EQ(events_of("event: add\ndata: 73857293\n\nevent: remove\ndata: 2153\n\ndata: plain\n\n"),
              (std::vector{ev("73857293", "add"), ev("2153", "remove"), ev("plain")}));
    // The last event field wins, wherever it is in the block.
    EXPECT_EQ(events_of("data: x\nevent: a\nevent: b\n\n"), std::vector{ev("x", "b")});
    // An empty type is "message".
    EXPECT_EQ(events_of("event:\ndata: x\n\n"), std::vector{ev("x")});
    EXPECT_EQ(events_of("event: message\ndata: x\n\n"), std::vector{ev("x")});
}

TEST(SseParser, BlockWithoutDataDispatchesNothingAndResetsTheType) {
    EXPECT_EQ(events_of("event: a\n\ndata: x\n\n"), std::vector{ev("x")});
    EXPECT_EQ(events_of("\n\n\n\r\n\r"), std::vector<ParsedEvent>{});
    EXPECT_EQ(events_of("event: a\nid: 3\nretry: 5\n: c\n\n"), std::vector<ParsedEvent>{});
}

TEST(SseParser, OnlyOneTrailingLfIsRemoved) {
    EXPECT_EQ(events_of("data\ndata\ndata\n\n"), std::vector{ev("\n\n")});
    EXPECT_EQ(events_of("data: a\ndata\n\n"), std::vector{ev("a\n")});
}

TEST(SseParser, BytesPassThroughUnchanged) {
    EXPECT_EQ(events_of("data: h\xC3\xA9llo \xE2\x86\x92 \xE2\x9C\x93\n\n"),
              std::vector{ev("h\xC3\xA9llo \xE2\x86\x92 \xE2\x9C\x93")});
    // Invalid UTF-8 and NUL in data are delivered as they came (a browser would show U+FFFD for the former).
    EXPECT_EQ(events_of("data: \xFF\xC3\0x\n\n"s), std::vector{ev("\xFF\xC3\0x"s)});
    EXPECT_EQ(events_of("event: \xE2\x9C\x93\ndata: \xF0\x9F\x98\x80\n\n"),
              std::vector{ev("\xF0\x9F\x98\x80", "\xE2\x9C\x93")});
}

// ---- The last event ID ----

TEST(SseParser, LastEventIdPersistsAcrossEvents) {
    const Outcome o = parse_all_ways("id: 1\ndata: a\n\ndata: b\n\nid: 2\ndata: c\n\ndata: d\n\n");
    EXPECT_EQ(o.events, (std::vector{ev("a", "message", "1"), ev("b", "message", "1"), ev("c", "message", "2"),
                                     ev("d", "message", "2")}));
    EXPECT_EQ(o.last_event_id, "2");
}

TEST(SseParser, IdIsTakenAtTheBlankLineWhereverItIsInTheBlock) {
    EXPECT_EQ(events_of("data: a\nid: 7\n\n"), std::vector{ev("a", "message", "7")});
    EXPECT_EQ(events_of("id: 1\nid: 2\ndata: a\n\n"), std::vector{ev("a", "message", "2")});
}

TEST(SseParser, EmptyIdResetsIt) {
    EXPECT_EQ(events_of("id: 1\ndata: a\n\nid\ndata: b\n\nid: 2\ndata: c\n\nid:\ndata: d\n\n"),
              (std::vector{ev("a", "message", "1"), ev("b"), ev("c", "message", "2"), ev("d")}));
}

TEST(SseParser, IdWithNulIsIgnored) {
    const Outcome o = parse_all_ways("id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\n"s);
    EXPECT_EQ(o.events, (std::vector{ev("a", "message", "1"), ev("b", "message", "1")}));
    EXPECT_EQ(o.last_event_id, "1");
    EXPECT_EQ(events_of("id: \0\ndata: x\n\n"s), std::vector{ev("x")});
}

TEST(SseParser, IdWithoutDataStillSetsTheLastEventId) {
    const Outcome o = parse_all_ways("id: 5\n\n");
    EXPECT_TRUE(o.events.empty());
    EXPECT_EQ(o.last_event_id, "5");
    EXPECT_EQ(events_of("id: 5\n\ndata: x\n\n"), std::vector{ev("x", "message", "5")});
}

TEST(SseParser, IdKeepsSpacesAndUtf8) {
    EXPECT_EQ(events_of("id:  a b \xE2\x9C\x93\ndata: x\n\n"), std::vector{ev("x", "message", " a b \xE2\x9C\x93")});
}

TEST(SseParser, IdOfAnUnterminatedEventNeverBecomesTheLastEventId) {
    const Outcome o = parse_all_ways("id: 1\ndata: a\n\nid: 2\ndata: b\n");
    EXPECT_EQ(o.events, std::vector{ev("a", "message", "1")});
    EXPECT_EQ(o.last_event_id, "1");
}

// ---- retry ----

TEST(SseParser, RetrySetsTheReconnectionTime) {
    EXPECT_EQ(parse_all_ways("retry: 10000\n").retry, 10000ms);
    EXPECT_EQ(parse_all_ways("retry:1500\n\n").retry, 1500ms);
    EXPECT_EQ(parse_all_ways("retry: 0\n").retry, 0ms);
    EXPECT_EQ(parse_all_ways("retry: 007\n").retry, 7ms);
    EXPECT_EQ(parse_all_ways("retry: 1000\nretry: 2000\n").retry, 2000ms);
    EXPECT_EQ(parse_all_ways("retry: 9223372036854775807\n").retry, milliseconds(9223372036854775807));
}

TEST(SseParser, RetryThatIsNotAllDigitsIsIgnored) {
    for (const char* value : {"retry: one thousand\n", "retry: 10a\n", "retry: -1\n", "retry: +1\n", "retry: 1.5\n",
                              "retry:  1000\n", "retry: 1000 \n", "retry:\n", "retry\n", "retry: \n",
                              "retry: \xD9\xA1\n", "retry: 9223372036854775808\n",
                              "retry: 99999999999999999999999999\n"}) {
        EXPECT_EQ(parse_all_ways(value).retry, std::nullopt) << show(value);
        EXPECT_EQ(parse_all_ways(std::string("retry: 300\n") + value).retry, 300ms) << show(value);
    }
}

TEST(SseParser, RetryTakesEffectWithoutADispatch) {
    // The reconnection time is set when the field is processed, even in a block that is later discarded.
    const Outcome o = parse_all_ways("retry: 3000\ndata: never dispatched");
    EXPECT_TRUE(o.events.empty());
    EXPECT_EQ(o.retry, 3000ms);
    EXPECT_EQ(events_of("retry: 3000\ndata: x\n\n"), std::vector{ev("x")});
}

// ---- End of stream, BOM, reset ----

TEST(SseParser, UnterminatedEventAtTheEndIsDiscarded) {
    EXPECT_EQ(events_of("data: a\n\ndata: b\n"), std::vector{ev("a")});
    EXPECT_EQ(events_of("data: a\n\ndata: b"), std::vector{ev("a")});
    EXPECT_EQ(events_of("data: a\n\nevent: x\ndata: b\r"), std::vector{ev("a")});
}

TEST(SseParser, EndOfStreamDiscardsThePendingEventAndLine) {
    Parser parser;
    std::vector<ParsedEvent> got;
    auto on_event = [&](const ParsedEvent& e) { got.push_back(e); };
    EXPECT_TRUE(parser.feed("event: x\nid: 9\ndata: a\nda", on_event));
    parser.end_of_stream();
    EXPECT_TRUE(parser.feed("ta: b\n\n", on_event));  // "ta" is an unknown field: nothing is pending
    EXPECT_TRUE(got.empty());
    EXPECT_EQ(parser.last_event_id(), "");
    EXPECT_TRUE(parser.feed("data: c\n\n", on_event));
    EXPECT_EQ(got, std::vector{ev("c")});  // no type and no id left over from the discarded event
}

TEST(SseParser, EndOfStreamForgetsAPendingCr) {
    Parser parser;
    std::vector<ParsedEvent> got;
    auto on_event = [&](const ParsedEvent& e) { got.push_back(e); };
    EXPECT_TRUE(parser.feed("data: a\n\r", on_event));
    EXPECT_EQ(got, std::vector{ev("a")});
    parser.reset_stream();
    EXPECT_TRUE(parser.feed("\ndata: b\n\n", on_event));  // a blank first line: dispatches nothing
    EXPECT_EQ(got, (std::vector{ev("a"), ev("b")}));
}

TEST(SseParser, OneBomAtTheStartIsSkipped) {
    EXPECT_EQ(events_of(bom + "data: a\n\n"), std::vector{ev("a")});
    EXPECT_EQ(events_of(bom + "\n" + "data: a\n\n"), std::vector{ev("a")});
    EXPECT_EQ(events_of(bom), std::vector<ParsedEvent>{});
    // A second BOM is part of the first line's field name, which is then unknown.
    EXPECT_EQ(events_of(bom + bom + "data: a\n\ndata: b\n\n"), std::vector{ev("b")});
}

TEST(SseParser, BomElsewhereIsData) {
    EXPECT_EQ(events_of("data: a\n\n" + bom + "data: b\n\ndata: c\n\n"), (std::vector{ev("a"), ev("c")}));
    EXPECT_EQ(events_of("\n" + bom + "data: b\n\n"), std::vector<ParsedEvent>{});
    EXPECT_EQ(events_of("data: " + bom + "x\n\n"), std::vector{ev(bom + "x")});
    EXPECT_EQ(events_of("data:" + bom + "\n\n"), std::vector{ev(bom)});
}

TEST(SseParser, PartialBomIsPartOfTheFirstLine) {
    EXPECT_EQ(events_of("\xEF\xBB" "data: a\n\ndata: b\n\n"), std::vector{ev("b")});
    EXPECT_EQ(events_of("\xEF" "data: a\n\ndata: b\n\n"), std::vector{ev("b")});
    EXPECT_EQ(events_of("\xEF\xBB\n" "data: b\n\n"), std::vector{ev("b")});
    EXPECT_EQ(events_of("\xEF\xBB\xBE" "data: a\n\n"), std::vector<ParsedEvent>{});
    // The partial BOM is a field name of its own when a colon follows it.
    EXPECT_EQ(events_of("\xEF:\ndata: b\n\n"), std::vector{ev("b")});
    EXPECT_EQ(events_of(":\xEF\xBB\ndata: b\n\n"), std::vector{ev("b")});
}

TEST(SseParser, ResetStreamStartsANewStreamButKeepsIdAndRetry) {
    Parser parser;
    std::vector<ParsedEvent> got;
    auto on_event = [&](const ParsedEvent& e) { got.push_back(e); };
    EXPECT_TRUE(parser.feed(bom + "retry: 2500\nid: 41\ndata: a\n\nid: 42\ndata: half", on_event));
    EXPECT_EQ(got, std::vector{ev("a", "message", "41")});
    parser.reset_stream();
    EXPECT_EQ(parser.last_event_id(), "41");
    EXPECT_EQ(parser.retry(), 2500ms);
    // The new stream may start with a BOM again; its events carry the previous last event ID.
    EXPECT_TRUE(parser.feed(bom + "data: b\n\n", on_event));
    EXPECT_EQ(got, (std::vector{ev("a", "message", "41"), ev("b", "message", "41")}));
    EXPECT_EQ(parser.last_event_id(), "41");
}

TEST(SseParser, EmptyCallbackIsAllowed) {
    Parser parser;
    EXPECT_TRUE(parser.feed("id: 3\ndata: x\n\n", nullptr));
    EXPECT_EQ(parser.last_event_id(), "3");
}

TEST(SseParser, ThrowingCallbackDropsTheRestOfTheChunkOnly) {
    Parser parser;
    std::vector<ParsedEvent> got;
    bool throw_next = true;
    auto on_event = [&](const ParsedEvent& e) {
        if (std::exchange(throw_next, false)) throw std::runtime_error("handler failed");
        got.push_back(e);
    };
    // The state is settled before on_event runs: the thrown event's type and data are gone, and the
    // rest of the chunk with it.
    EXPECT_THROW(parser.feed("event: t\ndata: a\n\ndata: dropped\n", on_event), std::runtime_error);
    EXPECT_FALSE(parser.failed());
    EXPECT_TRUE(parser.feed("data: b\n\n", on_event));
    EXPECT_EQ(got, std::vector{ev("b")});
}

// ---- Limits ----

TEST(SseParser, LimitCoversTheLineAndTheEventInProgress) {
    constexpr std::size_t max = 16;
    // A 16-byte line is allowed, a 17-byte line is not.
    EXPECT_EQ(parse_all_ways("data: 0123456789\n\n", max).events, std::vector{ev("0123456789")});
    const Outcome over = parse_all_ways("data: a\n\ndata: 01234567890\n\ndata: c\n\n", max);
    EXPECT_FALSE(over.ok);
    EXPECT_EQ(over.events, std::vector{ev("a")});  // what came before the failure is delivered
    // Lines of 10 bytes add 5 bytes of data each: the third line takes 10 + 10 over 16.
    EXPECT_TRUE(parse_all_ways("data: abcd\ndata: abcd\n\n", max).ok);
    const Outcome many = parse_all_ways("data: abcd\ndata: abcd\ndata: abcd\n\n", max);
    EXPECT_FALSE(many.ok);
    EXPECT_TRUE(many.events.empty());
    // The type counts too.
    EXPECT_FALSE(parse_all_ways("event: abcdefgh\ndata: abcdefgh\n\n", max).ok);
    // Comments and unknown fields are lines too.
    EXPECT_FALSE(parse_all_ways(": " + std::string(15, 'c') + "\n", max).ok);
    EXPECT_FALSE(parse_all_ways("x" + std::string(16, 'x') + "\n", max).ok);
    // The limit is per event: a long stream of small events is fine.
    std::string stream;
    for (int i = 0; i < 200; ++i) stream += "data: abcd\nid: " + std::to_string(i) + "\n\n";
    const Outcome small = one_shot(stream, max);
    EXPECT_TRUE(small.ok);
    EXPECT_EQ(small.events.size(), 200u);
}

TEST(SseParser, LineOverTheLimitFailsBeforeItsEndArrives) {
    Parser parser(64);
    int events = 0;
    auto on_event = [&](const ParsedEvent&) { ++events; };
    EXPECT_TRUE(parser.feed("data: ok\n\ndata: " + std::string(58, 'x'), on_event));
    EXPECT_FALSE(parser.feed("x", on_event));
    EXPECT_TRUE(parser.failed());
    EXPECT_FALSE(parser.feed("\n\ndata: x\n\n", on_event));  // input after the failure is ignored
    EXPECT_EQ(events, 1);
    parser.reset_stream();
    EXPECT_FALSE(parser.failed());
    EXPECT_TRUE(parser.feed("data: again\n\n", on_event));
    EXPECT_EQ(events, 2);
}

TEST(SseParser, ZeroLimitAllowsOnlyBlankLines) {
    EXPECT_TRUE(parse_all_ways("\n\r\n\r", 0).ok);
    EXPECT_FALSE(parse_all_ways("\n:\n", 0).ok);
    EXPECT_FALSE(parse_all_ways(bom.substr(0, 2) + "\n", 1).ok);  // bytes of a partial BOM count
    EXPECT_TRUE(parse_all_ways(bom + "\n", 0).ok);                // a whole BOM does not
}

TEST(SseParser, LimitIsTheSameForEverySplit) {
    // Around the boundary, every split of every stream gives the same events and the same failure.
    for (std::size_t max = 0; max < 24; ++max) {
        parse_all_ways("data: abc\ndata: de\nevent: xyz\n\ndata: f\r\n\r\n", max);
        parse_all_ways(bom + "id: 12345\nretry: 99\n: comment\ndata\n\n", max);
    }
}

// ---- Random streams against a reference ----

// The spec's algorithm as literally as possible, on a whole stream: strip one BOM, cut into lines at
// CRLF, LF or CR, drop the unterminated tail, interpret each line.
Outcome reference(std::string_view s) {
    Outcome out;
    if (s.starts_with(bom)) s.remove_prefix(3);
    std::vector<std::string_view> lines;
    std::size_t start = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\r' && s[i] != '\n') continue;
        lines.push_back(s.substr(start, i - start));
        if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
        start = i + 1;
    }
    std::string data, type, id_buffer;
    for (std::string_view line : lines) {
        if (line.empty()) {
            out.last_event_id = id_buffer;
            if (data.empty()) {
                type.clear();
                continue;
            }
            data.pop_back();
            out.events.push_back(ev(data, type.empty() ? "message" : type, out.last_event_id));
            data.clear();
            type.clear();
            continue;
        }
        if (line[0] == ':') continue;
        std::string_view field = line, value;
        if (auto colon = line.find(':'); colon != std::string_view::npos) {
            field = line.substr(0, colon);
            value = line.substr(colon + 1);
            if (value.starts_with(' ')) value.remove_prefix(1);
        }
        if (field == "event") type = value;
        else if (field == "data") data += std::string(value) + "\n";
        else if (field == "id" && value.find('\0') == std::string_view::npos) id_buffer = value;
        else if (field == "retry" && !value.empty() && value.size() < 18 &&
                 value.find_first_not_of("0123456789") == std::string_view::npos)
            out.retry = milliseconds(std::stoll(std::string(value)));
    }
    return out;
}

TEST(SseParser, RandomStreamsMatchTheReferenceForRandomSplits) {
    std::mt19937 rng(20240611);
    const std::vector<std::string> pieces = {"data", "event", "id", "retry", ":", " ", "\n", "\r", "\r\n", "\n\n",
                                             "x", "12", "\0"s, bom, "\xEF", "\xC3\xA9", "data: ", "event: e",
                                             "id: 7", "retry: 42", "\n\n"};
    for (int round = 0; round < 3000; ++round) {
        std::string s;
        const int n = std::uniform_int_distribution<int>(0, 40)(rng);
        for (int i = 0; i < n; ++i) s += pieces[rng() % pieces.size()];
        const Outcome expected = reference(s);
        ASSERT_EQ(one_shot(s), expected) << '"' << show(s) << '"';
        std::vector<std::size_t> cuts;
        for (std::size_t at = 0; at < s.size();) {
            at += std::uniform_int_distribution<std::size_t>(0, 6)(rng);
            if (at < s.size()) cuts.push_back(at);
        }
        ASSERT_EQ(run(s, cuts), expected) << '"' << show(s) << '"';
    }
}

TEST(SseParser, ParsesLongStreamsInOneFeed) {
    std::string stream;
    std::vector<ParsedEvent> expected;
    for (int i = 0; i < 1000; ++i) {
        const std::string n = std::to_string(i);
        stream += "id: " + n + "\nevent: e" + n + "\ndata: line " + n + "\ndata: second\r\n" + (i % 2 ? "\r" : "\n");
        expected.push_back(ev("line " + n + "\nsecond", "e" + n, n));
    }
    EXPECT_EQ(one_shot(stream).events, expected);
    std::vector<std::size_t> cuts;
    for (std::size_t at = 7; at < stream.size(); at += 1000) cuts.push_back(at);
    EXPECT_EQ(run(stream, cuts).events, expected);
}

}  // namespace
}  // namespace herald::sse
