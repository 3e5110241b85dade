# Shared helpers for bench/http_hello.sh and bench/idle_memory.sh (sourced, not run).
# shellcheck shell=bash disable=SC2034  # variables here are used by the scripts that source this

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT_DIR=$(cd "$BENCH_DIR/.." && pwd)
NGINX_BIN=${NGINX_BIN:-/usr/sbin/nginx}  # override to test another build

log() { printf '%s\n' "$*" >&2; }
die() { log "error: $*"; exit 2; }

# Runs apt-get as root (directly or through sudo).
apt_install() {
    local runner=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null || die "need root or sudo to install: $*"
        runner=(sudo)
    fi
    log "installing: $*"
    DEBIAN_FRONTEND=noninteractive "${runner[@]}" apt-get install -y --no-install-recommends "$@" >&2 ||
        { "${runner[@]}" apt-get update >&2 &&
          DEBIAN_FRONTEND=noninteractive "${runner[@]}" apt-get install -y --no-install-recommends "$@" >&2; } ||
        die "apt-get install $* failed"
}

ensure_nginx() { [[ -x $NGINX_BIN ]] || apt_install nginx-light; [[ -x $NGINX_BIN ]] || die "no $NGINX_BIN"; }
ensure_wrk() { command -v wrk >/dev/null || apt_install wrk; command -v wrk >/dev/null || die "no wrk"; }

# A free TCP port on loopback, below the ephemeral range so clients never take it.
free_port() {
    local p i
    for ((i = 0; i < 500; i++)); do
        p=$((20000 + RANDOM % 12000))
        if ! ss -Htan "( sport = :$p or dport = :$p )" 2>/dev/null | grep -q .; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

# wait_http PORT PATH TIMEOUT_S: waits until GET PATH on 127.0.0.1:PORT answers with an HTTP status line.
wait_http() {
    local port=$1 path=$2 limit=$3 start=$SECONDS line
    while ((SECONDS - start < limit)); do
        # In a subshell: a failed `exec` redirection would end a non-interactive shell.
        line=$( (exec 9<>"/dev/tcp/127.0.0.1/$port" &&
                 printf 'GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' "$path" >&9 &&
                 IFS= read -r -t 2 l <&9 && printf '%s' "${l%$'\r'}") 2>/dev/null) || true
        if [[ $line == HTTP/1.* ]]; then
            printf '%s\n' "$line"
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# start_nginx DIR PORT [CPU]: renders bench/peers/nginx.conf into DIR and starts nginx (master in the
# foreground, one worker) in the background; sets NGINX_PID (master) and NGINX_WORKER_PID.
start_nginx() {
    local dir=$1 port=$2 cpu=${3:-} pin=()
    [[ -n $cpu ]] && pin=(taskset -c "$cpu")
    sed -e "s|@PORT@|$port|g" -e "s|@DIR@|$dir|g" "$BENCH_DIR/peers/nginx.conf" >"$dir/nginx.conf"
    "${pin[@]}" "$NGINX_BIN" -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" >"$dir/nginx.out" 2>&1 &
    NGINX_PID=$!
    if ! wait_http "$port" /hello 10 >/dev/null; then
        cat "$dir/error.log" "$dir/nginx.out" >&2 2>/dev/null || true
        die "nginx did not come up on 127.0.0.1:$port"
    fi
    NGINX_WORKER_PID=""
    local i
    for ((i = 0; i < 50; i++)); do
        NGINX_WORKER_PID=$(pgrep -P "$NGINX_PID" | head -n1 || true)
        [[ -z $NGINX_WORKER_PID ]] || break
        sleep 0.1
    done
    [[ -n $NGINX_WORKER_PID ]] || die "cannot find the nginx worker of master $NGINX_PID"
}

# start_herald BIN DIR PORT [CPU]: starts `herald serve` with one thread; sets HERALD_PID.
start_herald() {
    local bin=$1 dir=$2 port=$3 cpu=${4:-} pin=()
    [[ -n $cpu ]] && pin=(taskset -c "$cpu")
    "${pin[@]}" "$bin" serve --host 127.0.0.1 --port "$port" --threads 1 --log-level warn \
        >"$dir/herald.log" 2>&1 &
    HERALD_PID=$!
    local status
    if ! status=$(wait_http "$port" /hello 10); then
        cat "$dir/herald.log" >&2 || true
        die "herald did not come up on 127.0.0.1:$port"
    fi
    [[ $status == *" 200"* ]] || log "warning: herald answers GET /hello with '$status' (expected 200)"
}

# stop_pid PID: TERM, then KILL after 5 s; only for processes this script started.
stop_pid() {
    local pid=$1 i
    [[ -n $pid ]] || return 0
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# median of the arguments (mean of the two middle values for an even count).
median() {
    printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {
        if (NR == 0) { print "null"; exit }
        if (NR % 2) printf "%.2f\n", v[(NR+1)/2]; else printf "%.2f\n", (v[NR/2] + v[NR/2+1]) / 2 }'
}

# Default herald binary: first argument, else $HERALD_BIN, else the release preset's output.
resolve_herald_bin() {
    local bin=${1:-${HERALD_BIN:-$ROOT_DIR/build/release/apps/herald/herald}}
    printf '%s\n' "$bin"
}

# ---- WebSocket echo benchmark helpers (bench/ws_echo.sh, bench/ws_idle_memory.sh) ----

WS_NODE_PEER=$BENCH_DIR/peers/node_ws_echo.mjs

# Header-only peers: the packages are needed to *build* bench/peers/{beast,websocketpp}_echo.
ensure_boost() { [[ -e /usr/include/boost/beast/websocket.hpp ]] || apt_install libboost-dev; }
ensure_websocketpp() { [[ -e /usr/include/websocketpp/server.hpp ]] || apt_install libwebsocketpp-dev; }
# node + npm, and the ws package of bench/peers/package.json (npm ci from the lockfile).
ensure_node_ws() {
    command -v node >/dev/null || apt_install nodejs
    if [[ ! -f $BENCH_DIR/peers/node_modules/ws/package.json ]]; then
        command -v npm >/dev/null || apt_install npm
        log "npm ci in bench/peers (node ws peer)"
        (cd "$BENCH_DIR/peers" && npm ci --no-audit --no-fund >&2) || die "npm ci in bench/peers failed"
    fi
}

# bench_bin NAME SUBDIR: path of a CMake-built bench tool (load/ws_load, peers/tcp_echo, ...):
# $BENCH_BIN_DIR/SUBDIR/NAME if set, else the release preset's build, else the debug one.
bench_bin() {
    local name=$1 sub=$2 d
    for d in ${BENCH_BIN_DIR:+"$BENCH_BIN_DIR"} "$ROOT_DIR/build/release/bench" "$ROOT_DIR/build/debug/bench"; do
        if [[ -x $d/$sub/$name ]]; then printf '%s\n' "$d/$sub/$name"; return 0; fi
    done
    return 1
}

# wait_port PORT TIMEOUT_S: waits until 127.0.0.1:PORT accepts a TCP connection.
wait_port() {
    local port=$1 limit=$2 start=$SECONDS
    while ((SECONDS - start < limit)); do
        if (exec 9<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    return 1
}

# start_pinned NAME DIR PORT CPU CMD...: starts CMD (pinned to CPU when CPU is not empty) in the
# background, output to DIR/NAME.log, waits for the port; sets STARTED_PID (the server itself:
# taskset execs it).
start_pinned() {
    local name=$1 dir=$2 port=$3 cpu=$4 pin=()
    shift 4
    [[ -n $cpu ]] && pin=(taskset -c "$cpu")
    "${pin[@]}" "$@" >"$dir/$name.log" 2>&1 &
    STARTED_PID=$!
    if ! wait_port "$port" 10; then
        cat "$dir/$name.log" >&2 || true
        die "$name did not come up on 127.0.0.1:$port"
    fi
    kill -0 "$STARTED_PID" 2>/dev/null || { cat "$dir/$name.log" >&2; die "$name exited at start"; }
}

# CPU time (clock ticks) used so far by process PID, all threads (as in bench/http_hello.sh).
proc_ticks() {
    local st f
    st=$(<"/proc/$1/stat") || { echo 0; return; }
    read -r -a f <<<"${st##*) }"   # f[0] is field 3 (state): utime is field 14, stime field 15
    echo $((f[11] + f[12]))
}
# Busy ticks of CPU number N from /proc/stat: user + nice + system + steal (irq/softirq left out:
# the benchmark's own loopback traffic lands there). As in bench/http_hello.sh.
cpu_busy_ticks() {
    awk -v c="cpu$1" '$1 == c { print $2 + $3 + $4 + $9; exit }' /proc/stat
}

# json_num JSON KEY: the number (or null/true/false) at "KEY": in a flat JSON line.
json_num() {
    printf '%s' "$1" | sed -n "s/.*\"$2\":\([^,}]*\).*/\1/p"
}

# raise_nofile N: raises `ulimit -n` to at least N (to 65536 when allowed), else dies.
raise_nofile() {
    local need=$1 want=$1 hard
    ((want >= 65536)) || want=65536
    ulimit -n "$want" 2>/dev/null && return 0
    hard=$(ulimit -Hn)
    if [[ $hard == unlimited ]] || ((hard >= need)); then
        ulimit -n "$hard"
        log "note: open-files limit is $hard (hard limit; cannot raise it to $want here)"
        return 0
    fi
    die "cannot raise the open-files limit to $need (hard limit $hard); run as root or use fewer connections"
}

# The end of an idle-memory benchmark: the goal line for herald, then one JSON line with each server's
# bytes per connection and result (from the PER_CONN and RESULT arrays, null for servers not run) and
# `pass`. Uses the caller's want(). Arguments: the JSON head (without the closing brace), the label
# of a connection in the log line, then the servers.
#   report_idle_memory '{"benchmark":"idle_memory","connections":10000' "idle connection" herald nginx
report_idle_memory() {
    local json=$1 label=$2 s pass=null
    shift 2
    if want herald && [[ ${PER_CONN[herald]} != null ]]; then
        pass=$(awk -v b="${PER_CONN[herald]}" 'BEGIN { print (b <= 1024 ? "true" : "false") }')
        log "herald: ${PER_CONN[herald]} bytes per $label (goal <= 1024: $([[ $pass == true ]] && echo met || echo NOT met))"
    fi
    for s in "$@"; do
        if want "$s"; then
            json+=",\"${s}_bytes_per_connection\":${PER_CONN[$s]},\"${s}\":${RESULT[$s]}"
        else
            json+=",\"${s}_bytes_per_connection\":null,\"${s}\":null"
        fi
    done
    printf '%s\n' "$json,\"goal_bytes\":1024,\"pass\":$pass}"
}
