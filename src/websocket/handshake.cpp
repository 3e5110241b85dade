// Opening handshake computations (RFC 6455 §4.1, §4.2.2) on OpenSSL's SHA-1, base64 and CSPRNG.
#include <herald/websocket/handshake.hpp>

#include <herald/error.hpp>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <cstddef>

namespace herald::websocket {
namespace {

constexpr std::size_t key_bytes = 16;          // the nonce in Sec-WebSocket-Key
constexpr std::size_t key_chars = 24;          // its base64 form with "==" padding
constexpr std::size_t sha1_bytes = 20;
constexpr std::size_t accept_chars = 28;       // base64 of a SHA-1 digest

bool is_base64_char(char c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

// EVP_EncodeBlock writes 4 characters per 3 bytes plus a NUL terminator, which `out` has room for.
template <std::size_t N, std::size_t M>
std::string base64(const std::array<unsigned char, N>& in, std::array<unsigned char, M>& out) {
    static_assert(M >= (N + 2) / 3 * 4 + 1);
    const int n = EVP_EncodeBlock(out.data(), in.data(), static_cast<int>(N));
    return std::string(reinterpret_cast<const char*>(out.data()), static_cast<std::size_t>(n));
}

}  // namespace

std::string accept_key(std::string_view sec_websocket_key) {
    std::string input;
    input.reserve(sec_websocket_key.size() + handshake_guid.size());
    input.append(sec_websocket_key);
    input.append(handshake_guid);
    std::array<unsigned char, sha1_bytes> digest{};
    unsigned int digest_size = 0;
    if (EVP_Digest(input.data(), input.size(), digest.data(), &digest_size, EVP_sha1(), nullptr) != 1 ||
        digest_size != sha1_bytes)
        throw herald::error("SHA-1 digest for Sec-WebSocket-Accept failed");
    std::array<unsigned char, accept_chars + 1> text{};
    return base64(digest, text);
}

bool is_valid_client_key(std::string_view key) noexcept {
    // 16 bytes are 5 full 3-byte groups (20 characters) and one byte in a last group of 2 characters
    // plus "==": any other length or padding decodes to a different number of bytes.
    if (key.size() != key_chars || key[22] != '=' || key[23] != '=') return false;
    for (std::size_t i = 0; i < 22; ++i)
        if (!is_base64_char(key[i])) return false;
    return true;
}

std::string make_client_key() {
    std::array<unsigned char, key_bytes> nonce{};
    if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1)
        throw herald::error("RAND_bytes failed to generate a Sec-WebSocket-Key");
    std::array<unsigned char, key_chars + 1> text{};
    return base64(nonce, text);
}

std::vector<std::string_view> parse_token_list(std::string_view list) {
    std::vector<std::string_view> out;
    std::size_t pos = 0;
    while (pos <= list.size()) {
        std::size_t end = list.find(',', pos);
        if (end == std::string_view::npos) end = list.size();
        std::string_view item = list.substr(pos, end - pos);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
        if (!item.empty()) out.push_back(item);
        pos = end + 1;
    }
    return out;
}

}  // namespace herald::websocket
