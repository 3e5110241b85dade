#!/usr/bin/env bash
# Plain GET /hello throughput: herald (--threads 1) next to nginx (1 worker), same run, same body.
#
#   bench/http_hello.sh [HERALD_BIN]
#
# Both servers are pinned to SERVER_CPU and wrk to LOAD_CPU with taskset. After a warm-up, the
# servers are measured in alternating order for ROUNDS rounds of
#   wrk -t1 -c$CONNECTIONS -d${DURATION}s --latency http://127.0.0.1:PORT/hello
# and the median Requests/sec of each is compared (ratio = median herald / median nginx; the ratio of
# each round's back-to-back pair is printed too, as it is less sensitive to drifting machine load).
# Goal: herald/nginx >= 1.0.
#
# Environment: HERALD_BIN (default build/release/apps/herald/herald), DURATION (s, 10), ROUNDS (3),
# CONNECTIONS (100), WARMUP (s, 3), SERVER_CPU (0), LOAD_CPU (1), SERVERS ("herald nginx"; set
# SERVERS=nginx to measure the peer alone), RETRIES (2: a round in which another process took more
# than 5% of the server's or wrk's core is repeated, at most RETRIES times per invocation).
# Output: human-readable lines on stderr, one JSON line on stdout. Exit 0 when every run was clean
# (no socket errors, no non-2xx), whatever the ratio; 2 on setup errors; 5 when a run was not clean.
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"

HERALD=$(resolve_herald_bin "${1:-}")
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-100}
WARMUP=${WARMUP:-3}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
SERVERS=${SERVERS:-herald nginx}
RETRIES=${RETRIES:-2}
[[ $RETRIES =~ ^[0-9]+$ && $RETRIES -le 20 ]] || die "RETRIES must be 0..20"
[[ $DURATION =~ ^[0-9]+$ && $DURATION -ge 1 && $DURATION -le 600 ]] || die "DURATION must be 1..600 seconds"
[[ $ROUNDS =~ ^[0-9]+$ && $ROUNDS -ge 1 && $ROUNDS -le 20 ]] || die "ROUNDS must be 1..20"
[[ $WARMUP =~ ^[0-9]+$ ]] || die "WARMUP must be a number of seconds"

read -r -a servers <<<"$SERVERS"
want() { [[ " ${servers[*]} " == *" $1 "* ]]; }
want herald || want nginx || die "SERVERS must name herald and/or nginx"
if want herald; then
    [[ -x $HERALD ]] || die "no herald binary at $HERALD (build with: cmake --preset release && cmake --build --preset release; or SERVERS=nginx)"
fi
ensure_wrk
want nginx && ensure_nginx
command -v taskset >/dev/null || die "taskset (util-linux) is required"

WORK=$(mktemp -d /tmp/herald-bench-hello.XXXXXX)
NGINX_PID="" HERALD_PID=""
cleanup() {
    stop_pid "$HERALD_PID"
    stop_pid "$NGINX_PID"
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

declare -A PORT
if want nginx; then
    PORT[nginx]=$(free_port) || die "no free port"
    start_nginx "$WORK" "${PORT[nginx]}" "$SERVER_CPU"
    log "nginx  $("$NGINX_BIN" -v 2>&1 | sed 's/.*: //'): pid $NGINX_PID (worker $NGINX_WORKER_PID), 127.0.0.1:${PORT[nginx]}, CPU $SERVER_CPU"
fi
if want herald; then
    PORT[herald]=$(free_port) || die "no free port"
    [[ ${PORT[herald]} != "${PORT[nginx]:-}" ]] || PORT[herald]=$(free_port)
    start_herald "$HERALD" "$WORK" "${PORT[herald]}" "$SERVER_CPU"
    log "herald $HERALD: pid $HERALD_PID, 127.0.0.1:${PORT[herald]}, CPU $SERVER_CPU"
fi
log "wrk -t1 -c$CONNECTIONS -d${DURATION}s on CPU $LOAD_CPU; $ROUNDS rounds; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
log "per run: req/s, latency, server and wrk CPU use, and 'others': CPU taken by other processes on the"
log "server's / wrk's core (CONTENDED when either is over 5%, or when neither server nor wrk reached 85%"
log "of its core: that run's req/s is not trustworthy)"

# CPU time (clock ticks) used so far by process PID, all threads.
proc_ticks() {
    local st f
    st=$(<"/proc/$1/stat") || { echo 0; return; }
    read -r -a f <<<"${st##*) }"   # f[0] is field 3 (state): utime is field 14, stime field 15
    echo $((f[11] + f[12]))
}
# Busy ticks of CPU number N from /proc/stat: user + nice + system + steal. irq/softirq are left out,
# as loopback packet processing caused by the benchmark itself lands there.
cpu_busy_ticks() {
    awk -v c="cpu$1" '$1 == c { print $2 + $3 + $4 + $9; exit }' /proc/stat
}
TICKS=$(getconf CLK_TCK)
declare -A SPID
SPID[nginx]=${NGINX_WORKER_PID:-}
SPID[herald]=${HERALD_PID:-}

# run_wrk NAME SECONDS -> prints "rps p50_ms p99_ms errors non2xx req_per_cpu_s server_cpu% others_srv% wrk_cpu% others_load%"
#   errors: socket errors summed; req_per_cpu_s: requests per second of server CPU time;
#   server_cpu% / wrk_cpu%: own CPU time over the run's wall time;
#   others_srv% / others_load%: busy time of the server's / wrk's CPU not used by the server / wrk,
#   i.e. other processes competing for that core.
run_wrk() {
    local name=$1 secs=$2 out t0 t1 p0 p1 c0 c1 l0 l1
    t0=$(date +%s%N) p0=$(proc_ticks "${SPID[$name]}")
    c0=$(cpu_busy_ticks "$SERVER_CPU") l0=$(cpu_busy_ticks "$LOAD_CPU")
    # `times` in the subshell reports (2nd line) the CPU time of its children, i.e. wrk's.
    out=$(timeout $((secs + 30)) taskset -c "$LOAD_CPU" \
        wrk -t1 -c"$CONNECTIONS" -d"${secs}s" --latency "http://127.0.0.1:${PORT[$name]}/hello" 2>&1
        rc=$?; echo "@@times"; times; exit $rc) ||
        { log "$out"; die "wrk against $name failed"; }
    t1=$(date +%s%N) p1=$(proc_ticks "${SPID[$name]}")
    c1=$(cpu_busy_ticks "$SERVER_CPU") l1=$(cpu_busy_ticks "$LOAD_CPU")
    printf '%s\n' "$out" >>"$WORK/wrk-$name.txt"
    printf '%s\n' "$out" | awk -v wall_ns=$((t1 - t0)) -v srv=$((p1 - p0)) -v busy=$((c1 - c0)) \
        -v lbusy=$((l1 - l0)) -v hz="$TICKS" '
        function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
        function secs(v, p) { split(v, p, "m"); sub("s", "", p[2]); return p[1] * 60 + p[2] }
        /^Requests\/sec:/ { rps = $2 }
        / requests in / { reqs = $1 }
        /^ +50%/ { p50 = ms($2) }
        /^ +99%/ { p99 = ms($2) }
        /Socket errors:/ { gsub(",", ""); err = $4 + $6 + $8 + $10 }
        /Non-2xx or 3xx responses:/ { bad = $5 }
        /^@@times$/ { tl = NR }
        tl && NR == tl + 2 { wrk = (secs($1) + secs($2)) * hz }   # 2nd line of `times`: children
        END {
            wall = wall_ns / 1e9 * hz
            other = busy - srv; if (other < 0) other = 0
            lother = lbusy - wrk; if (lother < 0) lother = 0
            printf "%s %.3f %.3f %d %d %.0f %.1f %.1f %.1f %.1f\n", (rps == "" ? "0" : rps), p50, p99, err, bad,
                   (srv > 0 ? reqs * hz / srv : 0), 100 * srv / wall, 100 * other / wall,
                   100 * wrk / wall, 100 * lother / wall
        }'
}

for s in "${servers[@]}"; do
    if ((WARMUP > 0)); then
        log "warm-up $s (${WARMUP}s)"
        run_wrk "$s" "$WARMUP" >/dev/null
    fi
done

declare -A RPS LAST SCPU OCPU RPC CONTENDED
ROUND_RATIOS=()
clean=1
retries_left=$RETRIES
r=1
while ((r <= ROUNDS)); do
    order=("${servers[@]}")
    if ((r % 2 == 0)) && ((${#servers[@]} == 2)); then order=("${servers[1]}" "${servers[0]}"); fi
    declare -A R_RPS=() R_SCPU=() R_OCPU=() R_RPC=() R_CONT=()
    round_contended=0
    for s in "${order[@]}"; do
        read -r rps p50 p99 err bad rpc scpu ocpu wcpu lcpu < <(run_wrk "$s" "$DURATION")
        R_RPS[$s]=$rps R_SCPU[$s]=$scpu R_OCPU[$s]=$ocpu R_RPC[$s]=$rpc R_CONT[$s]=0
        note=""
        if ((err > 0 || bad > 0)); then note="  (NOT CLEAN: $err socket errors, $bad non-2xx)"; clean=0; fi
        # Contended: other processes took > 5% of either core, or neither the server nor wrk got
        # 85% of its core (something outside this VM's accounting, e.g. the host, stalled both).
        if awk -v o="$ocpu" -v l="$lcpu" 'BEGIN { exit !(o > 5 || l > 5) }'; then
            note+="  CONTENDED"
            R_CONT[$s]=1
            round_contended=1
        elif awk -v sc="$scpu" -v wc="$wcpu" 'BEGIN { exit !(sc < 85 && wc < 85) }'; then
            note+="  CONTENDED (stalled: neither server nor wrk saturated)"
            R_CONT[$s]=1
            round_contended=1
        fi
        log "$(printf 'round %d  %-6s %10.0f req/s  p50 %6.3f ms  p99 %7.3f ms  server %5.1f%% CPU (%6s req/CPU-s)  wrk %5.1f%%  others %4.1f%% / %4.1f%%%s' \
            "$r" "$s" "$rps" "$p50" "$p99" "$scpu" "$rpc" "$wcpu" "$ocpu" "$lcpu" "$note")"
    done
    if ((round_contended && retries_left > 0)); then
        retries_left=$((retries_left - 1))
        log "round $r was contended: repeating it ($retries_left repeats left)"
        continue
    fi
    for s in "${order[@]}"; do
        RPS[$s]+="${R_RPS[$s]} " SCPU[$s]+="${R_SCPU[$s]} " OCPU[$s]+="${R_OCPU[$s]} " RPC[$s]+="${R_RPC[$s]} "
        CONTENDED[$s]=$((${CONTENDED[$s]:-0} + R_CONT[$s]))
        LAST[$s]=${R_RPS[$s]}
    done
    if want herald && want nginx; then
        rr=$(awk -v h="${LAST[herald]}" -v n="${LAST[nginx]}" 'BEGIN { printf "%.3f", (n > 0 ? h / n : 0) }')
        ROUND_RATIOS+=("$rr")
        log "round $r  herald/nginx $rr"
    fi
    r=$((r + 1))
done

json="{\"benchmark\":\"http_hello\",\"connections\":$CONNECTIONS,\"duration_s\":$DURATION,\"rounds\":$ROUNDS"
json+=",\"server_cpu\":$SERVER_CPU,\"load_cpu\":$LOAD_CPU,\"repeated_rounds\":$((RETRIES - retries_left))"
declare -A MED RPC_MED
for s in herald nginx; do
    if want "$s"; then
        # shellcheck disable=SC2086
        MED[$s]=$(median ${RPS[$s]})
        # shellcheck disable=SC2086
        runs=$(printf '%s,' ${RPS[$s]})
        # shellcheck disable=SC2086
        scpus=$(printf '%s,' ${SCPU[$s]})
        # shellcheck disable=SC2086
        ocpus=$(printf '%s,' ${OCPU[$s]})
        json+=",\"${s}_rps\":[${runs%,}],\"${s}_median_rps\":${MED[$s]}"
        json+=",\"${s}_server_cpu_pct\":[${scpus%,}],\"${s}_other_cpu_pct\":[${ocpus%,}]"
        # shellcheck disable=SC2086
        RPC_MED[$s]=$(median ${RPC[$s]})
        # shellcheck disable=SC2086
        rpcs=$(printf '%s,' ${RPC[$s]})
        json+=",\"${s}_req_per_cpu_s\":[${rpcs%,}],\"${s}_median_req_per_cpu_s\":${RPC_MED[$s]}"
        json+=",\"${s}_contended_runs\":${CONTENDED[$s]:-0}"
        log "$(printf 'median %-6s %12.0f req per server CPU-second' "$s" "${RPC_MED[$s]}")"
        log "$(printf 'median %-6s %12.2f req/s' "$s" "${MED[$s]}")"
    else
        json+=",\"${s}_rps\":null,\"${s}_median_rps\":null,\"${s}_server_cpu_pct\":null,\"${s}_other_cpu_pct\":null"
        json+=",\"${s}_req_per_cpu_s\":null,\"${s}_median_req_per_cpu_s\":null,\"${s}_contended_runs\":null"
    fi
done
ratio=null pass=null
if want herald && want nginx; then
    ratio=$(awk -v h="${MED[herald]}" -v n="${MED[nginx]}" 'BEGIN { printf "%.3f", (n > 0 ? h / n : 0) }')
    pass=$(awk -v r="$ratio" 'BEGIN { print (r >= 1.0 ? "true" : "false") }')
    log "ratio herald/nginx: $ratio (goal >= 1.0: $([[ $pass == true ]] && echo met || echo NOT met)); per round: ${ROUND_RATIOS[*]}"
fi
cpu_ratio=null
if want herald && want nginx; then
    cpu_ratio=$(awk -v h="${RPC_MED[herald]}" -v n="${RPC_MED[nginx]}" 'BEGIN { printf "%.3f", (n > 0 ? h / n : 0) }')
    log "efficiency ratio herald/nginx (requests per server CPU-second): $cpu_ratio"
fi
contended_total=$((${CONTENDED[herald]:-0} + ${CONTENDED[nginx]:-0}))
trustworthy=true
if ((contended_total > 0)); then
    trustworthy=false
    log "WARNING: $contended_total of the kept runs were contended: the req/s figures and the ratio are not"
    log "trustworthy; rerun on a quiet machine (the req/CPU-s efficiency ratio is less affected)"
fi
rounds_json=null
if ((${#ROUND_RATIOS[@]} > 0)); then rounds_json="[$(IFS=,; printf '%s' "${ROUND_RATIOS[*]}")]"; fi
json+=",\"round_ratios\":$rounds_json,\"ratio\":$ratio,\"cpu_efficiency_ratio\":$cpu_ratio,\"goal\":1.0,\"pass\":$pass,\"trustworthy\":$trustworthy,\"clean\":$([[ $clean == 1 ]] && echo true || echo false)"
json+=",\"loadavg\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}"
printf '%s\n' "$json"
((clean)) || exit 5
