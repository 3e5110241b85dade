#!/usr/bin/env bash
# Memory per idle keep-alive connection: herald (--threads 1) and, for comparison, nginx (1 worker).
#
#   bench/idle_memory.sh [HERALD_BIN]
#
# For each server: start it, run bench/load/idle_conns, which does one warm-up request, reads the
# server's VmRSS, opens CONNECTIONS keep-alive connections (one full GET /hello cycle on each),
# waits SETTLE_MS, reads VmRSS again and closes everything. Reported: (after - before) / CONNECTIONS.
# For nginx the worker process is measured (it owns the connections), not the master.
# Goal for herald: <= 1024 bytes per idle connection.
#
# Environment: HERALD_BIN (default build/release/apps/herald/herald), CONNECTIONS (10000),
# SETTLE_MS (2000), TIMEOUT (s per server, 120), IDLE_CONNS (path to the tool; default: the CMake
# build's bench/load/idle_conns, else compiled from source into a temp dir), SERVERS ("herald nginx").
# Output: human-readable lines on stderr, one JSON line on stdout. Exit 2 on setup errors, 4 when a
# measurement failed (connections refused or closed by the server, timeout).
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"

HERALD=$(resolve_herald_bin "${1:-}")
CONNECTIONS=${CONNECTIONS:-10000}
SETTLE_MS=${SETTLE_MS:-2000}
TIMEOUT=${TIMEOUT:-120}
SERVERS=${SERVERS:-herald nginx}
[[ $CONNECTIONS =~ ^[0-9]+$ && $CONNECTIONS -ge 1 && $CONNECTIONS -le 60000 ]] || die "CONNECTIONS must be 1..60000"
[[ $TIMEOUT =~ ^[0-9]+$ && $TIMEOUT -ge 1 && $TIMEOUT -le 3600 ]] || die "TIMEOUT must be 1..3600 seconds"

read -r -a servers <<<"$SERVERS"
want() { [[ " ${servers[*]} " == *" $1 "* ]]; }
want herald || want nginx || die "SERVERS must name herald and/or nginx"
if want herald; then
    [[ -x $HERALD ]] || die "no herald binary at $HERALD (build with: cmake --preset release && cmake --build --preset release; or SERVERS=nginx)"
fi
want nginx && ensure_nginx

# Both the client and the servers (which inherit it) need a descriptor per connection: raise the
# limit to 65536 if allowed (hard limit, CAP_SYS_RESOURCE), else to the hard limit if that is enough.
want_nofile=$((CONNECTIONS * 2 + 1024))
((want_nofile >= 65536)) || want_nofile=65536
if ! ulimit -n "$want_nofile" 2>/dev/null; then
    hard=$(ulimit -Hn)
    if [[ $hard == unlimited ]] || ((hard >= CONNECTIONS + 256)); then
        ulimit -n "$hard"
        log "note: open-files limit is $hard (hard limit; cannot raise it to $want_nofile here)"
    else
        die "cannot raise the open-files limit to $((CONNECTIONS + 256)) (hard limit $hard); run as root or lower CONNECTIONS"
    fi
fi

WORK=$(mktemp -d /tmp/herald-bench-idle.XXXXXX)
NGINX_PID="" HERALD_PID=""
cleanup() {
    stop_pid "$HERALD_PID"
    stop_pid "$NGINX_PID"
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The load tool: an explicit path, the CMake build's, or a private build from source (a few seconds).
TOOL=${IDLE_CONNS:-}
if [[ -z $TOOL ]]; then
    for candidate in "$ROOT_DIR/build/release/bench/load/idle_conns" "$ROOT_DIR/build/debug/bench/load/idle_conns"; do
        if [[ -x $candidate && $candidate -nt $BENCH_DIR/load/idle_conns.cpp ]]; then TOOL=$candidate; break; fi
    done
fi
if [[ -z $TOOL ]]; then
    log "compiling bench/load/idle_conns.cpp"
    ${CXX:-g++} -std=c++20 -O2 -Wall -Wextra -o "$WORK/idle_conns" "$BENCH_DIR/load/idle_conns.cpp" || die "cannot build idle_conns"
    TOOL=$WORK/idle_conns
fi
[[ -x $TOOL ]] || die "no idle_conns tool at $TOOL"

# measure NAME PORT PID -> runs idle_conns, stores its JSON line in RESULT[NAME]
declare -A RESULT PER_CONN
failed=0
measure() {
    local name=$1 port=$2 pid=$3 out rc=0
    log "--- $name: pid $pid, 127.0.0.1:$port, $CONNECTIONS connections"
    out=$("$TOOL" --host 127.0.0.1 --port "$port" --pid "$pid" --connections "$CONNECTIONS" \
        --settle-ms "$SETTLE_MS" --timeout "$TIMEOUT") || rc=$?
    [[ -n $out ]] || out=null
    RESULT[$name]=$out
    PER_CONN[$name]=$(printf '%s' "$out" | sed -n 's/.*"bytes_per_connection":\([^,}]*\).*/\1/p')
    [[ -n ${PER_CONN[$name]} ]] || PER_CONN[$name]=null
    if ((rc != 0)); then
        log "$name: idle_conns exited with status $rc"
        failed=1
    fi
    log "$(printf '%s: %s bytes per idle connection (threads: %s)' "$name" "${PER_CONN[$name]}" \
        "$(awk '/^Threads:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo '?')")"
}

for s in "${servers[@]}"; do
    port=$(free_port) || die "no free port"
    case $s in
    nginx)
        start_nginx "$WORK" "$port"
        measure nginx "$port" "$NGINX_WORKER_PID"
        stop_pid "$NGINX_PID"; NGINX_PID=""
        ;;
    herald)
        start_herald "$HERALD" "$WORK" "$port"
        measure herald "$port" "$HERALD_PID"
        if ! kill -0 "$HERALD_PID" 2>/dev/null; then log "herald exited during the run:"; cat "$WORK/herald.log" >&2 || true; failed=1; fi
        stop_pid "$HERALD_PID"; HERALD_PID=""
        ;;
    esac
done

json="{\"benchmark\":\"idle_memory\",\"connections\":$CONNECTIONS,\"settle_ms\":$SETTLE_MS"
report_idle_memory "$json" "idle connection" herald nginx
((failed == 0)) || exit 4
