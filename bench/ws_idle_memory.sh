#!/usr/bin/env bash
# Memory per idle WebSocket connection: herald (--threads 1) and, for comparison, Boost.Beast,
# websocketpp and node ws echo servers (bench/peers/), one at a time.
#
#   bench/ws_idle_memory.sh [HERALD_BIN]
#
# For each server: start it, run `ws_load --mode ws-idle`, which opens one throwaway WebSocket
# connection (handshake + one echoed message, so first-touch costs are in the baseline), reads the
# server's VmRSS, opens CONNECTIONS WebSocket connections to /ws/echo (handshake checked on each;
# with ECHO_ONCE=1 also one 32-byte message echoed on each), waits SETTLE_MS, reads VmRSS again and
# closes everything. Reported: (after - before) / CONNECTIONS. Goal for herald: <= 1024 bytes.
#
# Environment: HERALD_BIN (default build/release/apps/herald/herald), BENCH_BIN_DIR (see
# bench/ws_echo.sh), CONNECTIONS (10000), SETTLE_MS (2000), TIMEOUT (s per server, 120),
# ECHO_ONCE (0), SERVERS ("herald beast websocketpp node").
# Output: human-readable lines on stderr, one JSON line on stdout. Exit 2 on setup errors, 4 when a
# measurement failed (connections refused or closed by the server, handshake errors, timeout).
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"

HERALD=$(resolve_herald_bin "${1:-}")
CONNECTIONS=${CONNECTIONS:-10000}
SETTLE_MS=${SETTLE_MS:-2000}
TIMEOUT=${TIMEOUT:-120}
ECHO_ONCE=${ECHO_ONCE:-0}
SERVERS=${SERVERS:-herald beast websocketpp node}
[[ $CONNECTIONS =~ ^[0-9]+$ && $CONNECTIONS -ge 1 && $CONNECTIONS -le 60000 ]] || die "CONNECTIONS must be 1..60000"
[[ $TIMEOUT =~ ^[0-9]+$ && $TIMEOUT -ge 1 && $TIMEOUT -le 3600 ]] || die "TIMEOUT must be 1..3600 seconds"
[[ $SETTLE_MS =~ ^[0-9]+$ ]] || die "SETTLE_MS must be a number of milliseconds"

read -r -a servers <<<"$SERVERS"
((${#servers[@]} > 0)) || die "SERVERS is empty"
want() { [[ " ${servers[*]} " == *" $1 "* ]]; }
build_hint="cmake --preset release && cmake --build --preset release --target herald_cli ws_load beast_echo websocketpp_echo"
for s in "${servers[@]}"; do
    case $s in
    herald | beast | websocketpp | node) ;;
    *) die "unknown server '$s' (herald beast websocketpp node)" ;;
    esac
done
want beast && ensure_boost
want websocketpp && ensure_boost && ensure_websocketpp
want node && ensure_node_ws
WS_LOAD=$(bench_bin ws_load load) || die "no ws_load binary (build with: $build_hint)"
declare -A BIN
want herald && { [[ -x $HERALD ]] || die "no herald binary at $HERALD (build with: $build_hint; or leave herald out of SERVERS)"; }
for s in beast websocketpp; do
    if want "$s"; then
        BIN[$s]=$(bench_bin "${s}_echo" peers) || die "no ${s}_echo binary (build with: $build_hint)"
    fi
done

# The client and each server (which inherits the limit) need a descriptor per connection.
raise_nofile $((CONNECTIONS + 256))

WORK=$(mktemp -d /tmp/herald-bench-wsidle.XXXXXX)
SERVER_PID=""
cleanup() {
    stop_pid "$SERVER_PID"
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

extra=()
[[ $ECHO_ONCE == 1 ]] && extra=(--echo-once)
declare -A RESULT PER_CONN
failed=0
for s in "${servers[@]}"; do
    port=$(free_port) || die "no free port"
    case $s in
    herald) cmd=("$HERALD" serve --host 127.0.0.1 --port "$port" --threads 1 --log-level warn --no-access-log) ;;
    node) cmd=(node "$WS_NODE_PEER" --port "$port") ;;
    *) cmd=("${BIN[$s]}" --port "$port") ;;
    esac
    start_pinned "$s" "$WORK" "$port" "" "${cmd[@]}"
    SERVER_PID=$STARTED_PID
    log "--- $s: pid $SERVER_PID, 127.0.0.1:$port, $CONNECTIONS WebSocket connections$([[ $ECHO_ONCE == 1 ]] && echo ', one echo each')"
    rc=0
    out=$("$WS_LOAD" --mode ws-idle --host 127.0.0.1 --port "$port" --path /ws/echo --pid "$SERVER_PID" \
        --connections "$CONNECTIONS" --settle-ms "$SETTLE_MS" --timeout "$TIMEOUT" "${extra[@]}") || rc=$?
    [[ -n $out ]] || out=null
    RESULT[$s]=$out
    PER_CONN[$s]=$(json_num "$out" bytes_per_connection)
    [[ -n ${PER_CONN[$s]} ]] || PER_CONN[$s]=null
    if ((rc != 0)); then
        log "$s: ws_load exited with status $rc"
        failed=1
    fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        log "$s exited during the run:"; tail -n 20 "$WORK/$s.log" >&2 || true; failed=1
    fi
    log "$(printf '%s: %s bytes per idle WebSocket connection (threads: %s)' "$s" "${PER_CONN[$s]}" \
        "$(awk '/^Threads:/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null || echo '?')")"
    stop_pid "$SERVER_PID"; SERVER_PID=""
done

json="{\"benchmark\":\"ws_idle_memory\",\"connections\":$CONNECTIONS,\"settle_ms\":$SETTLE_MS"
json+=",\"echo_once\":$([[ $ECHO_ONCE == 1 ]] && echo true || echo false)"
report_idle_memory "$json" "idle WebSocket connection" herald beast websocketpp node
((failed == 0)) || exit 4
