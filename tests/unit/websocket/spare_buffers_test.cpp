#include "websocket/spare_buffers.hpp"

#include <gtest/gtest.h>

#include <string>

namespace herald::websocket {
namespace {

std::string buffer_of(std::size_t capacity) {
    std::string s;
    s.reserve(capacity);
    return s;
}

constexpr SpareBuffers::Limits kLimits{.min_bytes = 1000, .max_bytes = 100'000, .max_buffers = 3, .max_total_bytes = 150'000};

// take() found nothing: an empty string of no memory of its own (its capacity is the inline one).
bool none(const std::string& taken) { return taken.capacity() < kLimits.min_bytes; }

TEST(SpareBuffers, GivesBackABufferLargeEnough) {
    SpareBuffers spares(kLimits);
    std::string small = buffer_of(2000);
    std::string large = buffer_of(50'000);
    const char* large_bytes = large.data();
    spares.give(small);
    spares.give(large);
    EXPECT_LT(large.capacity(), 50'000U) << "kept";
    const std::string taken = spares.take(40'000);
    EXPECT_EQ(taken.data(), large_bytes);  // the same memory, not a new allocation
    EXPECT_TRUE(none(spares.take(40'000))) << "only one was large enough";
    EXPECT_GE(spares.take(1500).capacity(), 1500U);
    EXPECT_TRUE(none(spares.take(1))) << "empty now";
}

TEST(SpareBuffers, RefusesBuffersOutsideTheSizeLimits) {
    SpareBuffers spares(kLimits);
    std::string tiny = buffer_of(500);
    std::string huge = buffer_of(200'000);
    spares.give(tiny);
    spares.give(huge);
    EXPECT_TRUE(none(spares.take(1)));
}

TEST(SpareBuffers, StaysWithinItsCountAndBytes) {
    SpareBuffers spares(kLimits);
    for (int i = 0; i < 10; ++i) {
        std::string b = buffer_of(40'000);
        spares.give(b);
    }
    int kept = 0;
    std::size_t bytes = 0;
    for (int i = 0; i < 100; ++i) {  // bounded: a failing pool must not hang the test
        const std::string b = spares.take(1);
        if (none(b)) break;
        ++kept;
        bytes += b.capacity();
    }
    EXPECT_EQ(kept, 3);
    EXPECT_LE(bytes, kLimits.max_total_bytes);
}

// A pool filled by small messages' buffers must not refuse the larger ones of a later workload
// forever: a larger buffer takes the place of the smallest ones.
TEST(SpareBuffers, ALargerBufferReplacesSmallerOnesWhenFull) {
    SpareBuffers spares(kLimits);
    for (int i = 0; i < 3; ++i) {
        std::string b = buffer_of(2000);
        spares.give(b);
    }
    std::string big = buffer_of(90'000);
    spares.give(big);
    EXPECT_LT(big.capacity(), 90'000U) << "kept (moved into the pool)";
    EXPECT_GE(spares.take(90'000).capacity(), 90'000U);
    // Over the byte limit too: two large ones (2 x 90,000 > 150,000) cannot both stay.
    std::string a = buffer_of(90'000);
    std::string b = buffer_of(95'000);
    spares.give(a);
    spares.give(b);
    EXPECT_GE(spares.take(95'000).capacity(), 95'000U);
    EXPECT_TRUE(none(spares.take(90'000))) << "the smaller one made room";
    // A buffer no larger than every kept one does not replace any.
    for (int i = 0; i < 3; ++i) {
        std::string kept = buffer_of(2000);
        spares.give(kept);
    }
    std::string smaller = buffer_of(1500);
    spares.give(smaller);
    EXPECT_GE(smaller.capacity(), 1500U) << "not taken";
}

}  // namespace
}  // namespace herald::websocket
