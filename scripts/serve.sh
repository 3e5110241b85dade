#!/usr/bin/env bash
# Installs what is missing, builds a release and runs `herald serve` on http://localhost:8080.
# Extra arguments go to `herald serve` (e.g. --port 9000 --threads 2).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
# The "serve" preset builds the program only: tests, examples and benchmarks need packages that
# `setup.sh build` does not install.
cmake --preset serve >/dev/null
cmake --build --preset serve --target herald_cli
exec build/serve/apps/herald/herald serve "$@"  # port 8080 unless --port says otherwise
