// Micro-benchmarks of the WebSocket codecs (include/herald/websocket/): masking a word at a time
// against the byte-at-a-time definition, UTF-8 validation of ASCII and of mixed multibyte text, and
// frame header parsing. Throughput is bytes/s of payload processed.
//
//   build/release/bench/micro/websocket_codec_bench [--benchmark_min_time=1]
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <herald/websocket/frame.hpp>
#include <herald/websocket/utf8.hpp>

namespace {

using namespace herald::websocket;

constexpr MaskKey key{0x37, 0xfa, 0x21, 0x3d};

[[noreturn]] void die(const char* what) {
    std::fprintf(stderr, "websocket_codec_bench: %s\n", what);
    std::abort();
}

std::vector<std::uint8_t> buffer_of(std::size_t size) {
    std::vector<std::uint8_t> b(size);
    for (std::size_t i = 0; i < size; ++i) b[i] = static_cast<std::uint8_t>(i * 131 + 7);
    return b;
}

// Masking in place; the argument is the payload size (32 B, 1 KiB, 64 KiB).
void BM_MaskBytewise(benchmark::State& state) {
    std::vector<std::uint8_t> data = buffer_of(static_cast<std::size_t>(state.range(0)));
    for (auto _ : state) {
        apply_mask_bytewise(data, key);
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(std::int64_t(state.iterations()) * state.range(0));
}
BENCHMARK(BM_MaskBytewise)->Arg(32)->Arg(1024)->Arg(64 * 1024);

void BM_MaskWordAtATime(benchmark::State& state) {
    std::vector<std::uint8_t> data = buffer_of(static_cast<std::size_t>(state.range(0)));
    for (auto _ : state) {
        apply_mask(std::span<std::uint8_t>(data), key);
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(std::int64_t(state.iterations()) * state.range(0));
}
BENCHMARK(BM_MaskWordAtATime)->Arg(32)->Arg(1024)->Arg(64 * 1024);

// A payload that starts at an odd address and a non-zero key offset: the second read of a frame.
void BM_MaskWordAtATimeUnaligned(benchmark::State& state) {
    std::vector<std::uint8_t> data = buffer_of(static_cast<std::size_t>(state.range(0)) + 1);
    for (auto _ : state) {
        apply_mask(std::span<std::uint8_t>(data.data() + 1, data.size() - 1), key, 3);
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(std::int64_t(state.iterations()) * state.range(0));
}
BENCHMARK(BM_MaskWordAtATimeUnaligned)->Arg(32)->Arg(1024)->Arg(64 * 1024);

std::string ascii_text(std::size_t size) {
    const std::string line = "The quick brown fox jumps over the lazy dog; {\"id\": 42, \"ok\": true}\n";
    std::string s;
    while (s.size() < size) s += line;
    s.resize(size);
    return s;
}

// Chat-like text: ASCII with Latin accents, Greek, CJK and emoji; about 60% of bytes are non-ASCII.
std::string mixed_text(std::size_t size) {
    const std::string line = "Grüße, κόσμε! 日本語のテキスト and emoji 😀🎉, naïve café. ";
    std::string s;
    while (s.size() < size) s += line;
    s.resize(valid_utf8_prefix(std::string_view(s).substr(0, size)));  // cut on a character boundary
    s.resize(size, 'x');
    return s;
}

void validate(benchmark::State& state, const std::string& text) {
    if (!is_valid_utf8(text)) die("benchmark text is not valid UTF-8");
    for (auto _ : state) {
        Utf8Validator v;
        const bool ok = v.feed(text) && v.complete();
        benchmark::DoNotOptimize(ok);
    }
    state.SetBytesProcessed(std::int64_t(state.iterations()) * std::int64_t(text.size()));
}

void BM_Utf8Ascii(benchmark::State& state) { validate(state, ascii_text(static_cast<std::size_t>(state.range(0)))); }
BENCHMARK(BM_Utf8Ascii)->Arg(32)->Arg(1024)->Arg(64 * 1024);

void BM_Utf8Mixed(benchmark::State& state) { validate(state, mixed_text(static_cast<std::size_t>(state.range(0)))); }
BENCHMARK(BM_Utf8Mixed)->Arg(32)->Arg(1024)->Arg(64 * 1024);

// Parsing the masked header of a small client frame, the common case on a server.
void BM_ParseMaskedHeader(benchmark::State& state) {
    const std::string frame = encode_frame({.opcode = Opcode::text, .masked = true, .mask_key = key}, "Hello");
    const FrameOptions options{.role = Role::server};
    for (auto _ : state) {
        const FrameParseResult r = parse_frame_header(frame, options);
        if (r.status != ParseStatus::complete) die("header did not parse");
        benchmark::DoNotOptimize(r.header.payload_length);
    }
    state.SetItemsProcessed(std::int64_t(state.iterations()));
}
BENCHMARK(BM_ParseMaskedHeader);

}  // namespace

BENCHMARK_MAIN();
