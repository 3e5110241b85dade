#!/usr/bin/env bash
# Instructions herald executes per echoed WebSocket message, counted by valgrind's callgrind: a
# figure that does not drift with the machine's load, for comparing builds (A/B) where messages/s
# on a shared 2-core VM moves by ±20% between runs of bench/ws_echo.sh. Not a throughput figure:
# under valgrind herald runs ~50x slower, so each read carries all in-flight messages of a
# connection, and the kernel's share (most of the real cost) is not counted.
#
#   bench/ws_echo_instructions.sh [HERALD_BIN...]
#
# For each binary: start `herald serve --threads 1` under callgrind, counting only inside the event
# loop's WebSocket dispatch (net::Poller::dispatch: read, parse, callbacks, encode, write), run
# ws_load against /ws/echo for DURATION seconds without warm-up, stop the server and divide the
# instructions by the messages echoed. Environment: CONNECTIONS (100), SIZE (32), INFLIGHT (16),
# DURATION (4), BENCH_BIN_DIR (see bench/ws_echo.sh).
# Output: one line per binary on stderr, one JSON line on stdout. Exit 2 on setup errors.
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"

CONNECTIONS=${CONNECTIONS:-100}
SIZE=${SIZE:-32}
INFLIGHT=${INFLIGHT:-16}
DURATION=${DURATION:-4}
bins=("$@")
((${#bins[@]} > 0)) || bins=("$(resolve_herald_bin "")")

command -v valgrind >/dev/null || apt_install valgrind
WS_LOAD=$(bench_bin ws_load load) || die "no ws_load binary (cmake --build --preset release --target ws_load)"
WORK=$(mktemp -d /tmp/herald-bench-instr.XXXXXX)
SERVER_PID=
cleanup() {
    [[ -n $SERVER_PID ]] && kill -INT "$SERVER_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

results=()
for bin in "${bins[@]}"; do
    [[ -x $bin ]] || die "not an executable: $bin"
    port=$(free_port) || die "no free port"
    out=$WORK/callgrind.out
    valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect='herald::net::Poller::dispatch()' \
        "$bin" serve --host 127.0.0.1 --port "$port" --threads 1 --log-level warn --no-access-log \
        >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    wait_port "$port" 60 || { cat "$WORK/server.log" >&2; die "herald did not come up under valgrind"; }
    line=$("$WS_LOAD" --mode ws --port "$port" --connections "$CONNECTIONS" --size "$SIZE" \
        --inflight "$INFLIGHT" --duration "$DURATION" --warmup 0 | grep '^{') || die "ws_load failed"
    kill -INT "$SERVER_PID"
    wait "$SERVER_PID" || true
    SERVER_PID=
    messages=$(json_num "$line" messages)
    errors=$(json_num "$line" errors)
    [[ $errors == 0 && $messages -gt 0 ]] || die "ws_load reported $errors errors, $messages messages"
    # awk reads to the end: leaving early would kill callgrind_annotate with SIGPIPE (pipefail).
    instructions=$(callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ && !done { gsub(",", "", $1); print $1; done = 1 }')
    [[ -n $instructions ]] || die "no callgrind totals for $bin"
    per=$((instructions / messages))
    log "$bin: $per instructions per echoed message ($instructions in dispatch / $messages messages; $CONNECTIONS x $SIZE B x $INFLIGHT)"
    results+=("{\"bin\":\"$bin\",\"instructions\":$instructions,\"messages\":$messages,\"instructions_per_message\":$per}")
done
printf '{"benchmark":"ws_echo_instructions","connections":%d,"size":%d,"inflight":%d,"duration_s":%d,"results":[%s]}\n' \
    "$CONNECTIONS" "$SIZE" "$INFLIGHT" "$DURATION" "$(IFS=,; echo "${results[*]}")"
