#pragma once
// Pure WebSocket framing (RFC 6455 §5): header parsing and serialization, fragmentation rules and
// masking. No I/O and no allocation: the parser reads a caller's buffer, the sequencer keeps a few
// counters, and headers are written into a 14-byte value that can be gathered with the payload.
//
// A session's read loop, in outline:
//
//     auto r = parse_frame_header(buffer, {.role = Role::server, .max_payload_bytes = limit});
//     if (r.status == ParseStatus::incomplete) -> read more
//     if (r.status == ParseStatus::error)      -> close with r.error.code
//     if (auto e = sequencer.on_header(r.header)) -> close with e->code
//     for each piece of the payload as it arrives (skipping r.header_size bytes of header):
//         apply_mask(piece, r.header.mask_key, bytes_of_this_payload_so_far);
//         control frame: keep the piece for the ping/pong/close handler (at most 125 bytes);
//         data frame: sequencer.on_payload(piece), then append the piece to the message buffer
//     if (auto e = sequencer.on_frame_end()) -> close with e->code
//     if (sequencer.message_complete()) -> deliver the buffer as sequencer.message_opcode()
//
// A final text or binary frame that lies whole in the buffer (the usual small message) may instead
// be unmasked at once and checked with sequencer.on_whole_message(opcode, payload): same rules,
// one call. usual_message_frame_size() finds the commonest such frame from its first two bytes.
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <herald/websocket/close_code.hpp>
#include <herald/websocket/utf8.hpp>

namespace herald::websocket {

/// Frame opcodes defined by RFC 6455 §5.2. Values 3–7 and 11–15 are reserved and rejected by the parser.
enum class Opcode : std::uint8_t {
    continuation = 0x0,
    text = 0x1,
    binary = 0x2,
    close = 0x8,
    ping = 0x9,
    pong = 0xA,
};

/// Control frames (close, ping, pong) have opcodes with the high bit set.
constexpr bool is_control(Opcode op) noexcept { return (static_cast<std::uint8_t>(op) & 0x8) != 0; }
/// True for the six opcodes RFC 6455 defines.
constexpr bool is_known_opcode(std::uint8_t op) noexcept { return op <= 0x2 || (op >= 0x8 && op <= 0xA); }

/// Which end of the connection parses: a server requires masked frames, a client unmasked ones.
enum class Role : std::uint8_t { server, client };

/// Result of an incremental parse, as in the HTTP codecs.
enum class ParseStatus : std::uint8_t { complete, incomplete, error };

/// A 4-byte masking key, in wire order.
using MaskKey = std::array<std::uint8_t, 4>;

/// Reserved header bits, as they sit in the first header byte; combine them for FrameOptions::allowed_rsv.
inline constexpr std::uint8_t rsv1_bit = 0x40;  ///< permessage-deflate's "compressed" bit (RFC 7692)
inline constexpr std::uint8_t rsv2_bit = 0x20;
inline constexpr std::uint8_t rsv3_bit = 0x10;

/// Largest possible frame header: 2 fixed bytes, an 8-byte length and a 4-byte masking key.
inline constexpr std::size_t max_frame_header_size = 14;
/// Largest payload of a control frame (§5.5).
inline constexpr std::size_t max_control_payload = 125;

/// One frame header: what parse_frame_header() produces and encode_frame_header() consumes.
struct FrameHeader {
    Opcode opcode = Opcode::text;
    bool fin = true;
    bool rsv1 = false;
    bool rsv2 = false;
    bool rsv3 = false;
    bool masked = false;
    MaskKey mask_key{};               ///< meaningful when `masked`
    std::uint64_t payload_length = 0;
    bool operator==(const FrameHeader&) const = default;
};

/// What the parser accepts. Crossing a limit is reported before any payload byte is looked at.
struct FrameOptions {
    Role role = Role::server;                     ///< server: unmasked frames → 1002; client: masked → 1002
    std::uint64_t max_payload_bytes = 1 << 20;    ///< a frame payload larger than this → 1009
    std::uint8_t allowed_rsv = 0;                 ///< RSV bits a negotiated extension uses; others set → 1002
};

/// Outcome of parse_frame_header().
struct FrameParseResult {
    ParseStatus status = ParseStatus::incomplete;
    FrameHeader header;           ///< complete: the parsed header
    std::size_t header_size = 0;  ///< complete: header bytes (2–14); the payload starts right after them
    ProtocolError error;          ///< error: the close code to send and why
};

/// Parses the frame header at the start of `data`. incomplete: the header (or the bytes that decide an
/// error) has not fully arrived; offer the same bytes plus more again. Each field is judged as soon as
/// all its bytes are there, in wire order, so the result never depends on how the input was split:
/// 1002 for RSV bits not in allowed_rsv (or any on a control frame), reserved opcodes, fragmented or
/// over-125-byte control frames, the wrong MASK bit for the role and 64-bit lengths with the top bit
/// set; 1009 for a payload over max_payload_bytes. Non-minimal length encodings are accepted (§5.2).
FrameParseResult parse_frame_header(std::span<const std::byte> data, const FrameOptions& options) noexcept;
/// The same over characters, for buffers held as char.
FrameParseResult parse_frame_header(std::string_view data, const FrameOptions& options) noexcept;
/// The usual header in one step, inline: no RSV bit, a data opcode (or a control one with FIN), a 7-bit
/// length within the limit, masked as the role requires, all of it in `data`. Fills `header` and
/// `header_size` as parse_frame_header() would; false for anything else, which only
/// parse_frame_header() judges (field by field, in wire order).
inline bool parse_usual_frame_header(std::string_view data, const FrameOptions& options, FrameHeader& header,
                                     std::size_t& header_size) noexcept {
    if (data.size() < 2) return false;
    const unsigned b0 = static_cast<unsigned char>(data[0]);
    const unsigned b1 = static_cast<unsigned char>(data[1]);
    const unsigned opcode = b0 & 0x0F;
    const bool masked = (b1 & 0x80) != 0;
    const std::size_t length = b1 & 0x7F;
    const std::size_t size = masked ? 6 : 2;
    if ((b0 & 0x70) != 0 || !(opcode <= 0x2 || ((b0 & 0x80) != 0 && opcode >= 0x8 && opcode <= 0xA)) ||
        length >= 126 || masked != (options.role == Role::server) || length > options.max_payload_bytes ||
        data.size() < size)
        return false;
    header = FrameHeader{.opcode = static_cast<Opcode>(opcode), .fin = (b0 & 0x80) != 0, .masked = masked,
                         .payload_length = length};
    if (masked) std::memcpy(header.mask_key.data(), data.data() + 2, header.mask_key.size());
    header_size = size;
    return true;
}

/// The usual small message, recognized from its first two bytes: one final text or binary frame
/// without RSV bits, a 7-bit length within the limit, masked as the role requires, header and payload
/// all in `data`. Returns the whole frame's size (its header is 6 bytes for a server, 2 for a
/// client; the opcode is in the low bits of data[0]), or 0 for anything else, which
/// parse_frame_header() judges. parse_frame_header() reads such a frame the same way.
inline std::size_t usual_message_frame_size(std::string_view data, const FrameOptions& options) noexcept {
    if (data.size() < 2) return 0;
    const bool server = options.role == Role::server;
    const unsigned b0 = static_cast<unsigned char>(data[0]);
    // The MASK bit the role wants, cleared: a wrong one leaves a "length" over 125.
    const std::size_t length = static_cast<unsigned char>(data[1]) ^ (server ? 0x80u : 0u);
    const std::size_t size = (server ? 6 : 2) + length;
    // 0x81 and 0x82: FIN, no RSV bit, text or binary.
    if (b0 - 0x81u > 1u || length >= 126 || length > options.max_payload_bytes || size > data.size())
        return 0;
    return size;
}

/// Limits and checks of whole messages, applied by FrameSequencer.
struct MessageLimits {
    std::uint64_t max_message_bytes = 1 << 20;  ///< payload of all fragments together; over it → 1009
    std::size_t max_fragments = 0;              ///< frames per message, 0 for no limit; over it → 1008
    bool validate_utf8 = true;                  ///< check that text messages are UTF-8; if not → 1007
};

/// Follows the frames of one connection and enforces the rules that span frames (§5.4): a continuation
/// needs a started message, a new message may not start inside a fragmented one, control frames may
/// come between fragments, the message size and fragment count stay within MessageLimits, and text is
/// valid UTF-8 even when a character is split between fragments. It never stores payload: the session
/// appends each data frame's bytes to its one message buffer, whose size the limits bound before the
/// bytes arrive. Each call returns the error to close with, or nothing. After an error, reset().
class FrameSequencer {
public:
    explicit FrameSequencer(MessageLimits limits = {}) noexcept
        : max_message_bytes_(limits.max_message_bytes),
          max_fragments_(limits.max_fragments),
          validate_utf8_(limits.validate_utf8) {}

    /// Checks a parsed header against the message state; call before reading the frame's payload.
    std::optional<ProtocolError> on_header(const FrameHeader& header) noexcept;
    /// Checks payload bytes of the current frame, unmasked (and inflated for a compressed message), in
    /// pieces of any size. Pieces of control frames are ignored: the session handles those payloads.
    std::optional<ProtocolError> on_payload(std::span<const char> data) noexcept;
    /// Marks the end of the current frame's payload. After the final frame of a message, checks that a
    /// text message did not end inside a character, and message_complete() becomes true.
    std::optional<ProtocolError> on_frame_end() noexcept;
    /// A whole message in one final text or binary frame without RSV bits, its payload unmasked:
    /// on_header(), on_payload() and on_frame_end() in one step, with the same checks and results.
    /// Inline, as it runs for every small message.
    std::optional<ProtocolError> on_whole_message(Opcode opcode, std::span<const char> payload) noexcept {
        complete_ = false;
        if (in_message_) return protocol_error("new data frame while a fragmented message is in progress");
        if (payload.size() > max_message_bytes_) return too_big();  // one frame passes any fragment cap
        start_message(opcode, false);
        declared_bytes_ = payload.size();
        fed_bytes_ = payload.size();
        fragments_ = 1;
        if (opcode == Opcode::text && validate_utf8_ && !utf8_.feed(payload)) return not_utf8();
        return finish_message();
    }

    /// True between on_frame_end() of a message's final frame and the next on_header().
    bool message_complete() const noexcept { return complete_; }
    /// True while a data message has started and its final frame has not ended.
    bool in_message() const noexcept { return in_message_; }
    /// Opcode (text or binary) of the current or last message.
    Opcode message_opcode() const noexcept { return opcode_; }
    /// RSV1 on the first frame: the message is compressed (permessage-deflate).
    bool message_compressed() const noexcept { return compressed_; }
    /// Payload bytes announced by the headers of the current or last message's frames.
    std::uint64_t message_bytes() const noexcept { return declared_bytes_; }
    /// Data frames of the current or last message.
    std::size_t fragment_count() const noexcept { return fragments_; }
    /// Forgets any message in progress.
    void reset() noexcept;
    MessageLimits limits() const noexcept {
        return {.max_message_bytes = max_message_bytes_, .max_fragments = max_fragments_, .validate_utf8 = validate_utf8_};
    }

private:
    void start_message(Opcode opcode, bool compressed) noexcept {
        in_message_ = true;
        opcode_ = opcode;
        compressed_ = compressed;
        declared_bytes_ = 0;
        fed_bytes_ = 0;
        fragments_ = 0;
        utf8_.reset();
    }
    // After the final frame's payload: the message is complete unless its text ends inside a character.
    std::optional<ProtocolError> finish_message() noexcept {
        frame_is_data_ = false;
        frame_is_final_ = false;
        in_message_ = false;
        if (opcode_ == Opcode::text && validate_utf8_ && !utf8_.complete()) return utf8_unfinished();
        complete_ = true;
        return std::nullopt;
    }
    static std::optional<ProtocolError> protocol_error(std::string_view reason) noexcept {
        return ProtocolError{CloseCode::protocol_error, reason};
    }
    static std::optional<ProtocolError> too_big() noexcept {
        return ProtocolError{CloseCode::message_too_big, "message over the size limit"};
    }
    static std::optional<ProtocolError> not_utf8() noexcept {
        return ProtocolError{CloseCode::invalid_payload, "text message is not valid UTF-8"};
    }
    static std::optional<ProtocolError> utf8_unfinished() noexcept {
        return ProtocolError{CloseCode::invalid_payload, "text message ends inside a UTF-8 sequence"};
    }

    // The limits field by field, not a MessageLimits: its flag would pad a word of every connection.
    std::uint64_t max_message_bytes_;
    std::size_t max_fragments_;
    Utf8Validator utf8_;
    std::uint64_t declared_bytes_ = 0;  // sum of the payload lengths of this message's frame headers
    std::uint64_t fed_bytes_ = 0;       // bytes passed to on_payload() for this message
    std::size_t fragments_ = 0;
    Opcode opcode_ = Opcode::text;
    bool in_message_ = false;
    bool compressed_ = false;
    bool frame_is_data_ = false;   // the current frame belongs to the message (not a control frame)
    bool frame_is_final_ = false;  // ... and is its last frame
    bool complete_ = false;
    bool validate_utf8_;
};

/// A serialized frame header, held inline so a session can gather-write it before the payload.
struct FrameHeaderBytes {
    std::array<char, max_frame_header_size> data{};
    std::uint8_t size = 0;
    std::string_view view() const noexcept { return {data.data(), size}; }
};

/// Serializes `header` with the shortest length encoding (and the masking key when `masked`). It does
/// not validate: sending only legal frames (control payload ≤ 125 bytes, FIN set) is the caller's job.
FrameHeaderBytes encode_frame_header(const FrameHeader& header) noexcept;
/// The size encode_frame_header() gives `header`: 2, 4 or 10 bytes, plus 4 for the masking key.
inline std::size_t frame_header_size(const FrameHeader& header) noexcept {
    const std::uint64_t length = header.payload_length;
    return (length < 126 ? 2 : length <= 0xFFFF ? 4 : 10) + (header.masked ? 4 : 0);
}
/// As encode_frame_header(), written to `out`, which has frame_header_size(header) bytes of room;
/// returns that size. Lets a frame be written straight into an output buffer. Always inlined: where the
/// header is known (an unmasked small frame) it folds to a few stores.
[[gnu::always_inline]] inline std::size_t encode_frame_header(const FrameHeader& header, char* out) noexcept {
    auto* p = reinterpret_cast<unsigned char*>(out);
    p[0] = static_cast<unsigned char>((header.fin ? 0x80 : 0) | (header.rsv1 ? rsv1_bit : 0) |
                                      (header.rsv2 ? rsv2_bit : 0) | (header.rsv3 ? rsv3_bit : 0) |
                                      (static_cast<unsigned>(header.opcode) & 0x0F));
    const unsigned char mask_bit = header.masked ? 0x80 : 0;
    const std::uint64_t length = header.payload_length;
    std::size_t pos = 2;
    if (length < 126) {
        p[1] = static_cast<unsigned char>(mask_bit | length);
    } else if (length <= 0xFFFF) {
        p[1] = mask_bit | 126;
        p[2] = static_cast<unsigned char>(length >> 8);
        p[3] = static_cast<unsigned char>(length);
        pos = 4;
    } else {
        p[1] = mask_bit | 127;
        for (std::size_t i = 0; i < 8; ++i) p[2 + i] = static_cast<unsigned char>(length >> (56 - 8 * i));
        pos = 10;
    }
    if (header.masked) {
        std::memcpy(p + pos, header.mask_key.data(), 4);
        pos += 4;
    }
    return pos;
}
/// Appends a whole frame to `out`: `header` with payload_length set to payload.size(), then the payload,
/// masked with header.mask_key when header.masked. For control frames and tests, not the data path.
void append_frame(std::string& out, FrameHeader header, std::string_view payload);
/// A whole frame as a new string, as append_frame().
std::string encode_frame(FrameHeader header, std::string_view payload);

/// How a message of `message_size` bytes is sent as frames of at most `max_frame_payload` bytes: frame
/// 0 carries the message opcode (and RSV1 when compressed), the others are continuations, the last has
/// FIN. An empty message is one empty frame; max_frame_payload 0 means no limit. Headers are unmasked:
/// a client sets masked and a fresh mask_key on each.
class FragmentPlan {
public:
    FragmentPlan(Opcode opcode, std::uint64_t message_size, std::uint64_t max_frame_payload,
                 bool compressed = false) noexcept;
    /// Number of frames.
    std::uint64_t size() const noexcept { return count_; }
    /// The header of frame `i` (i < size()).
    FrameHeader header(std::uint64_t i) const noexcept;
    /// Where frame `i`'s payload starts in the message.
    std::uint64_t offset(std::uint64_t i) const noexcept { return i * chunk_; }

private:
    std::uint64_t message_size_;
    std::uint64_t chunk_;
    std::uint64_t count_;
    Opcode opcode_;
    bool compressed_;
};

/// XORs `data` with the masking key (§5.3), 16 bytes at a time (32 from 512 bytes on CPUs with
/// AVX2, chosen at run time). `key_offset` is the position of data[0]
/// in the frame's payload, so a payload can be (un)masked piece by piece as it arrives.
void apply_mask(std::span<std::byte> data, MaskKey key, std::size_t key_offset = 0) noexcept;
void apply_mask(std::span<char> data, MaskKey key, std::size_t key_offset = 0) noexcept;
void apply_mask(std::span<std::uint8_t> data, MaskKey key, std::size_t key_offset = 0) noexcept;
/// Copies `from` to `to` (which must not overlap it) XORed with the masking key: unmasking on the way
/// into a message buffer, one pass over the bytes instead of a mask in place and a copy.
void copy_masked(std::span<const char> from, char* to, MaskKey key, std::size_t key_offset = 0) noexcept;
/// The masking key as a word: its four bytes twice, in memory order, turned so that key byte
/// (key_offset & 3) applies to the word's first byte. A word (or vector of them) starting at any
/// multiple of 4 bytes after that offset is masked with the same value.
inline std::uint64_t mask_word(MaskKey key, std::size_t key_offset = 0) noexcept {
    std::uint32_t k32;
    std::memcpy(&k32, key.data(), sizeof k32);
    const int shift = static_cast<int>(key_offset & 3) * 8;
    k32 = std::endian::native == std::endian::little ? std::rotr(k32, shift) : std::rotl(k32, shift);
    return (std::uint64_t{k32} << 32) | k32;
}
/// apply_mask() of a whole small payload (key offset 0), inline: for the usual small frame, where the
/// call and the set-up of the wide loops cost more than the bytes.
inline void apply_mask_small(std::span<char> data, MaskKey key) noexcept {
    char* p = data.data();
    const std::size_t n = data.size();
    if (n < 8) {
        for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<char>(p[i] ^ static_cast<char>(key[i & 3]));
        return;
    }
    const std::uint64_t kw = mask_word(key);
    // A remainder is done with the last 16 (or 8) bytes, read before anything is written and XORed with
    // the key turned to their offset (n - 16 and n - 8 are n modulo 4), instead of a byte loop: where
    // they overlap bytes of the steps before, both write the same value.
    if (n >= 16) {
        std::uint64_t last[2];
        std::memcpy(last, p + n - 16, sizeof last);
        // Two words per step, which compilers join into one 16-byte vector operation.
        for (std::size_t i = 0; i + 16 <= n; i += 16) {
            std::uint64_t w[2];
            std::memcpy(w, p + i, sizeof w);
            w[0] ^= kw;
            w[1] ^= kw;
            std::memcpy(p + i, w, sizeof w);
        }
        if (n % 16 != 0) {
            const std::uint64_t kl = mask_word(key, n);
            last[0] ^= kl;
            last[1] ^= kl;
            std::memcpy(p + n - 16, last, sizeof last);
        }
        return;
    }
    std::uint64_t last;
    std::memcpy(&last, p + n - 8, sizeof last);
    std::uint64_t first;
    std::memcpy(&first, p, sizeof first);
    first ^= kw;
    std::memcpy(p, &first, sizeof first);
    last ^= mask_word(key, n);
    std::memcpy(p + n - 8, &last, sizeof last);
}
/// The byte-at-a-time definition of masking, the reference apply_mask() is tested and measured against.
void apply_mask_bytewise(std::span<std::uint8_t> data, MaskKey key, std::size_t key_offset = 0) noexcept;

}  // namespace herald::websocket
