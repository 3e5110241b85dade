#include "websocket/mask_source.hpp"

#include <openssl/rand.h>

#include <array>
#include <cstring>

#include <herald/error.hpp>

namespace herald::websocket {
namespace {

// 1,024 keys per refill: the generator's cost disappears behind the frame's.
constexpr std::size_t kBlockBytes = 4096;

struct KeyBlock {
    std::array<unsigned char, kBlockBytes> bytes{};
    std::size_t next = kBlockBytes;  // empty until first use
};

}  // namespace

MaskKey next_mask_key() {
    thread_local KeyBlock block;
    MaskKey key{};
    if (block.next + key.size() > block.bytes.size()) {
        if (RAND_bytes(block.bytes.data(), static_cast<int>(block.bytes.size())) != 1)
            throw herald::error("RAND_bytes failed to generate WebSocket masking keys");
        block.next = 0;
    }
    std::memcpy(key.data(), block.bytes.data() + block.next, key.size());
    block.next += key.size();
    return key;
}

}  // namespace herald::websocket
