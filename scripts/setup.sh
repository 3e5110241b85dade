#!/usr/bin/env bash
# Installs the Debian 12 packages Herald needs (as root, or through sudo when available).
#   scripts/setup.sh build   the library and the herald program
#   scripts/setup.sh test    + test peers, sanitizer and fuzzing runtimes
#   scripts/setup.sh bench   + load generator and peer servers for bench/
set -euo pipefail
mode=${1:-build}

packages=(cmake ninja-build g++ pkg-config ccache libasio-dev libssl-dev zlib1g-dev
          libspdlog-dev libfmt-dev libcli11-dev nlohmann-json3-dev)
case "$mode" in
  build) ;;
  test)  packages+=(libgtest-dev libgmock-dev libbenchmark-dev clang-14 libclang-rt-14-dev curl python3
                    python3-websockets chromium nodejs npm) ;;
  bench) packages+=(libgtest-dev libbenchmark-dev wrk nginx-light util-linux) ;;
  *) echo "usage: $0 build|test|bench" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  # NodeSource's nodejs bundles npm and conflicts with Debian's npm package: any npm on PATH will do.
  [ "$p" = npm ] && command -v npm >/dev/null 2>&1 && continue
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "$mode" = test ]; then
  # The node peers of the integration tests (ws, playwright-core), as pinned by the lockfile; node_modules
  # stays in tests/integration (git-ignored), where the *.test.mjs files import them from.
  integration="$(cd "$(dirname "$0")/.." && pwd)/tests/integration"
  if [ ! -d "$integration/node_modules" ] ||
     [ "$integration/package-lock.json" -nt "$integration/node_modules/.package-lock.json" ]; then
    echo "installing node modules in tests/integration"
    (cd "$integration" && npm ci --no-audit --no-fund)
  fi
fi
