// Backoff: exponential growth from min, the cap, jitter bounds, reset.
#include <herald/client/backoff.hpp>

#include <gtest/gtest.h>

namespace herald {
namespace {

using std::chrono::milliseconds;

TEST(Backoff, GrowsByTheFactorUpToTheCapWithoutJitter) {
    Backoff b({.min = milliseconds(100), .max = milliseconds(1000), .factor = 2.0, .jitter = 0.0});
    for (int expected : {100, 200, 400, 800, 1000, 1000}) EXPECT_EQ(b.next(), milliseconds(expected));
    EXPECT_EQ(b.attempts(), 6u);
    b.reset();
    EXPECT_EQ(b.next(), milliseconds(100));
}

TEST(Backoff, JitterShortensWithinItsBound) {
    Backoff b({.min = milliseconds(1000), .max = milliseconds(1000), .factor = 2.0, .jitter = 0.5}, 1);
    bool varied = false;
    milliseconds first = b.next();
    for (int i = 0; i < 1000; ++i) {
        const auto d = b.next();
        EXPECT_GE(d, milliseconds(500));
        EXPECT_LE(d, milliseconds(1000));
        varied = varied || d != first;
    }
    EXPECT_TRUE(varied);
}

TEST(Backoff, ManyAttemptsStayAtTheCap) {
    Backoff b({.min = milliseconds(1), .max = milliseconds(30'000), .factor = 10.0, .jitter = 0.0});
    for (int i = 0; i < 2000; ++i) b.next();
    EXPECT_EQ(b.next(), milliseconds(30'000));
}

TEST(Backoff, OddPoliciesAreMadeSane) {
    Backoff b({.min = milliseconds(50), .max = milliseconds(10), .factor = 0.5, .jitter = 7.0}, 3);
    for (int i = 0; i < 100; ++i) {
        const auto d = b.next();
        EXPECT_GE(d, milliseconds(0));
        EXPECT_LE(d, milliseconds(50));
    }
}

}  // namespace
}  // namespace herald
