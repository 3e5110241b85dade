#!/usr/bin/env bash
# Installs the build into a temporary prefix and builds a tiny program against it twice:
# with CMake's find_package(herald) and with pkg-config. Usage: install_package.sh BUILD_DIR SANITIZE CXX
set -euo pipefail
build=$1 sanitize=${2:-} cxx=${3:-g++}
work=$(mktemp -d /tmp/herald-install.XXXXXX)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null

flags=""
[ -n "$sanitize" ] && flags="-fsanitize=$sanitize"

mkdir -p "$work/app"
cat > "$work/app/main.cpp" <<'CPP'
#include <herald/herald.hpp>
#include <cstdio>
int main() {
    herald::Server server({.threads = 1, .handle_signals = false});
    server.get("/", [](herald::Request&) { return herald::Response::text("hello"); });
    auto port = server.listen("127.0.0.1", 0);
    server.start();
    server.stop();
    server.wait();
    std::printf("ok %u\n", port);
}
CPP
cat > "$work/app/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.25)
project(tiny CXX)
find_package(herald REQUIRED)
add_executable(tiny main.cpp)
target_link_libraries(tiny PRIVATE herald::herald)
CMAKE
cmake -S "$work/app" -B "$work/app/build" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" \
      -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" >/dev/null
cmake --build "$work/app/build" >/dev/null
"$work/app/build/tiny" | grep -q '^ok '
echo "find_package(herald): built and ran"

export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig:$work/prefix/lib/x86_64-linux-gnu/pkgconfig"
# shellcheck disable=SC2046
"$cxx" $flags "$work/app/main.cpp" -o "$work/tiny-pc" $(pkg-config --cflags --libs herald)
"$work/tiny-pc" | grep -q '^ok '
echo "pkg-config herald: built and ran"
