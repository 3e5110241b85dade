#!/usr/bin/env bash
# Installs what is missing, builds a release and runs `herald serve` on http://localhost:8080.
# Extra arguments go to `herald serve` (e.g. --port 9000 --threads 2).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
# Only the program: tests, examples and benchmarks need packages that `setup.sh build` does not install.
cmake --preset release -DHERALD_BUILD_TESTS=OFF -DHERALD_BUILD_EXAMPLES=OFF -DHERALD_BUILD_BENCH=OFF >/dev/null
cmake --build --preset release --target herald_cli
exec build/release/apps/herald/herald serve --port 8080 "$@"
