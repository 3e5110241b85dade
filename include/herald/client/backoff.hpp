#pragma once
// Delays between reconnection attempts: exponential, capped, with random jitter so that clients
// dropped together (a server restart) do not all come back in the same instant.
#include <chrono>
#include <cstdint>
#include <random>

namespace herald {

/// How reconnection delays grow: min × factor^n, capped at max, each shortened by up to `jitter` of itself.
struct BackoffPolicy {
    std::chrono::milliseconds min{250};     ///< the first delay
    std::chrono::milliseconds max{30'000};  ///< no delay is longer
    double factor = 2.0;                    ///< growth per failed attempt (≥ 1)
    double jitter = 0.5;                    ///< 0: exact delays; 0.5: each delay is 50–100% of its nominal value
};

/// The delays of successive attempts; reset() after a success starts over at `min`.
class Backoff {
public:
    /// `seed` makes the jitter reproducible in tests; by default it is random.
    explicit Backoff(BackoffPolicy policy = {}, std::uint64_t seed = std::random_device{}());
    /// The delay before the next attempt; each call counts one more failure.
    std::chrono::milliseconds next();
    /// Starts over (the connection is up again).
    void reset() noexcept { attempts_ = 0; }
    /// Failed attempts since the last reset().
    unsigned attempts() const noexcept { return attempts_; }

private:
    BackoffPolicy policy_;
    std::mt19937_64 rng_;
    unsigned attempts_ = 0;
};

}  // namespace herald
