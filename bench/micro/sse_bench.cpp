// Micro-benchmarks of the Server-Sent Events codec (include/herald/sse/): encoding a 100-byte event
// into a reused buffer, and parsing a stream of 1,000 small events in one feed, in 1 KiB reads and with
// CRLF line ends. Throughput is bytes/s of wire bytes and items/s of events.
//
//   build/release/bench/micro/sse_bench [--benchmark_min_time=1]
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <herald/sse/event.hpp>
#include <herald/sse/parser.hpp>

namespace {

using namespace herald::sse;

[[noreturn]] void die(const char* what) {
    std::fprintf(stderr, "sse_bench: %s\n", what);
    std::abort();
}

// 100 bytes of JSON-ish payload, on one line or on four.
std::string payload(bool multi_line) {
    std::string s =
        R"({"room":"lobby","user":"ada","text":"hello, world","ts":1700000000123,"seq":42,"tags":["x","y"]})";
    s.resize(100, ' ');
    if (multi_line)
        for (std::size_t at : {25u, 50u, 75u}) s[at] = '\n';
    return s;
}

void encode_bench(benchmark::State& state, bool multi_line) {
    const Event event{.event = "chat", .data = payload(multi_line), .id = "1700000000123-42"};
    std::string out;
    for (auto _ : state) {
        out.clear();  // the connection's write buffer is reused, as on the data path
        encode(event, out);
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(std::int64_t(state.iterations()) * std::int64_t(out.size()));
    state.SetItemsProcessed(std::int64_t(state.iterations()));
    state.counters["wire_bytes"] = double(out.size());
}

void BM_Encode100ByteEvent(benchmark::State& state) { encode_bench(state, false); }
BENCHMARK(BM_Encode100ByteEvent);

void BM_Encode100ByteEventFourLines(benchmark::State& state) { encode_bench(state, true); }
BENCHMARK(BM_Encode100ByteEventFourLines);

// 1,000 small events as a server sends them: an id, a type and one short data line each.
std::string small_events(bool crlf) {
    std::string stream;
    for (int i = 0; i < 1000; ++i) {
        encode({.event = i % 10 ? "tick" : "", .data = R"({"n":)" + std::to_string(i) + "}", .id = std::to_string(i)},
               stream);
    }
    if (crlf) {
        std::string with_crlf;
        for (char c : stream) {
            if (c == '\n') with_crlf += '\r';
            with_crlf += c;
        }
        stream = with_crlf;
    }
    return stream;
}

void parse_bench(benchmark::State& state, bool crlf, std::size_t read_size) {
    const std::string stream = small_events(crlf);
    const std::string_view all(stream);
    std::size_t events = 0;
    std::size_t data_bytes = 0;
    const auto on_event = [&](const ParsedEvent& e) {
        ++events;
        data_bytes += e.data.size();
    };
    Parser parser;
    for (auto _ : state) {
        events = 0;
        parser.reset_stream();
        for (std::size_t at = 0; at < all.size(); at += read_size)
            if (!parser.feed(all.substr(at, read_size), on_event)) die("parse failed");
        if (events != 1000) die("expected 1000 events");
        benchmark::DoNotOptimize(data_bytes);
    }
    if (parser.last_event_id() != "999") die("wrong last event id");
    state.SetBytesProcessed(std::int64_t(state.iterations()) * std::int64_t(stream.size()));
    state.SetItemsProcessed(std::int64_t(state.iterations()) * 1000);
    state.counters["stream_bytes"] = double(stream.size());
}

void BM_Parse1000SmallEvents(benchmark::State& state) { parse_bench(state, false, std::string::npos); }
BENCHMARK(BM_Parse1000SmallEvents);

void BM_Parse1000SmallEventsIn1KiBReads(benchmark::State& state) { parse_bench(state, false, 1024); }
BENCHMARK(BM_Parse1000SmallEventsIn1KiBReads);

void BM_Parse1000SmallEventsCrlf(benchmark::State& state) { parse_bench(state, true, std::string::npos); }
BENCHMARK(BM_Parse1000SmallEventsCrlf);

}  // namespace

BENCHMARK_MAIN();
