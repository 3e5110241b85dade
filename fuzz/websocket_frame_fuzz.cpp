// libFuzzer target for the WebSocket frame codec: header parser, frame sequencer, masking, UTF-8
// checks and Close payloads, driven the way a receiving session drives them.
//
// The first input byte picks the limits and extensions; the rest is the byte stream of one connection.
// It is received as a server (masked frames expected) and as a client (unmasked), once in one read and
// once in reads of a size chosen by the input. Besides crashes and sanitizer reports it checks
// properties: the outcome does not depend on how the stream was split, accepted headers round-trip
// through the serializer, prefixes of a header are incomplete, piecewise unmasking equals the bytewise
// definition, the sequencer's one-step path for a whole frame agrees with its three steps, delivered messages respect the limits and text messages are valid UTF-8, and errors
// carry only the close codes the codec may produce.
#include <herald/websocket/close_code.hpp>
#include <herald/websocket/frame.hpp>
#include <herald/websocket/utf8.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fuzz_check.hpp"

namespace {

using namespace herald::websocket;


struct Config {
    FrameOptions frame;
    MessageLimits message;
    std::size_t read_size = 1;
};

struct Outcome {
    std::vector<std::pair<Opcode, std::string>> events;  // messages and control frames, in order
    std::optional<ProtocolError> error;
    bool close_error = false;  // a Close frame whose payload parse_close_payload() rejected
};

bool same(const Outcome& a, const Outcome& b) {
    if (a.events != b.events || a.close_error != b.close_error) return false;
    if (a.error.has_value() != b.error.has_value()) return false;
    return !a.error || a.error->code == b.error->code;
}

void check_error_code(const ProtocolError& e) {
    FUZZ_CHECK(!e.reason.empty());
    FUZZ_CHECK(e.code == CloseCode::protocol_error || e.code == CloseCode::invalid_payload ||
               e.code == CloseCode::policy_violation || e.code == CloseCode::message_too_big);
}

// Header-level properties of one accepted header found at the start of `bytes`.
void check_header(std::string_view bytes, const FrameParseResult& r, const FrameOptions& options) {
    FUZZ_CHECK(r.header_size >= 2 && r.header_size <= max_frame_header_size && r.header_size <= bytes.size());
    const FrameHeader& h = r.header;
    FUZZ_CHECK(is_known_opcode(static_cast<std::uint8_t>(h.opcode)));
    FUZZ_CHECK(h.masked == (options.role == Role::server));
    FUZZ_CHECK(h.payload_length <= options.max_payload_bytes);
    FUZZ_CHECK(h.payload_length < (std::uint64_t{1} << 63));
    if (is_control(h.opcode)) FUZZ_CHECK(h.fin && h.payload_length <= max_control_payload && !h.rsv1 && !h.rsv2 && !h.rsv3);
    if (h.rsv1) FUZZ_CHECK(options.allowed_rsv & rsv1_bit);
    if (h.rsv2) FUZZ_CHECK(options.allowed_rsv & rsv2_bit);
    if (h.rsv3) FUZZ_CHECK(options.allowed_rsv & rsv3_bit);
    // The serializer writes the minimal form of the same header, which parses back to it.
    const FrameHeaderBytes again = encode_frame_header(h);
    FUZZ_CHECK(again.size <= r.header_size);
    const FrameParseResult back = parse_frame_header(again.view(), options);
    FUZZ_CHECK(back.status == ParseStatus::complete && back.header == h && back.header_size == again.size);
    // Every proper prefix of the header is incomplete.
    for (std::size_t n = 0; n < r.header_size; ++n)
        FUZZ_CHECK(parse_frame_header(bytes.substr(0, n), options).status == ParseStatus::incomplete);
}

// The read loop's fast path takes a frame usual_message_frame_size() accepts without the parser: it
// must be exactly a final text or binary frame without RSV bits and with a 7-bit length, all in `bytes`,
// and every such frame must be accepted.
void check_usual_message(std::string_view bytes, const FrameParseResult& r, const FrameOptions& options) {
    const FrameHeader& h = r.header;
    const bool usual = h.fin && !h.rsv1 && !h.rsv2 && !h.rsv3 && (h.opcode == Opcode::text || h.opcode == Opcode::binary) &&
                       (static_cast<unsigned char>(bytes[1]) & 0x7F) < 126 && r.header_size + h.payload_length <= bytes.size();
    const std::size_t size = usual_message_frame_size(bytes, options);
    FUZZ_CHECK(size == (usual ? r.header_size + h.payload_length : 0));
}

// A final text or binary frame without RSV bits, whole in `payload` (unmasked): the one-step
// on_whole_message() must end where on_header(), on_payload() and on_frame_end() end, error or not.
void check_whole_message(const FrameSequencer& seq, const FrameHeader& h, std::string_view payload) {
    if (!h.fin || h.rsv1 || h.rsv2 || h.rsv3 || (h.opcode != Opcode::text && h.opcode != Opcode::binary)) return;
    FrameSequencer steps = seq;
    std::optional<ProtocolError> e = steps.on_header(h);
    if (!e) e = steps.on_payload(payload);
    if (!e) e = steps.on_frame_end();
    FrameSequencer whole = seq;
    const std::optional<ProtocolError> w = whole.on_whole_message(h.opcode, payload);
    FUZZ_CHECK(e.has_value() == w.has_value());
    if (e) {
        FUZZ_CHECK(e->code == w->code);
        return;
    }
    FUZZ_CHECK(whole.message_complete() && !whole.in_message() && whole.message_opcode() == steps.message_opcode());
    FUZZ_CHECK(whole.message_bytes() == steps.message_bytes() && whole.fragment_count() == steps.fragment_count());
}

// Receives `stream` with reads of `read_size` bytes: the buffer grows by one read at a time, headers
// are parsed from the current position, payload is unmasked piece by piece as it becomes available.
Outcome receive(std::string_view stream, const Config& config, std::size_t read_size, bool deep_checks) {
    Outcome out;
    FrameSequencer seq(config.message);
    std::size_t available = std::min(read_size, stream.size());
    std::size_t pos = 0;
    std::string message;
    for (int frames = 0; frames < 4096;) {
        const std::string_view buffer = stream.substr(0, available);
        const FrameParseResult r = parse_frame_header(buffer.substr(pos), config.frame);
        if (r.status == ParseStatus::incomplete) {
            if (available == stream.size()) break;
            available = std::min(available + read_size, stream.size());
            continue;
        }
        if (r.status == ParseStatus::error) {
            check_error_code(r.error);
            out.error = r.error;
            break;
        }
        ++frames;
        if (deep_checks) {
            check_header(buffer.substr(pos), r, config.frame);
            check_usual_message(buffer.substr(pos), r, config.frame);
            const std::string_view rest = stream.substr(pos + r.header_size);
            if (rest.size() >= r.header.payload_length) {
                std::string payload(rest.substr(0, static_cast<std::size_t>(r.header.payload_length)));
                if (r.header.masked) apply_mask(std::span<char>(payload), r.header.mask_key);
                check_whole_message(seq, r.header, payload);
            }
        }
        if (auto e = seq.on_header(r.header)) {
            check_error_code(*e);
            out.error = e;
            break;
        }
        FUZZ_CHECK(seq.message_bytes() <= config.message.max_message_bytes);
        if (config.message.max_fragments != 0) FUZZ_CHECK(seq.fragment_count() <= config.message.max_fragments);
        pos += r.header_size;
        const FrameHeader& h = r.header;
        const std::size_t payload_start = pos;
        std::string payload;  // this frame's unmasked payload
        bool failed = false;
        while (payload.size() < h.payload_length) {
            if (pos == available) {
                if (available == stream.size()) break;
                available = std::min(available + read_size, stream.size());
                continue;
            }
            const std::size_t take = static_cast<std::size_t>(
                std::min<std::uint64_t>(h.payload_length - payload.size(), available - pos));
            std::string piece(stream.substr(pos, take));
            if (h.masked) apply_mask(std::span<char>(piece), h.mask_key, payload.size());
            pos += take;
            payload += piece;
            if (!is_control(h.opcode)) {
                if (auto e = seq.on_payload(piece)) {
                    check_error_code(*e);
                    out.error = e;
                    failed = true;
                    break;
                }
                message += piece;
            }
        }
        if (failed || payload.size() < h.payload_length) break;  // error, or the stream ended mid-frame
        if (h.masked && deep_checks) {
            std::string slow(stream.substr(payload_start, payload.size()));
            apply_mask_bytewise(std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(slow.data()), slow.size()),
                                h.mask_key);
            FUZZ_CHECK(slow == payload);
        }
        if (auto e = seq.on_frame_end()) {
            check_error_code(*e);
            FUZZ_CHECK(e->code == CloseCode::invalid_payload);
            out.error = e;
            break;
        }
        if (is_control(h.opcode)) {
            FUZZ_CHECK(payload.size() <= max_control_payload);
            if (h.opcode == Opcode::close) {
                const CloseParseResult c = parse_close_payload(payload);
                if (c.error) {
                    FUZZ_CHECK(c.error->code == CloseCode::protocol_error || c.error->code == CloseCode::invalid_payload);
                    out.close_error = true;
                } else if (c.status.code != CloseCode::no_status) {
                    FUZZ_CHECK(is_valid_wire_close_code(to_underlying(c.status.code)));
                    FUZZ_CHECK(is_valid_utf8(c.status.reason));
                    // Echoing the status back must rebuild the same payload.
                    FUZZ_CHECK(make_close_payload(c.status.code, c.status.reason) == payload);
                }
            }
            out.events.emplace_back(h.opcode, std::move(payload));
            continue;
        }
        if (seq.message_complete()) {
            FUZZ_CHECK(message.size() == seq.message_bytes());
            FUZZ_CHECK(message.size() <= config.message.max_message_bytes);
            if (seq.message_opcode() == Opcode::text && config.message.validate_utf8)
                FUZZ_CHECK(is_valid_utf8(message));
            FUZZ_CHECK(seq.message_opcode() == Opcode::text || seq.message_opcode() == Opcode::binary);
            out.events.emplace_back(seq.message_opcode(), std::move(message));
            message.clear();
        }
    }
    return out;
}

// Every delivered message, cut into frames by FragmentPlan and serialized by append_frame (masked as the
// role requires), must be received back unchanged: the writer and the reader agree on the format.
void check_reframed(const Outcome& once, const Config& config) {
    const std::uint8_t key_seed = static_cast<std::uint8_t>(config.read_size);
    for (const auto& [opcode, payload] : once.events) {
        if (is_control(opcode)) continue;
        for (const std::uint64_t max : {std::uint64_t{1}, std::uint64_t{7}, std::uint64_t{0}}) {
            const FragmentPlan plan(opcode, payload.size(), max);
            if (plan.size() > 64) continue;
            std::string stream;
            for (std::uint64_t i = 0; i < plan.size(); ++i) {
                FrameHeader h = plan.header(i);
                h.masked = config.frame.role == Role::server;
                h.mask_key = {key_seed, static_cast<std::uint8_t>(i), 0xa5, 0x3c};
                append_frame(stream, h, std::string_view(payload).substr(plan.offset(i), h.payload_length));
            }
            Config lax = config;
            lax.frame.max_payload_bytes = payload.size() + 1;
            lax.message.max_fragments = 0;
            const Outcome again = receive(stream, lax, stream.size(), false);
            FUZZ_CHECK(!again.error);
            FUZZ_CHECK(again.events.size() == 1 && again.events[0].first == opcode && again.events[0].second == payload);
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::uint8_t c = data[0];
    const std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);

    Config config;
    static constexpr std::uint8_t rsv_choices[] = {0, rsv1_bit, rsv1_bit | rsv2_bit | rsv3_bit, 0};
    config.frame.allowed_rsv = rsv_choices[(c >> 1) & 3];
    const bool small = (c & 0x08) != 0;
    config.frame.max_payload_bytes = small ? 64 : 1 << 20;
    config.message.max_message_bytes = small ? 100 : 1 << 20;
    config.message.max_fragments = (c & 0x10) != 0 ? 4 : 0;
    config.message.validate_utf8 = (c & 0x20) == 0;
    config.read_size = std::size_t{1} + ((c >> 6) * 5);  // 1, 6, 11 or 16 bytes per read

    for (const Role role : {Role::server, Role::client}) {
        config.frame.role = role;
        const Outcome once = receive(stream, config, std::max<std::size_t>(stream.size(), 1), true);
        const Outcome split = receive(stream, config, config.read_size, false);
        FUZZ_CHECK(same(once, split));
        if (config.message.validate_utf8 && !small) check_reframed(once, config);
    }
    return 0;
}
