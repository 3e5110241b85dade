// libFuzzer target for the Server-Sent Events codec (include/herald/sse/).
//
// Input byte 0 picks the parser's max_event_bytes and how the stream is cut; the rest is the byte
// stream of one connection. It is parsed in one feed, one byte at a time (up to 4 KiB) and in pieces of
// sizes chosen by the input, and the three outcomes (events, failure, last event ID, retry) must be
// identical. Without a limit the outcome must equal a deliberately literal reference of WHATWG HTML
// §9.2.5–9.2.6 written here; under a limit the events must be a prefix of the unlimited ones (all of
// them when parsing did not fail) and each must fit the limit.
//
// The same bytes, read through FuzzedDataProvider, also describe Events, comments and single fields
// to encode: the encoder must throw exactly for the values it documents as invalid, and the stream it
// writes, parsed in pieces, must give back exactly the events, last event ID and retry it encoded.
#include <herald/error.hpp>
#include <herald/sse/event.hpp>
#include <herald/sse/parser.hpp>

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"

namespace {

using namespace herald::sse;
using std::chrono::milliseconds;


constexpr std::string_view bom = "\xEF\xBB\xBF";
constexpr std::size_t limits[8] = {std::size_t{1} << 20, 0, 1, 5, 16, 32, 64, 256};

struct Outcome {
    std::vector<ParsedEvent> events;
    bool ok = true;
    std::string last_event_id;
    std::optional<milliseconds> retry;
    bool operator==(const Outcome&) const = default;
};

// Feeds `stream` in pieces whose sizes come from a small generator seeded by `seed` (0: one piece).
Outcome parse(std::string_view stream, std::size_t max, std::uint32_t seed, std::size_t max_piece) {
    Parser parser(max);
    Outcome out;
    auto on_event = [&](const ParsedEvent& e) {
        FUZZ_CHECK(out.ok);  // nothing is delivered after a failure
        out.events.push_back(e);
    };
    std::uint32_t state = seed;
    while (!stream.empty()) {
        std::size_t n = stream.size();
        if (max_piece != 0) {
            state = state * 1103515245u + 12345u;
            n = std::min<std::size_t>(n, (state >> 16) % (max_piece + 1));  // empty pieces too
        }
        const bool ok = parser.feed(stream.substr(0, n), on_event);
        FUZZ_CHECK(ok == !parser.failed());
        if (!out.ok) FUZZ_CHECK(!ok);  // a failed parser stays failed
        out.ok = ok;
        stream.remove_prefix(n);
    }
    parser.end_of_stream();
    out.last_event_id = parser.last_event_id();
    out.retry = parser.retry();
    return out;
}

// The spec on a whole stream: strip one BOM, cut lines at CRLF, LF or CR, drop the unterminated tail.
Outcome reference(std::string_view s) {
    Outcome out;
    if (s.substr(0, 3) == bom) s.remove_prefix(3);
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
            if (!data.empty()) {
                data.pop_back();
                out.events.push_back({type.empty() ? "message" : type, data, out.last_event_id});
            }
            data.clear();
            type.clear();
            continue;
        }
        if (line[0] == ':') continue;
        std::string_view field = line, value;
        if (const auto colon = line.find(':'); colon != std::string_view::npos) {
            field = line.substr(0, colon);
            value = line.substr(colon + 1);
            if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
        }
        if (field == "event") {
            type = value;
        } else if (field == "data") {
            data.append(value);
            data.push_back('\n');
        } else if (field == "id") {
            if (value.find('\0') == std::string_view::npos) id_buffer = value;
        } else if (field == "retry" && !value.empty() &&
                   value.find_first_not_of("0123456789") == std::string_view::npos) {
            // Values past the range of milliseconds are ignored, as the parser documents.
            const std::string_view digits = value.substr(std::min(value.find_first_not_of('0'), value.size()));
            const std::string_view max = "9223372036854775807";
            if (digits.size() < max.size() || (digits.size() == max.size() && digits <= max))
                out.retry = milliseconds(digits.empty() ? 0 : std::stoll(std::string(digits)));
        }
    }
    return out;
}

void check_stream(std::string_view stream, std::uint8_t config) {
    const std::size_t max = limits[config & 7];
    const std::uint32_t seed = config >> 3;
    const Outcome whole = parse(stream, max, 0, 0);
    FUZZ_CHECK(parse(stream, max, seed, 1 + seed % 17) == whole);
    FUZZ_CHECK(parse(stream, max, seed + 1, 300) == whole);
    if (stream.size() <= 4096) {
        Parser bytewise(max);
        Outcome one;
        auto on_event = [&](const ParsedEvent& e) { one.events.push_back(e); };
        for (char c : stream) one.ok = bytewise.feed(std::string_view(&c, 1), on_event);
        bytewise.end_of_stream();
        one.last_event_id = bytewise.last_event_id();
        one.retry = bytewise.retry();
        FUZZ_CHECK(one == whole);
    }

    const Outcome unlimited = max == limits[0] ? whole : parse(stream, limits[0], 0, 0);
    FUZZ_CHECK(unlimited == reference(stream));
    FUZZ_CHECK(unlimited.ok);  // the input is far below 1 MiB
    if (whole.ok) {
        FUZZ_CHECK(whole == unlimited);
    } else {
        FUZZ_CHECK(whole.events.size() <= unlimited.events.size());
        FUZZ_CHECK(std::equal(whole.events.begin(), whole.events.end(), unlimited.events.begin()));
    }
    for (const ParsedEvent& e : whole.events) {
        // The data buffer held the data and its final LF, next to the type buffer, within the limit.
        FUZZ_CHECK(e.data.size() + 1 <= max);
        if (e.type != "message") FUZZ_CHECK(e.type.size() + e.data.size() + 1 <= max);
        FUZZ_CHECK(e.last_event_id.find('\0') == std::string::npos);
    }
}

bool single_line(std::string_view s) {
    return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

std::string normalize_line_ends(std::string_view s) {
    std::string r;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\r') {
            r += s[i];
            continue;
        }
        r += '\n';
        if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    }
    return r;
}

void check_round_trip(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    std::string stream;
    Outcome expected;
    while (in.remaining_bytes() > 0 && expected.events.size() < 64) {
        const int kind = in.ConsumeIntegralInRange(0, 9);
        if (kind == 0) {  // a comment between events
            const std::string text = in.ConsumeRandomLengthString(32);
            const std::size_t before = stream.size();
            encode_comment(text, stream);
            FUZZ_CHECK(stream.size() > before && stream.back() == '\n');
            continue;
        }
        if (kind == 1) {  // a custom field, which clients ignore
            const std::string field = "x-" + in.ConsumeRandomLengthString(8);
            const std::string value = in.ConsumeRandomLengthString(16);
            bool threw = false;
            try {
                encode_field(field, value, stream);
            } catch (const herald::error&) {
                threw = true;
            }
            FUZZ_CHECK(threw == !is_valid_field_name(field));
            continue;
        }
        Event e;
        e.event = in.ConsumeRandomLengthString(16);
        e.data = in.ConsumeRandomLengthString(64);
        e.id = in.ConsumeRandomLengthString(16);
        if (in.ConsumeBool()) e.retry = milliseconds(in.ConsumeIntegral<std::int64_t>());
        if (in.ConsumeIntegralInRange(0, 3) == 0) e.comment = in.ConsumeRandomLengthString(32);
        const bool valid = single_line(e.event) && single_line(e.id) && (!e.retry || e.retry->count() >= 0);
        const std::string before = stream;
        try {
            encode(e, stream);
            FUZZ_CHECK(valid);
        } catch (const herald::error&) {
            FUZZ_CHECK(!valid);
            FUZZ_CHECK(stream == before);  // nothing written
            continue;
        }
        FUZZ_CHECK(stream.size() >= before.size() + 1 && stream.back() == '\n');
        if (!e.id.empty()) expected.last_event_id = e.id;
        if (e.retry) expected.retry = e.retry;
        if (dispatches(e))
            expected.events.push_back({e.event.empty() ? "message" : e.event, normalize_line_ends(e.data),
                                       expected.last_event_id});
    }
    FUZZ_CHECK(parse(stream, limits[0], 0, 0) == expected);
    FUZZ_CHECK(parse(stream, limits[0], static_cast<std::uint32_t>(size), 7) == expected);
    FUZZ_CHECK(reference(stream) == expected);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    check_stream(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1), data[0]);
    check_round_trip(data, size);
    return 0;
}
