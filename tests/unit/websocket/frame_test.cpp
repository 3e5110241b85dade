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
    if (a.status == ParseStatus::error) {
        EXPECT_EQ(a.error, b.error) << where;
    }
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
        if (!decided && full.status == ParseStatus::complete) {
            EXPECT_EQ(n, full.header_size);
        }
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


TEST(FrameParser, ErrorsAreReportedInWireOrder) {
    // A control-frame length over 125 is a protocol error even when it is also over the size limit.
    EXPECT_EQ(error_of(bytes({0x89, 127, 0, 0, 0, 0, 0, 1, 0, 0}), client(10)).code, CloseCode::protocol_error);
    // The MASK bit (byte 2) is judged before the length's size.
    EXPECT_EQ(error_of(bytes({0x82, 127, 0, 0, 0, 1, 0, 0, 0, 0}), server()).code, CloseCode::protocol_error);
    // The top bit of a 64-bit length is judged before the size limit.
    EXPECT_EQ(error_of(bytes({0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0}), client(10)).code, CloseCode::protocol_error);
    // Byte 1 problems come before byte 2 problems, even if byte 2 arrives in the same read.
    const FrameParseResult r = parse_frame_header(bytes({0x83, 0x05}), server());
    EXPECT_EQ(r.error.reason, parse_frame_header(bytes({0x83}), server()).error.reason);
}

// An independent statement of the rules for the first two bytes, with fixed extended-length bytes
// (256 for the 16-bit form, 65536 for the 64-bit form) and a fixed key.
struct Expected {
    ParseStatus status;
    CloseCode code;
    std::size_t header_size;
    std::uint64_t length;
};

Expected model(int b0, int b1, Role role, std::uint8_t allowed, std::uint64_t max) {
    const Expected protocol{ParseStatus::error, CloseCode::protocol_error, 0, 0};
    const bool fin = (b0 & 0x80) != 0;
    const int rsv = b0 & 0x70;
    const int op = b0 & 0x0f;
    if ((rsv & ~allowed) != 0) return protocol;
    if (!(op == 0 || op == 1 || op == 2 || op == 8 || op == 9 || op == 10)) return protocol;
    const bool control = op >= 8;
    if (control && (rsv != 0 || !fin)) return protocol;
    const bool masked = (b1 & 0x80) != 0;
    const int len7 = b1 & 0x7f;
    if (masked != (role == Role::server)) return protocol;
    if (control && len7 > 125) return protocol;
    const std::uint64_t length = len7 == 126 ? 256 : len7 == 127 ? 65536 : static_cast<std::uint64_t>(len7);
    if (length > max) return {ParseStatus::error, CloseCode::message_too_big, 0, 0};
    const std::size_t size = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + (masked ? 4 : 0);
    return {ParseStatus::complete, CloseCode::normal, size, length};
}

TEST(FrameParser, EveryFirstTwoBytesAgainstModel) {
    const std::string ext16 = bytes({0x01, 0x00});
    const std::string ext64 = bytes({0, 0, 0, 0, 0, 1, 0, 0});
    const std::string key = bytes({0x11, 0x22, 0x33, 0x44});
    int checked = 0;
    for (const Role role : {Role::server, Role::client})
        for (const std::uint8_t allowed : {std::uint8_t{0}, rsv1_bit})
            for (const std::uint64_t max : {std::uint64_t{1} << 20, std::uint64_t{200}})
                for (int b0 = 0; b0 < 256; ++b0)
                    for (int b1 = 0; b1 < 256; ++b1) {
                        std::string in = bytes({b0, b1});
                        if ((b1 & 0x7f) == 126) in += ext16;
                        if ((b1 & 0x7f) == 127) in += ext64;
                        if (b1 & 0x80) in += key;
                        const FrameOptions options{.role = role, .max_payload_bytes = max, .allowed_rsv = allowed};
                        const Expected want = model(b0, b1, role, allowed, max);
                        const FrameParseResult got = parse_frame_header(in, options);
                        ASSERT_EQ(got.status, want.status) << b0 << ' ' << b1;
                        if (want.status == ParseStatus::error) {
                            ASSERT_EQ(got.error.code, want.code) << b0 << ' ' << b1;
                        } else {
                            ASSERT_EQ(got.header_size, want.header_size);
                            ASSERT_EQ(got.header.payload_length, want.length);
                            ASSERT_EQ(static_cast<int>(got.header.opcode), b0 & 0x0f);
                            ASSERT_EQ(got.header.fin, (b0 & 0x80) != 0);
                            ASSERT_EQ(got.header.rsv1, (b0 & 0x40) != 0);
                            ASSERT_EQ(got.header.masked, (b1 & 0x80) != 0);
                            if (got.header.masked) {
                                ASSERT_EQ(got.header.mask_key, (MaskKey{0x11, 0x22, 0x33, 0x44}));
                            }
                        }
                        // Every shorter prefix is incomplete or already the same verdict.
                        for (std::size_t n = 0; n < in.size(); ++n) {
                            const FrameParseResult p = parse_frame_header(std::string_view(in).substr(0, n), options);
                            if (p.status == ParseStatus::incomplete) continue;
                            ASSERT_EQ(p.status, ParseStatus::error) << b0 << ' ' << b1 << " prefix " << n;
                            ASSERT_EQ(p.error, got.error) << b0 << ' ' << b1 << " prefix " << n;
                        }
                        ++checked;
                    }
    EXPECT_EQ(checked, 8 * 65536);
}

// The read loop's fast path: exactly the final text and binary frames without RSV bits, with a 7-bit
// length, whose payload is all there; their size is the parser's header size plus the length.
TEST(FrameParser, UsualMessageFrameSizeAgreesWithTheParser) {
    const std::string ext16 = bytes({0x00, 0x7e});
    const std::string key = bytes({0x11, 0x22, 0x33, 0x44});
    int usual = 0;
    for (const Role role : {Role::server, Role::client})
        for (const std::uint64_t max : {std::uint64_t{1} << 20, std::uint64_t{20}})
            for (int b0 = 0; b0 < 256; ++b0)
                for (int b1 = 0; b1 < 256; ++b1) {
                    std::string in = bytes({b0, b1});
                    if ((b1 & 0x7f) == 126) in += ext16;
                    if ((b1 & 0x7f) == 127) continue;  // never usual; the parser's own tests cover it
                    if (b1 & 0x80) in += key;
                    const std::size_t length = (b1 & 0x7f) == 126 ? 126 : (b1 & 0x7f);
                    in += std::string(length, 'x');
                    const FrameOptions options{.role = role, .max_payload_bytes = max};
                    const FrameParseResult r = parse_frame_header(in, options);
                    const bool want = r.status == ParseStatus::complete && r.header.fin && !r.header.rsv1 &&
                                      !r.header.rsv2 && !r.header.rsv3 && (b1 & 0x7f) < 126 &&
                                      (r.header.opcode == Opcode::text || r.header.opcode == Opcode::binary);
                    ASSERT_EQ(usual_message_frame_size(in, options), want ? in.size() : 0) << b0 << ' ' << b1;
                    // One byte short of the payload: not whole, so not usual.
                    ASSERT_EQ(usual_message_frame_size(std::string_view(in).substr(0, in.size() - 1), options), 0u);
                    usual += want;
                }
    // b0 0x81 or 0x82; b1 the role's MASK bit and a length 0-125 (up to 20 under the small limit).
    EXPECT_EQ(usual, 2 * 2 * (126 + 21));
}

// ---- serialization ----

TEST(FrameWriter, MinimalLengthEncodingAndSizes) {
    struct Case {
        std::uint64_t length;
        std::size_t size;
    };
    for (const Case c : {Case{0, 2}, Case{1, 2}, Case{125, 2}, Case{126, 4}, Case{127, 4}, Case{65535, 4},
                         Case{65536, 10}, Case{0xffffffffULL, 10}, Case{0x7fffffffffffffffULL, 10}}) {
        const FrameHeaderBytes plain = encode_frame_header({.opcode = Opcode::binary, .payload_length = c.length});
        EXPECT_EQ(plain.size, c.size) << c.length;
        const FrameHeaderBytes masked =
            encode_frame_header({.opcode = Opcode::binary, .masked = true, .mask_key = rfc_key, .payload_length = c.length});
        EXPECT_EQ(masked.size, c.size + 4) << c.length;
        EXPECT_LE(masked.size, max_frame_header_size);
        EXPECT_EQ(frame_header_size({.opcode = Opcode::binary, .payload_length = c.length}), c.size);
        EXPECT_EQ(frame_header_size({.opcode = Opcode::binary, .masked = true, .payload_length = c.length}), c.size + 4);
        EXPECT_EQ(masked.view().substr(masked.size - 4), bytes({0x37, 0xfa, 0x21, 0x3d}));
    }
    EXPECT_EQ(encode_frame_header({.opcode = Opcode::binary, .payload_length = 0x0102030405060708ULL}).view(),
              bytes({0x82, 127, 1, 2, 3, 4, 5, 6, 7, 8}));
    EXPECT_EQ(encode_frame_header({.opcode = Opcode::text, .payload_length = 300}).view(), bytes({0x81, 126, 0x01, 0x2c}));
}

TEST(FrameWriter, FlagBits) {
    EXPECT_EQ(encode_frame_header({.opcode = Opcode::text, .fin = false}).view(), bytes({0x01, 0x00}));
    EXPECT_EQ(encode_frame_header({.opcode = Opcode::text, .rsv1 = true}).view(), bytes({0xc1, 0x00}));
    EXPECT_EQ(encode_frame_header({.opcode = Opcode::binary, .rsv2 = true}).view(), bytes({0xa2, 0x00}));
    EXPECT_EQ(encode_frame_header({.opcode = Opcode::binary, .rsv3 = true}).view(), bytes({0x92, 0x00}));
    EXPECT_EQ(encode_frame_header({.opcode = Opcode::close}).view(), bytes({0x88, 0x00}));
    EXPECT_EQ(encode_frame_header({.opcode = Opcode::pong, .payload_length = 3}).view(), bytes({0x8a, 0x03}));
}

TEST(FrameWriter, RoundTripThroughParser) {
    const std::uint64_t lengths[] = {0, 1, 5, 125, 126, 127, 1000, 65535, 65536, 65537, 1ULL << 32, 0x7fffffffffffffffULL};
    const Opcode opcodes[] = {Opcode::continuation, Opcode::text, Opcode::binary, Opcode::close, Opcode::ping, Opcode::pong};
    int checked = 0;
    for (const Opcode op : opcodes)
        for (const std::uint64_t length : lengths)
            for (int flags = 0; flags < 32; ++flags) {
                FrameHeader h;
                h.opcode = op;
                h.payload_length = length;
                h.fin = (flags & 1) != 0;
                h.rsv1 = (flags & 2) != 0;
                h.rsv2 = (flags & 4) != 0;
                h.rsv3 = (flags & 8) != 0;
                h.masked = (flags & 16) != 0;
                if (h.masked) h.mask_key = {static_cast<std::uint8_t>(flags), 0xa5, 0x00, 0xff};
                if (is_control(op) && (!h.fin || length > 125 || h.rsv1 || h.rsv2 || h.rsv3)) continue;
                const FrameHeaderBytes b = encode_frame_header(h);
                const FrameOptions options{.role = h.masked ? Role::server : Role::client,
                                           .max_payload_bytes = ~std::uint64_t{0},
                                           .allowed_rsv = rsv1_bit | rsv2_bit | rsv3_bit};
                const FrameParseResult r = parse_every_split(b.view(), options);
                ASSERT_EQ(r.status, ParseStatus::complete);
                EXPECT_EQ(r.header, h);
                EXPECT_EQ(r.header_size, b.size);
                ++checked;
            }
    EXPECT_GT(checked, 500);
}

TEST(FrameWriter, AppendFrameSetsLengthAndMasksOnlyThePayload) {
    std::string out = "prefix";
    append_frame(out, {.opcode = Opcode::binary, .masked = true, .mask_key = rfc_key, .payload_length = 999}, "Hello");
    EXPECT_EQ(out, "prefix" + bytes({0x82, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
    const std::string big(70000, 'z');
    const std::string frame = encode_frame({.opcode = Opcode::binary}, big);
    EXPECT_EQ(frame.size(), 10 + big.size());
    EXPECT_EQ(frame.substr(10), big);
}

// ---- FragmentPlan ----

TEST(FragmentPlan, SplitsIntoBoundedFrames) {
    const FragmentPlan plan(Opcode::text, 10, 3);
    ASSERT_EQ(plan.size(), 4u);
    const std::uint64_t lengths[] = {3, 3, 3, 1};
    for (std::uint64_t i = 0; i < plan.size(); ++i) {
        const FrameHeader h = plan.header(i);
        EXPECT_EQ(h.opcode, i == 0 ? Opcode::text : Opcode::continuation);
        EXPECT_EQ(h.fin, i == 3);
        EXPECT_FALSE(h.rsv1 || h.masked);
        EXPECT_EQ(h.payload_length, lengths[i]);
        EXPECT_EQ(plan.offset(i), 3 * i);
    }
}

TEST(FragmentPlan, EdgeCases) {
    const FragmentPlan empty(Opcode::binary, 0, 16);
    ASSERT_EQ(empty.size(), 1u);
    EXPECT_EQ(empty.header(0), (FrameHeader{.opcode = Opcode::binary, .fin = true}));

    const FragmentPlan unlimited(Opcode::binary, 1000, 0);
    ASSERT_EQ(unlimited.size(), 1u);
    EXPECT_EQ(unlimited.header(0).payload_length, 1000u);
    EXPECT_TRUE(unlimited.header(0).fin);

    const FragmentPlan fits(Opcode::text, 16, 16);
    ASSERT_EQ(fits.size(), 1u);
    EXPECT_EQ(fits.header(0).payload_length, 16u);

    const FragmentPlan exact(Opcode::text, 16, 4);
    ASSERT_EQ(exact.size(), 4u);
    EXPECT_EQ(exact.header(3).payload_length, 4u);
    EXPECT_TRUE(exact.header(3).fin);

    const FragmentPlan ones(Opcode::text, 5, 1);
    EXPECT_EQ(ones.size(), 5u);

    const FragmentPlan compressed(Opcode::binary, 10, 4, true);
    EXPECT_TRUE(compressed.header(0).rsv1);
    EXPECT_FALSE(compressed.header(1).rsv1);
    EXPECT_FALSE(compressed.header(2).rsv1);

    const FragmentPlan huge(Opcode::binary, 1ULL << 40, 1ULL << 20);
    EXPECT_EQ(huge.size(), 1ULL << 20);
    EXPECT_EQ(huge.offset(huge.size() - 1), (1ULL << 40) - (1ULL << 20));
    EXPECT_EQ(huge.header(huge.size() - 1).payload_length, 1ULL << 20);
}

TEST(FragmentPlan, ReassemblesThroughParserAndSequencer) {
    std::string message;
    for (int i = 0; i < 1000; ++i) message += "ü€𝄞"[i % 9];  // bytes of multibyte text, split anywhere
    message.resize(999);
    for (const std::uint64_t max : {1, 2, 7, 100, 998, 999, 1000}) {
        const FragmentPlan plan(Opcode::binary, message.size(), max);
        std::string stream;
        for (std::uint64_t i = 0; i < plan.size(); ++i) {
            FrameHeader h = plan.header(i);
            h.masked = true;
            h.mask_key = {static_cast<std::uint8_t>(i), static_cast<std::uint8_t>(i * 7), 0x5a, 0xc3};
            append_frame(stream, h, std::string_view(message).substr(plan.offset(i), h.payload_length));
        }
        const Received r = receive(stream, server(), {}, 13);
        ASSERT_FALSE(r.error) << r.error->reason;
        ASSERT_EQ(r.messages.size(), 1u);
        EXPECT_EQ(r.messages[0], std::make_pair(Opcode::binary, message)) << max;
    }
}

// ---- FrameSequencer ----

FrameHeader data(Opcode op, bool fin, std::uint64_t length = 0, bool rsv1 = false) {
    return {.opcode = op, .fin = fin, .rsv1 = rsv1, .payload_length = length};
}
const FrameHeader ping_frame{.opcode = Opcode::ping};

TEST(FrameSequencer, SingleFrameMessage) {
    FrameSequencer seq;
    EXPECT_FALSE(seq.in_message());
    EXPECT_FALSE(seq.on_header(data(Opcode::binary, true, 3)));
    EXPECT_TRUE(seq.in_message());
    EXPECT_FALSE(seq.message_complete());
    EXPECT_FALSE(seq.on_payload(std::string_view("abc")));
    EXPECT_FALSE(seq.on_frame_end());
    EXPECT_TRUE(seq.message_complete());
    EXPECT_FALSE(seq.in_message());
    EXPECT_EQ(seq.message_opcode(), Opcode::binary);
    EXPECT_EQ(seq.message_bytes(), 3u);
    EXPECT_EQ(seq.fragment_count(), 1u);
    // A new message may follow.
    EXPECT_FALSE(seq.on_header(data(Opcode::text, true, 0)));
    EXPECT_FALSE(seq.message_complete());
    EXPECT_FALSE(seq.on_frame_end());
    EXPECT_TRUE(seq.message_complete());
    EXPECT_EQ(seq.message_opcode(), Opcode::text);
}

// on_whole_message() is the three steps of a one-frame message in one call: same outcome, same state.
TEST(FrameSequencer, WholeMessageMatchesTheThreeSteps) {
    const std::string invalid = bytes({0xC0, 0x80});
    const std::string cut = bytes({0xE2, 0x82});
    const std::string euro = bytes({0xE2, 0x82, 0xAC});
    const std::string payloads[] = {"", "abc", std::string(10, 'x'), std::string(11, 'y'), invalid, cut, euro};
    const MessageLimits limits[] = {{}, {.max_message_bytes = 10}, {.validate_utf8 = false}, {.max_fragments = 1}};
    for (const MessageLimits& l : limits) {
        for (const bool inside_message : {false, true}) {
            for (const Opcode op : {Opcode::text, Opcode::binary}) {
                for (const std::string& p : payloads) {
                    FrameSequencer start(l);
                    if (inside_message) ASSERT_FALSE(start.on_header(data(Opcode::binary, false, 0)));
                    FrameSequencer steps = start;
                    std::optional<ProtocolError> e = steps.on_header(data(op, true, p.size()));
                    if (!e) e = steps.on_payload(p);
                    if (!e) e = steps.on_frame_end();
                    FrameSequencer whole = start;
                    const std::optional<ProtocolError> w = whole.on_whole_message(op, p);
                    const std::string where = "payload of " + std::to_string(p.size()) + " bytes, " +
                                              (op == Opcode::text ? "text" : "binary") +
                                              (inside_message ? ", inside a message" : "");
                    ASSERT_EQ(e.has_value(), w.has_value()) << where;
                    if (e) {
                        EXPECT_EQ(e->code, w->code) << where;
                        EXPECT_EQ(e->reason, w->reason) << where;
                        continue;
                    }
                    EXPECT_TRUE(whole.message_complete()) << where;
                    EXPECT_FALSE(whole.in_message()) << where;
                    EXPECT_EQ(whole.message_opcode(), op) << where;
                    EXPECT_EQ(whole.message_bytes(), steps.message_bytes()) << where;
                    EXPECT_EQ(whole.fragment_count(), 1u) << where;
                    // Both are ready for the next message alike.
                    EXPECT_FALSE(whole.on_header(data(Opcode::text, true, 3))) << where;
                    EXPECT_FALSE(whole.on_payload(std::string_view("abc"))) << where;
                    EXPECT_FALSE(whole.on_frame_end()) << where;
                }
            }
        }
    }
}

TEST(FrameSequencer, FragmentedMessageWithControlFramesBetween) {
    FrameSequencer seq;
    EXPECT_FALSE(seq.on_header(data(Opcode::text, false, 2)));
    EXPECT_FALSE(seq.on_payload(std::string_view("He")));
    EXPECT_FALSE(seq.on_frame_end());
    EXPECT_FALSE(seq.message_complete());
    for (const Opcode op : {Opcode::ping, Opcode::pong, Opcode::close}) {
        EXPECT_FALSE(seq.on_header({.opcode = op, .payload_length = 4}));
        EXPECT_FALSE(seq.on_payload(std::string_view("\xff\xfe\xfd\xfc")));  // control payloads are not checked
        EXPECT_FALSE(seq.on_frame_end());
        EXPECT_FALSE(seq.message_complete());
        EXPECT_TRUE(seq.in_message());
    }
    EXPECT_FALSE(seq.on_header(data(Opcode::continuation, false, 1)));
    EXPECT_FALSE(seq.on_payload(std::string_view("l")));
    EXPECT_FALSE(seq.on_frame_end());
    EXPECT_FALSE(seq.on_header(data(Opcode::continuation, true, 2)));
    EXPECT_FALSE(seq.on_payload(std::string_view("lo")));
    EXPECT_FALSE(seq.on_frame_end());
    EXPECT_TRUE(seq.message_complete());
    EXPECT_EQ(seq.message_opcode(), Opcode::text);
    EXPECT_EQ(seq.fragment_count(), 3u);
    EXPECT_EQ(seq.message_bytes(), 5u);
    // A control frame after a complete message does not revive it.
    EXPECT_FALSE(seq.on_header(ping_frame));
    EXPECT_FALSE(seq.message_complete());
    EXPECT_FALSE(seq.on_frame_end());
    EXPECT_FALSE(seq.message_complete());
}

TEST(FrameSequencer, ContinuationWithoutMessage) {
    FrameSequencer seq;
    for (const bool fin : {true, false}) {
        seq.reset();
        const auto e = seq.on_header(data(Opcode::continuation, fin, 1));
        ASSERT_TRUE(e);
        EXPECT_EQ(e->code, CloseCode::protocol_error);
    }
    // Also right after a complete message.
    seq.reset();
    EXPECT_FALSE(seq.on_header(data(Opcode::binary, true, 0)));
    EXPECT_FALSE(seq.on_frame_end());
    const auto e = seq.on_header(data(Opcode::continuation, true, 0));
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code, CloseCode::protocol_error);
}

TEST(FrameSequencer, NewMessageInsideFragmentedMessage) {
    for (const Opcode first : {Opcode::text, Opcode::binary})
        for (const Opcode second : {Opcode::text, Opcode::binary})
            for (const bool fin : {true, false}) {
                FrameSequencer seq;
                EXPECT_FALSE(seq.on_header(data(first, false, 1)));
                EXPECT_FALSE(seq.on_frame_end());
                const auto e = seq.on_header(data(second, fin, 1));
                ASSERT_TRUE(e);
                EXPECT_EQ(e->code, CloseCode::protocol_error);
            }
}

TEST(FrameSequencer, MessageSizeLimit) {
    FrameSequencer seq({.max_message_bytes = 10});
    EXPECT_FALSE(seq.on_header(data(Opcode::binary, false, 4)));
    EXPECT_FALSE(seq.on_frame_end());
    EXPECT_FALSE(seq.on_header(data(Opcode::continuation, false, 6)));  // exactly at the limit
    EXPECT_FALSE(seq.on_frame_end());
    EXPECT_FALSE(seq.on_header(data(Opcode::continuation, false, 0)));
    EXPECT_FALSE(seq.on_frame_end());
    const auto e = seq.on_header(data(Opcode::continuation, true, 1));
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code, CloseCode::message_too_big);

    FrameSequencer one({.max_message_bytes = 10});
    const auto big = one.on_header(data(Opcode::text, true, 11));
    ASSERT_TRUE(big);
    EXPECT_EQ(big->code, CloseCode::message_too_big);
    // A length that would overflow the running total is refused too.
    FrameSequencer wrap({.max_message_bytes = ~std::uint64_t{0} - 1});
    EXPECT_FALSE(wrap.on_header(data(Opcode::binary, false, ~std::uint64_t{0} - 2)));
    EXPECT_FALSE(wrap.on_frame_end());
    const auto over = wrap.on_header(data(Opcode::continuation, true, ~std::uint64_t{0}));
    ASSERT_TRUE(over);
    EXPECT_EQ(over->code, CloseCode::message_too_big);
}

TEST(FrameSequencer, LimitAppliesPerMessage) {
    FrameSequencer seq({.max_message_bytes = 10});
    for (int i = 0; i < 100; ++i) {
        EXPECT_FALSE(seq.on_header(data(Opcode::binary, false, 5)));
        EXPECT_FALSE(seq.on_frame_end());
        EXPECT_FALSE(seq.on_header(data(Opcode::continuation, true, 5)));
        EXPECT_FALSE(seq.on_frame_end());
        EXPECT_TRUE(seq.message_complete());
    }
}

TEST(FrameSequencer, InflatedBytesCountAgainstTheLimit) {
    FrameSequencer seq({.max_message_bytes = 10});
    EXPECT_FALSE(seq.on_header(data(Opcode::binary, true, 3, true)));
    EXPECT_TRUE(seq.message_compressed());
    EXPECT_FALSE(seq.on_payload(std::string_view("0123456789")));
    const auto e = seq.on_payload(std::string_view("x"));
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code, CloseCode::message_too_big);
}

TEST(FrameSequencer, FragmentCapOffByDefault) {
    FrameSequencer seq({.max_message_bytes = 1 << 20});
    EXPECT_EQ(seq.limits().max_fragments, 0u);
    EXPECT_FALSE(seq.on_header(data(Opcode::binary, false, 1)));
    EXPECT_FALSE(seq.on_frame_end());
    for (int i = 0; i < 100000; ++i) {
        ASSERT_FALSE(seq.on_header(data(Opcode::continuation, false, 1)));
        ASSERT_FALSE(seq.on_frame_end());
    }
    EXPECT_FALSE(seq.on_header(data(Opcode::continuation, true, 0)));
    EXPECT_FALSE(seq.on_frame_end());
    EXPECT_TRUE(seq.message_complete());
    EXPECT_EQ(seq.fragment_count(), 100002u);
}

TEST(FrameSequencer, FragmentCap) {
    FrameSequencer seq({.max_fragments = 3});
    EXPECT_FALSE(seq.on_header(data(Opcode::text, false, 1)));
    EXPECT_FALSE(seq.on_frame_end());
    EXPECT_FALSE(seq.on_header(ping_frame));  // control frames do not count
    EXPECT_FALSE(seq.on_frame_end());
    EXPECT_FALSE(seq.on_header(data(Opcode::continuation, false, 1)));
    EXPECT_FALSE(seq.on_frame_end());
    EXPECT_FALSE(seq.on_header(data(Opcode::continuation, false, 1)));
    EXPECT_FALSE(seq.on_frame_end());
    const auto e = seq.on_header(data(Opcode::continuation, true, 1));
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code, CloseCode::policy_violation);

    FrameSequencer exact({.max_fragments = 2});
    EXPECT_FALSE(exact.on_header(data(Opcode::text, false, 1)));
    EXPECT_FALSE(exact.on_frame_end());
    EXPECT_FALSE(exact.on_header(data(Opcode::continuation, true, 1)));
    EXPECT_FALSE(exact.on_frame_end());
    EXPECT_TRUE(exact.message_complete());
}

TEST(FrameSequencer, Rsv1OnlyOnFirstFrame) {
    FrameSequencer seq;
    EXPECT_FALSE(seq.on_header(data(Opcode::text, false, 1, true)));
    EXPECT_TRUE(seq.message_compressed());
    EXPECT_FALSE(seq.on_frame_end());
    const auto e = seq.on_header(data(Opcode::continuation, true, 1, true));
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code, CloseCode::protocol_error);
    seq.reset();
    EXPECT_FALSE(seq.on_header(data(Opcode::binary, true, 1)));
    EXPECT_FALSE(seq.message_compressed());
}

TEST(FrameSequencer, Utf8AcrossFragments) {
    const std::string euro = "\xe2\x82\xac";
    for (std::size_t cut = 0; cut <= euro.size(); ++cut) {
        FrameSequencer seq;
        EXPECT_FALSE(seq.on_header(data(Opcode::text, false, cut)));
        EXPECT_FALSE(seq.on_payload(std::string_view(euro).substr(0, cut)));
        EXPECT_FALSE(seq.on_frame_end());
        EXPECT_FALSE(seq.on_header(data(Opcode::continuation, true, euro.size() - cut)));
        EXPECT_FALSE(seq.on_payload(std::string_view(euro).substr(cut)));
        EXPECT_FALSE(seq.on_frame_end());
        EXPECT_TRUE(seq.message_complete());
    }
}

TEST(FrameSequencer, InvalidUtf8FailsAtThePayloadNotAtTheEnd) {
    FrameSequencer seq;
    EXPECT_FALSE(seq.on_header(data(Opcode::text, false, 3)));
    EXPECT_FALSE(seq.on_payload(std::string_view("abc")));
    EXPECT_FALSE(seq.on_frame_end());
    EXPECT_FALSE(seq.on_header(data(Opcode::continuation, false, 3)));
    const auto e = seq.on_payload(std::string_view("d\xff" "e"));
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code, CloseCode::invalid_payload);
}

TEST(FrameSequencer, TextEndingInsideACharacter) {
    FrameSequencer seq;
    EXPECT_FALSE(seq.on_header(data(Opcode::text, true, 2)));
    EXPECT_FALSE(seq.on_payload(std::string_view("a\xe2")));
    const auto e = seq.on_frame_end();
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code, CloseCode::invalid_payload);
    EXPECT_FALSE(seq.message_complete());
}

TEST(FrameSequencer, BinaryAndUncheckedTextSkipUtf8) {
    FrameSequencer seq;
    EXPECT_FALSE(seq.on_header(data(Opcode::binary, true, 2)));
    EXPECT_FALSE(seq.on_payload(std::string_view("\xff\xc0")));
    EXPECT_FALSE(seq.on_frame_end());
    FrameSequencer lax({.validate_utf8 = false});
    EXPECT_FALSE(lax.on_header(data(Opcode::text, true, 2)));
    EXPECT_FALSE(lax.on_payload(std::string_view("\xff\xe2")));
    EXPECT_FALSE(lax.on_frame_end());
    EXPECT_TRUE(lax.message_complete());
}

TEST(FrameSequencer, Utf8StateResetsBetweenMessages) {
    FrameSequencer seq;
    EXPECT_FALSE(seq.on_header(data(Opcode::text, false, 1)));
    EXPECT_FALSE(seq.on_payload(std::string_view("\xe2")));
    seq.reset();
    EXPECT_FALSE(seq.in_message());
    EXPECT_FALSE(seq.on_header(data(Opcode::text, true, 1)));
    EXPECT_FALSE(seq.on_payload(std::string_view("a")));
    EXPECT_FALSE(seq.on_frame_end());
    EXPECT_TRUE(seq.message_complete());
}

// ---- whole streams through parser + sequencer ----

TEST(FrameStream, PingBetweenFragments) {
    const std::string stream = encode_frame({.opcode = Opcode::text, .fin = false}, "Hel") +
                               encode_frame({.opcode = Opcode::ping}, "p") +
                               encode_frame({.opcode = Opcode::continuation, .fin = false}, "") +
                               encode_frame({.opcode = Opcode::pong}, "") +
                               encode_frame({.opcode = Opcode::continuation}, "lo") +
                               encode_frame({.opcode = Opcode::binary}, bytes({0, 1, 2}));
    const Received r = receive_every_read_size(stream, client());
    ASSERT_FALSE(r.error);
    ASSERT_EQ(r.messages.size(), 4u);
    EXPECT_EQ(r.messages[0], std::make_pair(Opcode::ping, std::string("p")));
    EXPECT_EQ(r.messages[1], std::make_pair(Opcode::pong, std::string()));
    EXPECT_EQ(r.messages[2], std::make_pair(Opcode::text, std::string("Hello")));
    EXPECT_EQ(r.messages[3], std::make_pair(Opcode::binary, bytes({0, 1, 2})));
}

TEST(FrameStream, MaskedStreamWithChangingKeys) {
    std::string stream;
    append_frame(stream, {.opcode = Opcode::text, .fin = false, .masked = true, .mask_key = {1, 2, 3, 4}}, "κόσ");
    append_frame(stream, {.opcode = Opcode::ping, .masked = true, .mask_key = {9, 9, 9, 9}}, "?");
    append_frame(stream, {.opcode = Opcode::continuation, .masked = true, .mask_key = {0xff, 0, 0xff, 0}}, "με");
    append_frame(stream, {.opcode = Opcode::close, .masked = true, .mask_key = rfc_key}, bytes({0x03, 0xe8}));
    const Received r = receive_every_read_size(stream, server());
    ASSERT_FALSE(r.error);
    ASSERT_EQ(r.messages.size(), 3u);
    EXPECT_EQ(r.messages[0], std::make_pair(Opcode::ping, std::string("?")));
    EXPECT_EQ(r.messages[1], std::make_pair(Opcode::text, std::string("κόσμε")));
    EXPECT_EQ(r.messages[2], std::make_pair(Opcode::close, bytes({0x03, 0xe8})));
}

TEST(FrameStream, OneByteFragmentFloodIsBoundedByTheMessageLimit) {
    std::string stream = encode_frame({.opcode = Opcode::binary, .fin = false}, "x");
    for (int i = 0; i < 20000; ++i) append_frame(stream, {.opcode = Opcode::continuation, .fin = false}, "x");
    const Received r = receive(stream, client(), {.max_message_bytes = 1000}, 4096);
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->code, CloseCode::message_too_big);
    EXPECT_EQ(r.max_buffer, 1000u);  // only payload bytes are held, never headers or per-frame state

    const Received capped = receive(stream, client(), {.max_fragments = 64}, 4096);
    ASSERT_TRUE(capped.error);
    EXPECT_EQ(capped.error->code, CloseCode::policy_violation);
    EXPECT_EQ(capped.max_buffer, 64u);
}

TEST(FrameStream, ErrorsInsideStreams) {
    // Text message whose second fragment breaks UTF-8: 1007 as soon as that payload is seen.
    std::string bad = encode_frame({.opcode = Opcode::text, .fin = false}, "ok");
    append_frame(bad, {.opcode = Opcode::continuation, .fin = false}, "\xc0\xaf");
    append_frame(bad, {.opcode = Opcode::continuation}, "never");
    const Received r = receive_every_read_size(bad, client());
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->code, CloseCode::invalid_payload);

    // An oversized frame is refused from its header: the payload never arrives.
    const std::string big(encode_frame_header({.opcode = Opcode::binary, .payload_length = 5000}).view());
    const Received too_big = receive_every_read_size(big, client(4096));
    ASSERT_TRUE(too_big.error);
    EXPECT_EQ(too_big.error->code, CloseCode::message_too_big);
}

// ---- masking ----

TEST(Masking, RfcExample) {
    std::string payload = "Hello";
    apply_mask(std::span<char>(payload), rfc_key);
    EXPECT_EQ(payload, bytes({0x7f, 0x9f, 0x4d, 0x51, 0x58}));
    apply_mask(std::span<char>(payload), rfc_key);
    EXPECT_EQ(payload, "Hello");
}

TEST(Masking, MatchesBytewiseForEveryLengthOffsetAndAlignment) {
    std::mt19937 rng(6455);
    const MaskKey key{0x12, 0x9a, 0xf0, 0x3c};
    constexpr std::size_t guard = 16;
    // Every length up to 300, and lengths around the switch to 32-byte steps (512) and past them.
    std::vector<std::size_t> lengths(301);
    for (std::size_t i = 0; i < lengths.size(); ++i) lengths[i] = i;
    lengths.insert(lengths.end(), {511, 512, 513, 543, 544, 545, 639, 640, 1000, 1029, 4099});
    std::vector<std::uint8_t> source(4099 + 8 + 2 * guard);
    for (auto& b : source) b = static_cast<std::uint8_t>(rng());
    const std::size_t offsets[] = {0, 1, 2, 3, 4, 5, 6, 7, 4097, ~std::size_t{0}, ~std::size_t{0} - 2};
    for (const std::size_t length : lengths)
        for (std::size_t align = 0; align < 8; ++align)
            for (const std::size_t offset : offsets) {
                std::vector<std::uint8_t> fast = source;
                std::vector<std::uint8_t> slow = source;
                const std::size_t start = guard + align;
                apply_mask(std::span<std::uint8_t>(fast.data() + start, length), key, offset);
                for (std::size_t i = 0; i < length; ++i)
                    slow[start + i] ^= key[(offset + i) % 4];
                ASSERT_EQ(fast, slow) << "length " << length << " align " << align << " offset " << offset;
                std::vector<std::uint8_t> reference = source;
                apply_mask_bytewise(std::span<std::uint8_t>(reference.data() + start, length), key, offset);
                ASSERT_EQ(reference, slow);
                if (offset == 0) {
                    std::vector<std::uint8_t> small = source;
                    apply_mask_small(std::span<char>(reinterpret_cast<char*>(small.data()) + start, length), key);
                    ASSERT_EQ(small, slow) << "apply_mask_small: length " << length << " align " << align;
                }
                // Masking on the way into another buffer writes the same bytes there, and only there.
                std::vector<std::uint8_t> copied = source;
                copy_masked(std::span<const char>(reinterpret_cast<const char*>(source.data()) + start, length),
                            reinterpret_cast<char*>(copied.data()) + start, key, offset);
                ASSERT_TRUE(std::equal(copied.begin() + start, copied.begin() + start + length, slow.begin() + start))
                    << "copy_masked: length " << length << " align " << align << " offset " << offset;
                ASSERT_TRUE(std::equal(copied.begin(), copied.begin() + start, source.begin()));
                ASSERT_TRUE(std::equal(copied.begin() + start + length, copied.end(), source.begin() + start + length));
            }
}

TEST(Masking, PiecewiseEqualsWhole) {
    std::string payload;
    for (int i = 0; i < 200; ++i) payload.push_back(static_cast<char>(i * 31));
    std::string whole = payload;
    apply_mask(std::span<char>(whole), rfc_key);
    for (std::size_t a = 0; a <= payload.size(); a += 3)
        for (std::size_t b = a; b <= payload.size(); b += 5) {
            std::string pieces = payload;
            apply_mask(std::span<char>(pieces.data(), a), rfc_key, 0);
            apply_mask(std::span<char>(pieces.data() + a, b - a), rfc_key, a);
            apply_mask(std::span<char>(pieces.data() + b, pieces.size() - b), rfc_key, b);
            ASSERT_EQ(pieces, whole) << a << ' ' << b;
        }
}

TEST(Masking, OverloadsAgree) {
    std::string chars(77, 'q');
    std::vector<std::byte> raw(77, std::byte{'q'});
    std::vector<std::uint8_t> octets(77, 'q');
    apply_mask(std::span<char>(chars), rfc_key, 3);
    apply_mask(std::span<std::byte>(raw), rfc_key, 3);
    apply_mask(std::span<std::uint8_t>(octets), rfc_key, 3);
    for (std::size_t i = 0; i < chars.size(); ++i) {
        EXPECT_EQ(static_cast<std::uint8_t>(chars[i]), octets[i]);
        EXPECT_EQ(static_cast<std::uint8_t>(raw[i]), octets[i]);
    }
    EXPECT_TRUE(is_control(Opcode::close) && is_control(Opcode::ping) && is_control(Opcode::pong));
    EXPECT_FALSE(is_control(Opcode::text) || is_control(Opcode::binary) || is_control(Opcode::continuation));
}

}  // namespace
}  // namespace herald::websocket
