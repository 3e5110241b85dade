// libFuzzer target for the exactly-once request envelope (include/herald/websocket/dedup.hpp).
//
// The input is one message. What parse_request() / parse_ack() accept must encode back to the same
// bytes (the envelope has one spelling), and the Deduplicator must answer a request with an ACK of its
// seq — the same one when the message repeats — and ignore anything else.
#include <herald/websocket/dedup.hpp>

#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace herald::websocket;
    const std::string_view message(reinterpret_cast<const char*>(data), size);

    if (auto r = parse_request(message)) {
        FUZZ_CHECK(is_valid_client_id(r->client) && r->seq > 0);
        FUZZ_CHECK(encode_request(r->client, r->seq, r->payload) == message);
    }
    if (auto a = parse_ack(message)) {
        FUZZ_CHECK(a->seq > 0);
        FUZZ_CHECK((a->expired ? encode_expired(a->seq) : encode_ack(a->seq, a->answer)) == message);
    }

    Deduplicator dedup({.window = 4, .max_clients = 2});
    int calls = 0;
    auto process = [&](std::string_view payload) {
        ++calls;
        return std::string(payload.substr(0, 8));
    };
    const auto first = dedup.handle(message, process);
    FUZZ_CHECK(first.has_value() == parse_request(message).has_value());
    if (first) {
        auto ack = parse_ack(*first);
        FUZZ_CHECK(ack && !ack->expired && ack->seq == parse_request(message)->seq);
        FUZZ_CHECK(dedup.handle(message, process) == first);
        FUZZ_CHECK(calls == 1);
    }
    return 0;
}
