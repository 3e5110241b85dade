// WebSocket framing: header parser (every rule, every split), sequencer, serialization, fragmentation
// plans and masking, with the example frames of RFC 6455 §5.7.
#include <herald/websocket/frame.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace herald::websocket {
namespace {

std::string bytes(std::initializer_list<int> list) {
    std::string s;
    for (int b : list) s.push_back(static_cast<char>(b));
    return s;
}

constexpr MaskKey rfc_key{0x37, 0xfa, 0x21, 0x3d};

FrameOptions server(std::uint64_t max = 1 << 20, std::uint8_t rsv = 0) {
    return {.role = Role::server, .max_payload_bytes = max, .allowed_rsv = rsv};
}
FrameOptions client(std::uint64_t max = 1 << 20, std::uint8_t rsv = 0) {
    return {.role = Role::client, .max_payload_bytes = max, .allowed_rsv = rsv};
}

void expect_same(const FrameParseResult& a, const FrameParseResult& b, const std::string& where) {
    EXPECT_EQ(a.status, b.status) << where;
    if (a.status == ParseStatus::complete) {
        EXPECT_EQ(a.header, b.header) << where;
        EXPECT_EQ(a.header_size, b.header_size) << where;
    }
    if (a.status == ParseStatus::error) EXPECT_EQ(a.error, b.error) << where;
}

// Parses `input` from an exactly sized heap copy (so ASan flags any read past the end), then every
// prefix of it: prefixes shorter than the deciding length are incomplete, longer ones give the same
// result. For a complete header the deciding length is the header size. Returns the full result.
FrameParseResult parse_every_split(std::string_view input, const FrameOptions& options) {
    auto parse_copy = [&](std::size_t n) {
        std::unique_ptr<std::byte[]> copy(new std::byte[n == 0 ? 1 : n]);
        std::memcpy(copy.get(), input.data(), n);
        return parse_frame_header(std::span<const std::byte>(copy.get(), n), options);
    };
    const FrameParseResult full = parse_copy(input.size());
    expect_same(parse_frame_header(input, options), full, "string_view overload");
    bool decided = false;
    for (std::size_t n = 0; n <= input.size(); ++n) {
        const FrameParseResult r = parse_copy(n);
        if (!decided && r.status == ParseStatus::incomplete) continue;
        if (!decided && full.status == ParseStatus::complete) EXPECT_EQ(n, full.header_size);
        decided = true;
        expect_same(r, full, "prefix of " + std::to_string(n) + " bytes");
    }
    return full;
}

ProtocolError error_of(std::string_view input, const FrameOptions& options) {
    const FrameParseResult r = parse_every_split(input, options);
    EXPECT_EQ(r.status, ParseStatus::error);
    EXPECT_FALSE(r.error.reason.empty());
    return r.error;
}

FrameHeader header_of(std::string_view input, const FrameOptions& options, std::size_t expected_size) {
    const FrameParseResult r = parse_every_split(input, options);
    EXPECT_EQ(r.status, ParseStatus::complete) << r.error.reason;
    EXPECT_EQ(r.header_size, expected_size);
    return r.header;
}

// ---- a miniature receiving session built from the codecs, used to check whole byte streams ----

struct Received {
    std::vector<std::pair<Opcode, std::string>> messages;  // data messages and control frames in order
    std::optional<ProtocolError> error;
    std::size_t max_buffer = 0;                            // largest message buffer held
};

// Feeds `stream` in reads of `read_size` bytes (0: all at once), keeping only the unparsed tail, as a
// session does, and unmasking the payload piece by piece as it arrives.
Received receive(std::string_view stream, const FrameOptions& options, const MessageLimits& limits,
                 std::size_t read_size = 0) {
    Received out;
    FrameSequencer seq(limits);
    std::string pending;  // unparsed bytes
    std::string message;
    std::string control;
    std::optional<FrameParseResult> frame;  // header of the frame whose payload is being read
    std::uint64_t payload_seen = 0;
    std::size_t fed = 0;
    const std::size_t step = read_size == 0 ? std::max<std::size_t>(stream.size(), 1) : read_size;
    while (!out.error) {
        if (!frame) {
            const FrameParseResult r = parse_frame_header(pending, options);
            if (r.status == ParseStatus::error) {
                out.error = r.error;
                break;
            }
            if (r.status == ParseStatus::complete) {
                if (auto e = seq.on_header(r.header)) {
                    out.error = e;
                    break;
                }
                pending.erase(0, r.header_size);
                frame = r;
                payload_seen = 0;
                control.clear();
            }
        }
        if (frame) {
            const std::uint64_t left = frame->header.payload_length - payload_seen;
            const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(left, pending.size()));
            std::string piece = pending.substr(0, take);
            pending.erase(0, take);
            if (frame->header.masked) apply_mask(std::span<char>(piece), frame->header.mask_key, payload_seen);
            payload_seen += take;
            if (is_control(frame->header.opcode)) {
                control += piece;
            } else if (!piece.empty()) {
                if (auto e = seq.on_payload(piece)) {
                    out.error = e;
                    break;
                }
                message += piece;
                out.max_buffer = std::max(out.max_buffer, message.size());
            }
            if (payload_seen == frame->header.payload_length) {
                if (auto e = seq.on_frame_end()) {
                    out.error = e;
                    break;
                }
                if (is_control(frame->header.opcode)) {
                    out.messages.emplace_back(frame->header.opcode, control);
                } else if (seq.message_complete()) {
                    out.messages.emplace_back(seq.message_opcode(), message);
                    message.clear();
                }
                frame.reset();
                continue;  // the next header may already be in `pending`
            }
        }
        if (fed >= stream.size()) break;
        const std::size_t n = std::min(step, stream.size() - fed);
        pending.append(stream.substr(fed, n));
        fed += n;
    }
    return out;
}

// The same stream must give the same outcome whatever the read size.
Received receive_every_read_size(std::string_view stream, const FrameOptions& options,
                                 const MessageLimits& limits = {}) {
    const Received once = receive(stream, options, limits);
    for (std::size_t read = 1; read <= stream.size(); ++read) {
        const Received split = receive(stream, options, limits, read);
        EXPECT_EQ(split.messages, once.messages) << "read size " << read;
        EXPECT_EQ(split.error, once.error) << "read size " << read;
    }
    return once;
}

// ---- RFC 6455 §5.7 examples ----

TEST(FrameParser, RfcSingleFrameUnmaskedText) {
    const std::string frame = bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f});
    const FrameHeader h = header_of(frame, client(), 2);
    EXPECT_EQ(h.opcode, Opcode::text);
    EXPECT_TRUE(h.fin);
    EXPECT_FALSE(h.masked);
    EXPECT_FALSE(h.rsv1 || h.rsv2 || h.rsv3);
    EXPECT_EQ(h.payload_length, 5u);
    EXPECT_EQ(frame.substr(2), "Hello");
    EXPECT_EQ(encode_frame({.opcode = Opcode::text}, "Hello"), frame);

    const Received r = receive_every_read_size(frame, client());
    ASSERT_FALSE(r.error);
    ASSERT_EQ(r.messages.size(), 1u);
    EXPECT_EQ(r.messages[0], std::make_pair(Opcode::text, std::string("Hello")));
}

TEST(FrameParser, RfcSingleFrameMaskedText) {
    const std::string frame = bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
    const FrameHeader h = header_of(frame, server(), 6);
    EXPECT_EQ(h.opcode, Opcode::text);
    EXPECT_TRUE(h.fin);
    EXPECT_TRUE(h.masked);
    EXPECT_EQ(h.mask_key, rfc_key);
    EXPECT_EQ(h.payload_length, 5u);
    std::string payload = frame.substr(6);
    apply_mask(std::span<char>(payload), h.mask_key);
    EXPECT_EQ(payload, "Hello");
    EXPECT_EQ(encode_frame({.opcode = Opcode::text, .masked = true, .mask_key = rfc_key}, "Hello"), frame);

    const Received r = receive_every_read_size(frame, server());
    ASSERT_FALSE(r.error);
    ASSERT_EQ(r.messages.size(), 1u);
    EXPECT_EQ(r.messages[0].second, "Hello");
}

TEST(FrameParser, RfcFragmentedUnmaskedText) {
    const std::string first = bytes({0x01, 0x03, 0x48, 0x65, 0x6c});
    const std::string second = bytes({0x80, 0x02, 0x6c, 0x6f});
    const FrameHeader h1 = header_of(first, client(), 2);
    EXPECT_EQ(h1.opcode, Opcode::text);
    EXPECT_FALSE(h1.fin);
    EXPECT_EQ(h1.payload_length, 3u);
    const FrameHeader h2 = header_of(second, client(), 2);
    EXPECT_EQ(h2.opcode, Opcode::continuation);
    EXPECT_TRUE(h2.fin);
    EXPECT_EQ(h2.payload_length, 2u);
    EXPECT_EQ(encode_frame({.opcode = Opcode::text, .fin = false}, "Hel"), first);
    EXPECT_EQ(encode_frame({.opcode = Opcode::continuation}, "lo"), second);

    const Received r = receive_every_read_size(first + second, client());
    ASSERT_FALSE(r.error);
    ASSERT_EQ(r.messages.size(), 1u);
    EXPECT_EQ(r.messages[0], std::make_pair(Opcode::text, std::string("Hello")));
}

TEST(FrameParser, RfcPingAndMaskedPong) {
    const std::string ping = bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f});
    const FrameHeader hp = header_of(ping, client(), 2);
    EXPECT_EQ(hp.opcode, Opcode::ping);
    EXPECT_EQ(hp.payload_length, 5u);
    EXPECT_EQ(encode_frame({.opcode = Opcode::ping}, "Hello"), ping);

    const std::string pong = bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
    const FrameHeader hq = header_of(pong, server(), 6);
    EXPECT_EQ(hq.opcode, Opcode::pong);
    EXPECT_TRUE(hq.masked);
    EXPECT_EQ(hq.mask_key, rfc_key);
    EXPECT_EQ(encode_frame({.opcode = Opcode::pong, .masked = true, .mask_key = rfc_key}, "Hello"), pong);

    const Received r = receive_every_read_size(pong, server());
    ASSERT_EQ(r.messages.size(), 1u);
    EXPECT_EQ(r.messages[0], std::make_pair(Opcode::pong, std::string("Hello")));
}

TEST(FrameParser, Rfc256ByteBinaryHeader) {
    const std::string head = bytes({0x82, 0x7e, 0x01, 0x00});
    const FrameHeader h = header_of(head, client(), 4);
    EXPECT_EQ(h.opcode, Opcode::binary);
    EXPECT_EQ(h.payload_length, 256u);
    EXPECT_EQ(encode_frame_header({.opcode = Opcode::binary, .payload_length = 256}).view(), head);

    std::string payload(256, '\0');
    for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i);
    const Received r = receive(head + payload, client(), {});
    ASSERT_FALSE(r.error);
    ASSERT_EQ(r.messages.size(), 1u);
    EXPECT_EQ(r.messages[0], std::make_pair(Opcode::binary, payload));
}

TEST(FrameParser, Rfc64KiBBinaryHeader) {
    const std::string head = bytes({0x82, 0x7f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00});
    const FrameHeader h = header_of(head, client(), 10);
    EXPECT_EQ(h.opcode, Opcode::binary);
    EXPECT_EQ(h.payload_length, 65536u);
    EXPECT_EQ(encode_frame_header({.opcode = Opcode::binary, .payload_length = 65536}).view(), head);

    const std::string payload(65536, 'x');
    for (const std::size_t read : {std::size_t{0}, std::size_t{1000}, std::size_t{4093}}) {
        const Received r = receive(head + payload, client(), {}, read);
        ASSERT_FALSE(r.error);
        ASSERT_EQ(r.messages.size(), 1u);
        EXPECT_EQ(r.messages[0].second, payload);
    }
}

// ---- individual rules ----

TEST(FrameParser, EmptyInputIsIncomplete) {
    EXPECT_EQ(parse_frame_header(std::string_view{}, server()).status, ParseStatus::incomplete);
    EXPECT_EQ(parse_frame_header(std::span<const std::byte>{}, client()).status, ParseStatus::incomplete);
}

TEST(FrameParser, ServerRequiresMaskedFrames) {
    const ProtocolError e = error_of(bytes({0x81, 0x05, 'H', 'e', 'l', 'l', 'o'}), server());
    EXPECT_EQ(e.code, CloseCode::protocol_error);
    // Decided by the second byte, before any payload or extended length.
    EXPECT_EQ(parse_frame_header(bytes({0x82, 0x7f}), server()).status, ParseStatus::error);
}

TEST(FrameParser, ClientRequiresUnmaskedFrames) {
    const ProtocolError e = error_of(bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d}), client());
    EXPECT_EQ(e.code, CloseCode::protocol_error);
}

TEST(FrameParser, ReservedBitsWithoutExtension) {
    for (const int bit : {0x40, 0x20, 0x10, 0x70}) {
        const std::string frame = bytes({0x81 | bit, 0x80, 1, 2, 3, 4});
        EXPECT_EQ(error_of(frame, server()).code, CloseCode::protocol_error) << bit;
        EXPECT_EQ(parse_frame_header(frame.substr(0, 1), server()).status, ParseStatus::error);
    }
}

TEST(FrameParser, ReservedBitsAllowedByExtension) {
    const FrameHeader h = header_of(bytes({0xc1, 0x80, 1, 2, 3, 4}), server(1 << 20, rsv1_bit), 6);
    EXPECT_TRUE(h.rsv1);
    EXPECT_FALSE(h.rsv2 || h.rsv3);
    // RSV1 negotiated does not allow RSV2 or RSV3.
    EXPECT_EQ(error_of(bytes({0xa1, 0x80, 1, 2, 3, 4}), server(1 << 20, rsv1_bit)).code, CloseCode::protocol_error);
    EXPECT_EQ(error_of(bytes({0x91, 0x80, 1, 2, 3, 4}), server(1 << 20, rsv1_bit)).code, CloseCode::protocol_error);
    const FrameHeader all = header_of(bytes({0xf2, 0x00}), client(1 << 20, rsv1_bit | rsv2_bit | rsv3_bit), 2);
    EXPECT_TRUE(all.rsv1 && all.rsv2 && all.rsv3);
    // Continuation frames pass the parser with RSV1; the sequencer rejects them (RFC 7692).
    EXPECT_TRUE(header_of(bytes({0xc0, 0x00}), client(1 << 20, rsv1_bit), 2).rsv1);
}

TEST(FrameParser, ReservedBitOnControlFrameEvenWhenNegotiated) {
    for (const int op : {0x8, 0x9, 0xa})
        EXPECT_EQ(error_of(bytes({0xc0 | op, 0x80, 1, 2, 3, 4}), server(1 << 20, rsv1_bit)).code,
                  CloseCode::protocol_error);
}

TEST(FrameParser, ReservedOpcodes) {
    for (int op = 0; op < 16; ++op) {
        const std::string frame = bytes({0x80 | op, 0x80, 1, 2, 3, 4});
        const bool known = op <= 2 || (op >= 8 && op <= 10);
        EXPECT_EQ(is_known_opcode(static_cast<std::uint8_t>(op)), known);
        if (known) {
            EXPECT_EQ(header_of(frame, server(), 6).opcode, static_cast<Opcode>(op));
        } else {
            EXPECT_EQ(error_of(frame, server()).code, CloseCode::protocol_error) << op;
            EXPECT_EQ(parse_frame_header(frame.substr(0, 1), server()).status, ParseStatus::error);
        }
    }
}

TEST(FrameParser, FragmentedControlFrames) {
    for (const int op : {0x8, 0x9, 0xa}) {
        EXPECT_EQ(error_of(bytes({op, 0x80, 1, 2, 3, 4}), server()).code, CloseCode::protocol_error);
        EXPECT_EQ(error_of(bytes({op, 0x00}), client()).code, CloseCode::protocol_error);
    }
}

TEST(FrameParser, ControlFramePayloadLimit) {
    for (const int op : {0x88, 0x89, 0x8a}) {
        EXPECT_EQ(header_of(bytes({op, 125}), client(), 2).payload_length, 125u);
        EXPECT_EQ(error_of(bytes({op, 126, 0x00, 0x7e}), client()).code, CloseCode::protocol_error);
        EXPECT_EQ(error_of(bytes({op, 127, 0, 0, 0, 0, 0, 0, 0, 126}), client()).code, CloseCode::protocol_error);
        // The 7-bit field alone decides it, even when the extended length would be small.
        EXPECT_EQ(error_of(bytes({op, 0x80 | 126, 0x00, 0x05}), server()).code, CloseCode::protocol_error);
        EXPECT_EQ(parse_frame_header(bytes({op, 126}), client()).status, ParseStatus::error);
    }
}

TEST(FrameParser, LengthEncodings) {
    EXPECT_EQ(header_of(bytes({0x82, 0}), client(), 2).payload_length, 0u);
    EXPECT_EQ(header_of(bytes({0x82, 125}), client(), 2).payload_length, 125u);
    EXPECT_EQ(header_of(bytes({0x82, 126, 0x00, 126}), client(), 4).payload_length, 126u);
    EXPECT_EQ(header_of(bytes({0x82, 126, 0xff, 0xff}), client(), 4).payload_length, 65535u);
    EXPECT_EQ(header_of(bytes({0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0}), client(), 10).payload_length, 65536u);
    const std::uint64_t max63 = 0x7fffffffffffffffULL;
    EXPECT_EQ(header_of(bytes({0x82, 127, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}), client(max63), 10)
                  .payload_length,
              max63);
    EXPECT_EQ(header_of(bytes({0x82, 127, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08}), client(max63), 10)
                  .payload_length,
              0x0102030405060708ULL);
    // Masked: the key follows the extended length.
    const FrameHeader m = header_of(bytes({0x82, 0xfe, 0x01, 0x00, 9, 8, 7, 6}), server(), 8);
    EXPECT_EQ(m.payload_length, 256u);
    EXPECT_EQ(m.mask_key, (MaskKey{9, 8, 7, 6}));
    const FrameHeader m64 = header_of(bytes({0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 9, 8, 7, 6}), server(), 14);
    EXPECT_EQ(m64.payload_length, 65536u);
    EXPECT_EQ(m64.mask_key, (MaskKey{9, 8, 7, 6}));
}

TEST(FrameParser, NonMinimalLengthsAreAccepted) {
    EXPECT_EQ(header_of(bytes({0x82, 126, 0x00, 0x00}), client(), 4).payload_length, 0u);
    EXPECT_EQ(header_of(bytes({0x82, 126, 0x00, 0x05}), client(), 4).payload_length, 5u);
    EXPECT_EQ(header_of(bytes({0x82, 127, 0, 0, 0, 0, 0, 0, 0, 5}), client(), 10).payload_length, 5u);
    EXPECT_EQ(header_of(bytes({0x82, 127, 0, 0, 0, 0, 0, 0, 0xff, 0xff}), client(), 10).payload_length, 65535u);
}

TEST(FrameParser, SixtyFourBitLengthWithTopBitSet) {
    const std::uint64_t no_limit = ~std::uint64_t{0};
    for (const int top : {0x80, 0xff, 0x81})
        EXPECT_EQ(error_of(bytes({0x82, 127, top, 0, 0, 0, 0, 0, 0, 1}), client(no_limit)).code,
                  CloseCode::protocol_error);
    EXPECT_EQ(error_of(bytes({0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}), server(no_limit)).code,
              CloseCode::protocol_error);
}

TEST(FrameParser, PayloadOverLimitIsMessageTooBig) {
    // Decided by the length alone: before the masking key and long before any payload arrives.
    EXPECT_EQ(header_of(bytes({0x82, 10}), client(10), 2).payload_length, 10u);
    EXPECT_EQ(error_of(bytes({0x82, 11}), client(10)).code, CloseCode::message_too_big);
    EXPECT_EQ(error_of(bytes({0x82, 0x8b, 1, 2, 3, 4}), server(10)).code, CloseCode::message_too_big);
    EXPECT_EQ(parse_frame_header(bytes({0x82, 0x8b}), server(10)).status, ParseStatus::error);
    EXPECT_EQ(header_of(bytes({0x82, 126, 0x01, 0x00}), client(256), 4).payload_length, 256u);
    EXPECT_EQ(error_of(bytes({0x82, 126, 0x01, 0x01}), client(256)).code, CloseCode::message_too_big);
    EXPECT_EQ(error_of(bytes({0x82, 127, 0, 0, 0, 1, 0, 0, 0, 0}), client()).code, CloseCode::message_too_big);
    EXPECT_EQ(error_of(bytes({0x82, 127, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}), client()).code,
              CloseCode::message_too_big);
    EXPECT_EQ(header_of(bytes({0x81, 0}), client(0), 2).payload_length, 0u);  // a zero limit still allows empty frames
}

