#include <herald/client/backoff.hpp>

#include <algorithm>
#include <cmath>

namespace herald {

Backoff::Backoff(BackoffPolicy policy, std::uint64_t seed) : policy_(policy), rng_(seed) {
    policy_.factor = std::max(policy_.factor, 1.0);
    policy_.jitter = std::clamp(policy_.jitter, 0.0, 1.0);
    policy_.max = std::max(policy_.max, policy_.min);
}

std::chrono::milliseconds Backoff::next() {
    const double min = static_cast<double>(policy_.min.count());
    const double max = static_cast<double>(policy_.max.count());
    // pow() overflows to inf for many attempts; min() brings it back to the cap.
    const double nominal = std::min(max, min * std::pow(policy_.factor, static_cast<double>(attempts_)));
    ++attempts_;
    const double cut = std::uniform_real_distribution<double>(0.0, policy_.jitter)(rng_);
    return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(nominal * (1.0 - cut))));
}

}  // namespace herald
