#!/usr/bin/env bash
# Installs what is missing, builds with AddressSanitizer + UBSan and runs every test; then the
# threaded code under ThreadSanitizer, and each fuzz target for a bounded time.
#   FUZZ_SECONDS (default 60) per fuzz target; SKIP_TSAN=1 / SKIP_FUZZ=1 to leave those out locally.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test

# ccache keyed on paths relative to the checkout, so fresh clones on this machine reuse earlier objects.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1

step() { printf '\n==== %s\n' "$*"; }

step "AddressSanitizer + UndefinedBehaviorSanitizer: build and run every test"
cmake --preset asan-ubsan >/dev/null
cmake --build --preset asan-ubsan
ctest --preset asan-ubsan -j2

if [ "${SKIP_TSAN:-0}" != 1 ]; then
  step "ThreadSanitizer: every test against the tsan build"
  cmake --preset tsan >/dev/null
  cmake --build --preset tsan
  ctest --preset tsan -j2
fi

if [ "${SKIP_FUZZ:-0}" != 1 ]; then
  step "libFuzzer targets (clang 14, ASan + UBSan), ${FUZZ_SECONDS:-60} s each"
  cmake --preset fuzz >/dev/null
  cmake --build --preset fuzz --target herald_fuzzers
  fuzz/run.sh build/fuzz "${FUZZ_SECONDS:-60}"
fi
