#pragma once
// The fuzz targets' assertion: a broken invariant aborts with its location, which libFuzzer reports
// as a crash and keeps as a reproducer (it stays active in release builds, unlike assert()).
#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);  \
            std::abort();                                                                  \
        }                                                                                  \
    } while (false)
