#!/usr/bin/env bash
# Server-Sent Events fan-out: one publisher, N event-stream clients; herald (--threads 1) next to a
# node `http` broadcaster (bench/peers/node_sse_broadcast.mjs) in the same run.
#
#   bench/sse_fanout.sh [HERALD_BIN]
#
# Both servers are started once and pinned to SERVER_CPU, the load generator (bench/load/sse_fanout,
# one thread: the N clients and the publisher) to LOAD_CPU, with taskset. For each client count in
# CLIENTS and each publisher mode in PUBLISH, each server is measured ROUNDS times, in alternating
# order: sse_fanout opens the N streams (GET /events), publishes WARMUP seconds of events (not
# counted), then publishes 64-byte events (POST /publish?event=tick) on one keep-alive connection as
# fast as allowed — at most K publishes in flight and at most WINDOW events ahead of the slowest
# client — for DURATION seconds and waits until every client has every event. Publisher modes:
#   K        K in flight, pipelined: a new publish leaves whenever an answer comes back
#   burstK   bursts of K: K publishes leave together (one send) once the K before were all answered
# "1" is one event at a time: no server can write two events to a client in one go. With bursts,
# several publishes arrive together, and a server that flushes once per loop turn (herald) writes
# them to each client in one send, while one that writes at once (node) does not; the figures differ
# a lot (see bench/README.md), so both are measured by default. (Plain pipelining, "4", gives the
# same chance only when the load generator happens to send the publishes together, which depends on
# its own timing: not a default.) Figures per run: delivered events/s in total (deliveries to all clients / time from the
# first publish to the last delivery), the slowest client's events and rate, missing events. After
# each run the server is given time to settle (its CPU use to stop) before the next one.
# Goal: median herald delivered/s >= GOAL (5) × median node delivered/s, for every client count and
# publisher depth, with every client receiving every event (missing 0, no errors) in every herald run.
#
# The open-files limit is raised (ulimit -n, to 65536 or the hard limit); servers and the load
# generator inherit it. Each side needs N + a few descriptors; a client count that does not fit
# under the hard limit is replaced by the largest that does (reported, and in the JSON).
#
# Environment: HERALD_BIN (default build/release/apps/herald/herald), CLIENTS ("1000 10000"),
# DURATION (s, 10), ROUNDS (3), WARMUP (s per run, 1), PUBLISH ("1 burst4": publisher modes, each a
# workload), WINDOW (default max(16, 4 × K); 0: unbounded), SIZE (bytes per event body, 64), SERVER_CPU (0), LOAD_CPU (1), SERVERS ("herald node"), GOAL (5), RETRIES (2: a
# round in which another process took more than 5% of the server's or the load's core is run again,
# at most RETRIES times per client count), NODE_CHUNKED (0; 1: node's default chunked framing instead
# of herald's raw stream), SSE_FANOUT (path to the tool; default the CMake build's, else compiled
# from bench/load/sse_fanout.cpp with g++ into a temp dir).
# Output: human-readable lines on stderr, one JSON line on stdout. Exit 0 when every run was complete
# (every client got every event, no errors, no server died), whatever the ratio; 2 on setup errors;
# 5 when a run was not complete.
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"

HERALD=$(resolve_herald_bin "${1:-}")
CLIENTS=${CLIENTS:-1000 10000}
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-1}
PUBLISH=${PUBLISH:-1 burst4}
WINDOW=${WINDOW:-}
SIZE=${SIZE:-64}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
SERVERS=${SERVERS:-herald node}
GOAL=${GOAL:-5}
RETRIES=${RETRIES:-2}
NODE_CHUNKED=${NODE_CHUNKED:-0}
[[ $DURATION =~ ^[0-9]+$ && $DURATION -ge 1 && $DURATION -le 600 ]] || die "DURATION must be 1..600 seconds"
[[ $ROUNDS =~ ^[0-9]+$ && $ROUNDS -ge 1 && $ROUNDS -le 20 ]] || die "ROUNDS must be 1..20"
[[ $WARMUP =~ ^[0-9]+$ && $WARMUP -le 60 ]] || die "WARMUP must be 0..60 seconds"
[[ $RETRIES =~ ^[0-9]+$ && $RETRIES -le 20 ]] || die "RETRIES must be 0..20"
read -r -a modes <<<"$PUBLISH"
((${#modes[@]} > 0)) || die "PUBLISH is empty"
for k in "${modes[@]}"; do
    [[ $k =~ ^(burst)?([0-9]+)$ && ${BASH_REMATCH[2]} -ge 1 && ${BASH_REMATCH[2]} -le 4096 ]] ||
        die "bad PUBLISH mode '$k' (K or burstK, K 1..4096)"
done
depth() { echo "${1#burst}"; }
[[ -z $WINDOW || $WINDOW =~ ^[0-9]+$ ]] || die "WINDOW must be a number (0: unbounded)"
window_for() { local k; k=$(depth "$1"); if [[ -n $WINDOW ]]; then echo "$WINDOW"; else echo $((k * 4 > 16 ? k * 4 : 16)); fi; }
[[ $SIZE =~ ^[0-9]+$ && $SIZE -ge 21 ]] || die "SIZE must be >= 21 bytes"
[[ $GOAL =~ ^[0-9]+([.][0-9]+)?$ ]] || die "GOAL must be a number"

read -r -a servers <<<"$SERVERS"
((${#servers[@]} > 0)) || die "SERVERS is empty"
want() { [[ " ${servers[*]} " == *" $1 "* ]]; }
for s in "${servers[@]}"; do
    case $s in herald | node) ;; *) die "unknown server '$s' (herald node)" ;; esac
done
read -r -a client_counts <<<"$CLIENTS"
((${#client_counts[@]} > 0)) || die "CLIENTS is empty"
for c in "${client_counts[@]}"; do [[ $c =~ ^[0-9]+$ && $c -ge 1 ]] || die "bad client count '$c'"; done

build_hint="cmake --preset release && cmake --build --preset release --target herald_cli sse_fanout"
want herald && { [[ -x $HERALD ]] || die "no herald binary at $HERALD (build with: $build_hint; or SERVERS=node)"; }
want node && { command -v node >/dev/null || apt_install nodejs; }
command -v taskset >/dev/null || die "taskset (util-linux) is required"

WORK=$(mktemp -d /tmp/herald-bench-sse.XXXXXX)
declare -A PID PORT DEAD
cleanup() {
    local s
    for s in "${!PID[@]}"; do stop_pid "${PID[$s]}"; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

TOOL=${SSE_FANOUT:-}
if [[ -z $TOOL ]]; then
    TOOL=$(bench_bin sse_fanout load) || TOOL=""
    src=$BENCH_DIR/load/sse_fanout.cpp
    if [[ -z $TOOL || $src -nt $TOOL || $BENCH_DIR/load/common.hpp -nt $TOOL ]]; then
        log "compiling bench/load/sse_fanout.cpp (no up-to-date CMake build of it)"
        g++ -std=c++20 -O2 -Wall -Wextra -o "$WORK/sse_fanout" "$src" || die "cannot compile $src"
        TOOL=$WORK/sse_fanout
    fi
fi
[[ -x $TOOL ]] || die "no sse_fanout at $TOOL"

# ---- open files: each side holds N sockets plus a few of its own ----
max_clients=0
for c in "${client_counts[@]}"; do ((c > max_clients)) && max_clients=$c; done
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)
[[ $NOFILE == unlimited ]] && NOFILE=1048576
FIT=$((NOFILE - 64))
declare -A ASKED   # measured count -> the count that was asked for, when it did not fit
counts=()
for c in "${client_counts[@]}"; do
    if ((c > FIT)); then
        log "note: $c clients do not fit under the open-files limit $NOFILE (hard limit $(ulimit -Hn); each side needs N + 64): running $FIT clients instead"
        ASKED[$FIT]=$c
        c=$FIT
    fi
    counts+=("$c")
done
workloads=()   # "clients:mode:window"
for c in "${counts[@]}"; do for k in "${modes[@]}"; do workloads+=("$c:$k:$(window_for "$k")"); done; done
if ((max_clients <= FIT)); then
    log "open-files limit $NOFILE (hard $(ulimit -Hn)): $max_clients clients + server descriptors fit on each side"
fi
ports=$(awk '{ print $2 - $1 + 1 }' /proc/sys/net/ipv4/ip_local_port_range)
((ports >= max_clients)) || log "warning: only $ports ephemeral ports for up to $max_clients clients"

# ---- servers: started once, both pinned to SERVER_CPU (the idle one uses no CPU) ----
for s in "${servers[@]}"; do
    PORT[$s]=$(free_port) || die "no free port"
    for o in "${!PORT[@]}"; do [[ $o == "$s" || ${PORT[$o]} != "${PORT[$s]}" ]] || PORT[$s]=$(free_port); done
    case $s in
    herald) cmd=("$HERALD" serve --host 127.0.0.1 --port "${PORT[$s]}" --threads 1 --log-level warn --no-access-log)
            what="$HERALD" ;;
    node) cmd=(node "$BENCH_DIR/peers/node_sse_broadcast.mjs" --port "${PORT[$s]}")
          what="node $(node --version) http"
          if [[ $NODE_CHUNKED == 1 ]]; then cmd+=(--chunked) what+=", chunked framing"; fi ;;
    esac
    start_pinned "$s" "$WORK" "${PORT[$s]}" "$SERVER_CPU" "${cmd[@]}"
    PID[$s]=$STARTED_PID
    log "$(printf '%-7s pid %-7s 127.0.0.1:%-5s CPU %s  %s' "$s" "${PID[$s]}" "${PORT[$s]}" "$SERVER_CPU" "$what")"
done
log "load: $TOOL on CPU $LOAD_CPU; workloads (clients:publisher:window) ${workloads[*]}; $SIZE-byte events; $ROUNDS rounds of ${DURATION}s (+${WARMUP}s warm-up each); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
log "per run: delivered events/s (all clients), events published/s, the slowest client, missing events, server CPU"
log "use and deliveries per server CPU-second, load CPU use, and 'others': CPU taken by other processes on"
log "the server's / load's core (CONTENDED when either is over 5%)"

clean=1

# settle PID: waits (at most 15 s) until PID has used at most 1 tick in 0.3 s: closing thousands of
# connections, node's GC, must not spill into the next run on the same core.
settle() {
    local pid=$1 a b i
    for ((i = 0; i < 50; i++)); do
        a=$(proc_ticks "$pid"); sleep 0.3; b=$(proc_ticks "$pid")
        ((b - a <= 1)) && return 0
    done
    log "note: server $pid still busy after 15 s"
}

# run_load SERVER CLIENTS MODE WINDOW -> prints
#   "dps eps slowest slowest_rate missing complete rc server_cpu% dps_per_cpu_s others_srv% load_cpu% others_load% ev_per_seg"
# ev_per_seg: events per TCP data segment the clients received (TCP_INFO; with TCP_NODELAY, per server
# write): how many events the server coalesced into one write to a client. The CPU figures are sse_fanout's, over the measured phase only (first publish to last delivery):
# the server's CPU time (/proc/PID/stat), sse_fanout's own, and the busy time other processes took
# on each of the two cores (/proc/stat).
run_load() {
    local s=$1 n=$2 k=$3 w=$4 out rc=0 limit pub
    pub=(--inflight "$(depth "$k")")
    [[ $k != burst* ]] || pub+=(--burst)
    limit=$((WARMUP + DURATION + 10 + 10 + 60))
    out=$(timeout $((limit + 30)) taskset -c "$LOAD_CPU" "$TOOL" --port "${PORT[$s]}" --clients "$n" \
        --duration "$DURATION" --warmup "$WARMUP" "${pub[@]}" --window "$w" --size "$SIZE" \
        --timeout "$limit" --drain-timeout 10 --pid "${PID[$s]}" --server-cpu "$SERVER_CPU" \
        2>>"$WORK/sse_fanout-$s.err") || rc=$?
    printf '%s\n' "$out" | grep '^{' >>"$WORK/sse_fanout-$s.json" || true
    printf '%s\n' "$out" | awk -v rc="$rc" '
        function num(line, key,   m) { if (match(line, "\"" key "\":[^,}]*")) return substr(line, RSTART + length(key) + 3, RLENGTH - length(key) - 3); return "" }
        function nz(v) { return (v == "" || v == "null") ? 0 : v }
        /^\{/ { dps = num($0, "delivered_per_sec"); eps = num($0, "events_per_sec"); slow = num($0, "slowest_client_events")
                srate = num($0, "slowest_client_per_sec"); miss = num($0, "missing"); comp = num($0, "complete")
                scpu = nz(num($0, "server_cpu_pct")); eff = nz(num($0, "deliveries_per_server_cpu_s"))
                osrv = nz(num($0, "server_core_others_pct")); lcpu = nz(num($0, "load_cpu_pct"))
                oload = nz(num($0, "load_core_others_pct")); eps_seg = nz(num($0, "events_per_segment")) }
        END {
            if (dps == "") { dps = 0; eps = 0; slow = 0; srate = 0; miss = -1; comp = "false"; scpu = eff = osrv = lcpu = oload = eps_seg = 0 }
            printf "%s %s %s %s %s %s %d %.1f %.0f %.1f %.1f %.1f %.2f\n", dps, eps, slow, srate, miss, comp, rc,
                   scpu, eff, osrv, lcpu, oload, eps_seg
        }'
}

declare -A DPS EFF SLOW SRATE MISS SEG CONT   # key "count_index,server": space-separated per-round values
declare -A RR                             # key count_index: per-round herald/node ratios
REPEATED=0
ci=0
for wl in "${workloads[@]}"; do
    IFS=: read -r n k w <<<"$wl"
    if [[ $k == burst* ]]; then what="bursts of $(depth "$k") publishes"; else what="$k publish(es) in flight"; fi
    log "=== $n clients, $what, window $w"
    retries_left=$RETRIES
    r=1
    while ((r <= ROUNDS)); do
        order=()
        ns=${#servers[@]}
        for ((i = 0; i < ns; i++)); do order+=("${servers[$(((i + r - 1) % ns))]}"); done
        declare -A R_DPS=() R_EFF=() R_SLOW=() R_SRATE=() R_MISS=() R_CONT=() R_SEG=()
        round_contended=0
        for s in "${order[@]}"; do
            [[ -z ${DEAD[$s]:-} ]] || continue
            read -r dps eps slow srate miss comp rc scpu eff ocpu lcpu locpu evseg < <(run_load "$s" "$n" "$k" "$w")
            note=""
            if [[ $comp != true || $rc != 0 ]]; then
                note="  NOT COMPLETE (sse_fanout exit $rc: $(tail -n 2 "$WORK/sse_fanout-$s.err" | tr '\n' ' '))"
                clean=0
            fi
            cont=0
            if awk -v o="$ocpu" -v l="$locpu" 'BEGIN { exit !(o > 5 || l > 5) }'; then note+="  CONTENDED"; cont=1; fi
            if ! kill -0 "${PID[$s]}" 2>/dev/null; then
                note+="  SERVER DIED"; DEAD[$s]=1; clean=0
                tail -n 20 "$WORK/$s.log" >&2 || true
            fi
            R_DPS[$s]=$dps R_EFF[$s]=$eff R_SLOW[$s]=$slow R_SRATE[$s]=$srate R_MISS[$s]=$miss R_CONT[$s]=$cont R_SEG[$s]=$evseg
            ((cont == 0)) || round_contended=1
            log "$(printf 'round %d  %-7s %10.0f delivered/s  %8.1f events/s  slowest %7s ev (%8.1f/s)  missing %s  %5.2f ev/segment  server %5.1f%% CPU (%8.0f deliveries/CPU-s)  load %5.1f%%  others %4.1f%% / %4.1f%%%s' \
                "$r" "$s" "$dps" "$eps" "$slow" "$srate" "$miss" "$evseg" "$scpu" "$eff" "$lcpu" "$ocpu" "$locpu" "$note")"
            [[ -n ${DEAD[$s]:-} ]] || settle "${PID[$s]}"
        done
        if ((round_contended && retries_left > 0)); then
            retries_left=$((retries_left - 1)) REPEATED=$((REPEATED + 1))
            log "round $r was contended: repeating it ($retries_left repeats left for this workload)"
            unset R_DPS R_EFF R_SLOW R_SRATE R_MISS R_CONT R_SEG
            continue
        fi
        for s in "${!R_DPS[@]}"; do
            DPS["$ci,$s"]+="${R_DPS[$s]} " EFF["$ci,$s"]+="${R_EFF[$s]} " SLOW["$ci,$s"]+="${R_SLOW[$s]} "
            SRATE["$ci,$s"]+="${R_SRATE[$s]} " MISS["$ci,$s"]+="${R_MISS[$s]} " SEG["$ci,$s"]+="${R_SEG[$s]} "
            CONT["$ci,$s"]=$((${CONT["$ci,$s"]:-0} + R_CONT[$s]))
        done
        if [[ -n ${R_DPS[herald]:-} && -n ${R_DPS[node]:-} ]]; then
            rr=$(awk -v h="${R_DPS[herald]}" -v p="${R_DPS[node]}" 'BEGIN { printf "%.3f", (p > 0 ? h / p : 0) }')
            RR[$ci]+="$rr "
            log "round $r  herald/node $rr"
        fi
        unset R_DPS R_EFF R_SLOW R_SRATE R_MISS R_CONT R_SEG
        r=$((r + 1))
    done
    ci=$((ci + 1))
done

# ---- summary ----
ratio() { awk -v h="$1" -v p="$2" 'BEGIN { if (h == "null" || p == "null" || p <= 0) print "null"; else printf "%.3f\n", h / p }'; }
# arr "v1 v2 ...": a JSON array (null when empty).
# shellcheck disable=SC2086
arr() { if [[ -z ${1// /} ]]; then echo null; else printf '[%s]' "$(printf '%s,' $1 | sed 's/,$//')"; fi; }
json="{\"benchmark\":\"sse_fanout\",\"duration_s\":$DURATION,\"rounds\":$ROUNDS,\"warmup_s\":$WARMUP"
json+=",\"size\":$SIZE,\"server_cpu\":$SERVER_CPU,\"load_cpu\":$LOAD_CPU"
json+=",\"nofile\":$NOFILE,\"node_chunked\":$([[ $NODE_CHUNKED == 1 ]] && echo true || echo false)"
json+=",\"repeated_rounds\":$REPEATED,\"servers\":[$(printf '"%s",' "${servers[@]}" | sed 's/,$//')],\"runs\":["
pass_all=true
table=("$(printf '%-8s %9s %14s %14s %10s %16s %14s   %s' clients publisher 'herald ev/s' 'node ev/s' ratio 'herald slowest' 'herald missing' 'goal')")
ci=0
for wl in "${workloads[@]}"; do
    IFS=: read -r n k w <<<"$wl"
    declare -A MED=() EMED=()
    wj="{\"clients\":$n,\"inflight\":$(depth "$k"),\"burst\":$([[ $k == burst* ]] && echo true || echo false),\"window\":$w"
    [[ -n ${ASKED[$n]:-} ]] && wj+=",\"clients_asked\":${ASKED[$n]}"
    for s in "${servers[@]}"; do
        vals=${DPS["$ci,$s"]:-}
        if [[ -n $vals ]]; then
            # shellcheck disable=SC2086
            MED[$s]=$(median $vals)
            # shellcheck disable=SC2086
            EMED[$s]=$(median ${EFF["$ci,$s"]})
        else
            MED[$s]=null EMED[$s]=null
        fi
        wj+=",\"${s}_delivered_per_sec\":$(arr "$vals"),\"${s}_median_delivered_per_sec\":${MED[$s]}"
        wj+=",\"${s}_slowest_client_events\":$(arr "${SLOW["$ci,$s"]:-}"),\"${s}_slowest_client_per_sec\":$(arr "${SRATE["$ci,$s"]:-}")"
        wj+=",\"${s}_missing\":$(arr "${MISS["$ci,$s"]:-}"),\"${s}_median_deliveries_per_server_cpu_s\":${EMED[$s]}"
        wj+=",\"${s}_events_per_segment\":$(arr "${SEG["$ci,$s"]:-}"),\"${s}_contended_runs\":${CONT["$ci,$s"]:-0}"
    done
    rt=$(ratio "${MED[herald]:-null}" "${MED[node]:-null}")
    eff_rt=$(ratio "${EMED[herald]:-null}" "${EMED[node]:-null}")
    herald_missing=0
    for m in ${MISS["$ci,herald"]:-}; do ((m == 0)) || herald_missing=$((herald_missing + (m < 0 ? 1 : m))); done
    lossless=$([[ -n ${MISS["$ci,herald"]:-} && $herald_missing == 0 ]] && echo true || echo false)
    pass=null
    if [[ $rt != null ]]; then
        pass=$(awk -v r="$rt" -v g="$GOAL" -v l="$lossless" 'BEGIN { print (r >= g && l == "true" ? "true" : "false") }')
    fi
    [[ $pass == true ]] || pass_all=false
    wj+=",\"ratio\":$rt,\"cpu_efficiency_ratio\":$eff_rt,\"round_ratios\":$(arr "${RR[$ci]:-}"),\"herald_lossless\":$lossless,\"pass\":$pass}"
    json+="$wj,"
    # shellcheck disable=SC2086
    hslow=$(printf '%s\n' ${SLOW["$ci,herald"]:-} | sort -n | head -n1)
    table+=("$(printf '%-8s %9s %14s %14s %10s %16s %14s   %s' "$n" "$k" \
        "$(awk -v v="${MED[herald]:-null}" 'BEGIN { if (v == "null") print "-"; else printf "%.0f", v }')" \
        "$(awk -v v="${MED[node]:-null}" 'BEGIN { if (v == "null") print "-"; else printf "%.0f", v }')" \
        "$rt" "${hslow:--}" "$herald_missing" \
        ">= $GOAL, lossless: $([[ $pass == true ]] && echo met || echo NOT met) (CPU-efficiency ratio $eff_rt)")")
    unset MED EMED
    ci=$((ci + 1))
done
json="${json%,}]"
log ""
log "median delivered events/s (servers on CPU $SERVER_CPU, sse_fanout on CPU $LOAD_CPU; ${ROUNDS} × ${DURATION}s):"
for line in "${table[@]}"; do log "$line"; done
{ want herald && want node; } || pass_all=null
json+=",\"goal\":$GOAL,\"pass\":$pass_all,\"clean\":$([[ $clean == 1 ]] && echo true || echo false)"
json+=",\"loadavg\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}"
printf '%s\n' "$json"
((clean)) || exit 5
