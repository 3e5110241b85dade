// Micro-benchmarks of the HTTP/1.1 request-head parser (include/herald/http/parser.hpp).
// Throughput is reported as bytes/s of request bytes parsed (and items/s = requests/s).
//
//   build/release/bench/micro/http_parser_bench [--benchmark_min_time=1]
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <cstdio>
#include <string>
#include <string_view>

#include <herald/http/parser.hpp>

namespace {

using herald::http::ParseStatus;
using herald::http::RequestParser;

// A typical browser navigation: request line + 8 header fields (~480 bytes).
constexpr std::string_view kBrowserGet =
    "GET /rooms/42/messages?since=1700000000&limit=50 HTTP/1.1\r\n"
    "Host: chat.example.com\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n"
    "Accept-Language: en-US,en;q=0.5\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Connection: keep-alive\r\n"
    "Cookie: session=8f14e45fceea167a5a36dedd4bea2543; theme=dark\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "\r\n";

constexpr std::string_view kSmallGet = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";

[[noreturn]] void die(const char* what) {
    std::fprintf(stderr, "http_parser_bench: %s\n", what);
    std::abort();
}

// One complete request head in one buffer, parsed from scratch each iteration.
void BM_ParseBrowserGet(benchmark::State& state) {
    RequestParser parser;
    const std::string buf(kBrowserGet);
    for (auto _ : state) {
        parser.reset();
        if (parser.parse(buf) != ParseStatus::complete) die("browser GET did not parse");
        benchmark::DoNotOptimize(parser.head().headers.data());
        benchmark::DoNotOptimize(parser.head_size());
    }
    if (parser.head().headers.size() != 8) die("expected 8 header fields");
    state.SetBytesProcessed(std::int64_t(state.iterations()) * std::int64_t(buf.size()));
    state.SetItemsProcessed(std::int64_t(state.iterations()));
}
BENCHMARK(BM_ParseBrowserGet);

// The same head arriving in two reads (split in the middle of the header block): the incremental path.
void BM_ParseBrowserGetSplit(benchmark::State& state) {
    RequestParser parser;
    const std::string buf(kBrowserGet);
    const std::string_view all(buf);
    const std::string_view first = all.substr(0, all.size() / 2);
    for (auto _ : state) {
        parser.reset();
        if (parser.parse(first) != ParseStatus::incomplete) die("split head completed early");
        if (parser.parse(all) != ParseStatus::complete) die("split head did not parse");
        benchmark::DoNotOptimize(parser.head().headers.data());
    }
    state.SetBytesProcessed(std::int64_t(state.iterations()) * std::int64_t(buf.size()));
    state.SetItemsProcessed(std::int64_t(state.iterations()));
}
BENCHMARK(BM_ParseBrowserGetSplit);

// A pipelined batch of 16 small GETs in one buffer, parsed back to back as the server would.
void BM_ParsePipelined16(benchmark::State& state) {
    constexpr int kBatch = 16;
    std::string buf;
    for (int i = 0; i < kBatch; ++i) buf += kSmallGet;
    RequestParser parser;
    for (auto _ : state) {
        std::string_view rest(buf);
        int parsed = 0;
        while (!rest.empty()) {
            parser.reset();
            if (parser.parse(rest) != ParseStatus::complete) die("pipelined GET did not parse");
            benchmark::DoNotOptimize(parser.head().target.data());
            rest.remove_prefix(parser.head_size());
            ++parsed;
        }
        if (parsed != kBatch) die("wrong pipelined count");
    }
    state.SetBytesProcessed(std::int64_t(state.iterations()) * std::int64_t(buf.size()));
    state.SetItemsProcessed(std::int64_t(state.iterations()) * kBatch);
}
BENCHMARK(BM_ParsePipelined16);

}  // namespace

BENCHMARK_MAIN();
