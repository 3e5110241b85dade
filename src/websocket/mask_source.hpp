#pragma once
// Masking keys for client frames (RFC 6455 §5.3: a fresh, unpredictable key per frame).
#include <herald/websocket/frame.hpp>

namespace herald::websocket {

/// The next masking key of this thread. Keys come from OpenSSL's CSPRNG, drawn a block at a time so a
/// frame costs a copy of four bytes, not a call into the generator. Throws herald::error if it fails.
MaskKey next_mask_key();

}  // namespace herald::websocket
