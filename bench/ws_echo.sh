#!/usr/bin/env bash
# WebSocket echo throughput: herald (--threads 1) next to a raw TCP echo server (the ceiling of this
# machine and load generator) and three WebSocket peers — Boost.Beast, websocketpp, node ws — in the
# same run.
#
#   bench/ws_echo.sh [HERALD_BIN]
#
# Every server runs one thread pinned to SERVER_CPU, the load generator (bench/load/ws_load, one
# thread) to LOAD_CPU, with taskset. For each workload "connections:size:inflight" each server is
# first checked with a short run that verifies every echoed byte (also the warm-up), then measured
# ROUNDS times for DURATION seconds (after WARMUP seconds of load on the fresh connections): herald
# and tcp back to back (alternating which is first), then the peers in a different order each round.
# Messages/s medians are compared:
#   herald/tcp   goal >= 0.95 for messages under 1 KiB, >= 0.9 otherwise (or the workload's 4th field)
#   herald/peer  goal > 1.0 for every peer
#
# Environment: HERALD_BIN (default build/release/apps/herald/herald), BENCH_BIN_DIR (where the CMake
# build put load/ws_load and peers/*; default build/release/bench, then build/debug/bench),
# DURATION (s, 10), ROUNDS (3), WARMUP (s per run, 1), SERVER_CPU (0), LOAD_CPU (1),
# SERVERS ("tcp herald beast websocketpp node"), WORKLOADS ("100:32:16 10:65536:4 10:1048576:1"),
# VERIFY (1: the checking run per server and workload; 0 skips it), RETRIES (2: a round in which
# another process took more than 5% of the server's or the load's core is run again, at most
# RETRIES times per workload; `repeated_rounds` in the JSON), TCP_RMEM_DEFAULT (bytes, 4194304: the
# kernel's initial TCP receive buffer, net.ipv4.tcp_rmem's middle value, for the run and restored at
# exit, see below; "keep" leaves the machine's; needs root, else the machine's is kept with a warning;
# `tcp_rmem` in the JSON).
# Output: human-readable lines and the table on stderr, one JSON line on stdout. Exit 0 when every
# run was clean (no errors reported by ws_load, no server died), whatever the ratios; 2 on setup
# errors; 5 when a run was not clean.
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"

HERALD=$(resolve_herald_bin "${1:-}")
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-1}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
SERVERS=${SERVERS:-tcp herald beast websocketpp node}
WORKLOADS=${WORKLOADS:-100:32:16 10:65536:4 10:1048576:1}
VERIFY=${VERIFY:-1}
RETRIES=${RETRIES:-2}
TCP_RMEM_DEFAULT=${TCP_RMEM_DEFAULT:-4194304}
[[ $TCP_RMEM_DEFAULT == keep || ($TCP_RMEM_DEFAULT =~ ^[0-9]+$ && $TCP_RMEM_DEFAULT -ge 4096 && $TCP_RMEM_DEFAULT -le 1073741824) ]] ||
    die "TCP_RMEM_DEFAULT must be keep or 4096..1073741824 bytes"
[[ $RETRIES =~ ^[0-9]+$ && $RETRIES -le 20 ]] || die "RETRIES must be 0..20"
[[ $DURATION =~ ^[0-9]+$ && $DURATION -ge 1 && $DURATION -le 600 ]] || die "DURATION must be 1..600 seconds"
[[ $ROUNDS =~ ^[0-9]+$ && $ROUNDS -ge 1 && $ROUNDS -le 20 ]] || die "ROUNDS must be 1..20"
[[ $WARMUP =~ ^[0-9]+$ && $WARMUP -le 60 ]] || die "WARMUP must be 0..60 seconds"

read -r -a servers <<<"$SERVERS"
((${#servers[@]} > 0)) || die "SERVERS is empty"
want() { [[ " ${servers[*]} " == *" $1 "* ]]; }
read -r -a workloads <<<"$WORKLOADS"
for w in "${workloads[@]}"; do
    [[ $w =~ ^[0-9]+:[0-9]+:[0-9]+(:[0-9.]+)?$ ]] || die "bad workload '$w' (connections:size:inflight[:goal])"
done

# ---- tools and peers ----
build_hint="cmake --preset release && cmake --build --preset release --target herald_cli ws_load tcp_echo beast_echo websocketpp_echo"
for s in "${servers[@]}"; do
    case $s in
    tcp | herald | beast | websocketpp | node) ;;
    *) die "unknown server '$s' (tcp herald beast websocketpp node)" ;;
    esac
done
want beast && ensure_boost
want websocketpp && ensure_boost && ensure_websocketpp
want node && ensure_node_ws
command -v taskset >/dev/null || die "taskset (util-linux) is required"
WS_LOAD=$(bench_bin ws_load load) || die "no ws_load binary (build with: $build_hint)"
declare -A BIN
want herald && { [[ -x $HERALD ]] || die "no herald binary at $HERALD (build with: $build_hint; or leave herald out of SERVERS)"; }
for s in tcp beast websocketpp; do
    if want "$s"; then
        BIN[$s]=$(bench_bin "${s}_echo" peers) ||
            die "no ${s}_echo binary (build with: $build_hint; CMake builds the Beast and websocketpp peers only when libboost-dev / libwebsocketpp-dev were installed before configuring)"
    fi
done

WORK=$(mktemp -d /tmp/herald-bench-ws.XXXXXX)
declare -A PID PORT DEAD
RMEM_FILE=/proc/sys/net/ipv4/tcp_rmem
RMEM_RESTORE=
cleanup() {
    local s
    for s in "${!PID[@]}"; do stop_pid "${PID[$s]}"; done
    [[ -z $RMEM_RESTORE ]] || echo "$RMEM_RESTORE" >"$RMEM_FILE" || log "warning: could not restore tcp_rmem to '$RMEM_RESTORE'"
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- kernel: the initial TCP receive buffer, set before the servers' listening sockets exist ----
# Under BBR, 64 KiB bursts meeting the default 128 KiB initial window can end a connection's start-up
# and leave it paced for the whole run (bench/README, "How to read it"); a larger initial buffer, for
# every server and the load alike, avoids that, and autotuning still sizes the buffers after it.
read_tcp_rmem() { tr -s '\t ' '  ' <"$RMEM_FILE" 2>/dev/null; }
RMEM_BEFORE=$(read_tcp_rmem || true)
if [[ $TCP_RMEM_DEFAULT != keep && $RMEM_BEFORE =~ ^([0-9]+)\ ([0-9]+)\ ([0-9]+)$ ]]; then
    rmem_max=${BASH_REMATCH[3]}
    ((rmem_max >= TCP_RMEM_DEFAULT)) || rmem_max=$TCP_RMEM_DEFAULT
    if [[ ${BASH_REMATCH[2]} != "$TCP_RMEM_DEFAULT" ]]; then
        if echo "${BASH_REMATCH[1]} $TCP_RMEM_DEFAULT $rmem_max" 2>/dev/null >"$RMEM_FILE"; then
            RMEM_RESTORE=$RMEM_BEFORE
        else
            log "warning: cannot set net.ipv4.tcp_rmem (root needed); the machine's '$RMEM_BEFORE' stays (TCP_RMEM_DEFAULT=keep silences this)"
        fi
    fi
fi
TCP_RMEM=$(read_tcp_rmem || echo unknown)

# ---- servers: all started once, all pinned to SERVER_CPU (idle ones use no CPU) ----
for s in "${servers[@]}"; do
    PORT[$s]=$(free_port) || die "no free port"
    for o in "${!PORT[@]}"; do [[ $o == "$s" || ${PORT[$o]} != "${PORT[$s]}" ]] || PORT[$s]=$(free_port); done
    case $s in
    herald) cmd=("$HERALD" serve --host 127.0.0.1 --port "${PORT[$s]}" --threads 1 --log-level warn --no-access-log) ;;
    node) cmd=(node "$WS_NODE_PEER" --port "${PORT[$s]}") ;;
    *) cmd=("${BIN[$s]}" --port "${PORT[$s]}") ;;
    esac
    start_pinned "$s" "$WORK" "${PORT[$s]}" "$SERVER_CPU" "${cmd[@]}"
    PID[$s]=$STARTED_PID
    case $s in
    herald) what="$HERALD" ;;
    node) what="node $(node --version) ws $(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$BENCH_DIR/peers/node_modules/ws/package.json" | head -n1)" ;;
    *) what=${BIN[$s]} ;;
    esac
    log "$(printf '%-12s pid %-7s 127.0.0.1:%-5s CPU %s  %s' "$s" "${PID[$s]}" "${PORT[$s]}" "$SERVER_CPU" "$what")"
done
log "load: $WS_LOAD on CPU $LOAD_CPU; workloads (connections:size:inflight) $WORKLOADS; $ROUNDS rounds of ${DURATION}s (+${WARMUP}s warm-up each); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
# The congestion control shapes large-message runs with tcp_rmem (above): BBR without the fq qdisc
# paces each socket with timers of its own.
CONGESTION=$(cat /proc/sys/net/ipv4/tcp_congestion_control 2>/dev/null || echo unknown)
log "TCP congestion control: $CONGESTION (qdisc on lo: $(tc qdisc show dev lo 2>/dev/null | awk '{print $2; exit}')); tcp_rmem: $TCP_RMEM${RMEM_RESTORE:+ (for this run; was $RMEM_RESTORE)}"
log "per run: messages/s, server CPU use and messages per server CPU-second, ws_load CPU use, and 'others': CPU"
log "taken by other processes on the server's / load's core (CONTENDED when either is over 5%)"

TICKS=$(getconf CLK_TCK)
clean=1

# run_load SERVER CONNS SIZE INFLIGHT SECONDS WARMUP [--verify] -> prints
#   "mps errors rc server_cpu% msgs_per_cpu_s others_srv% load_cpu% others_load%"
#   server_cpu% / load_cpu%: own CPU time over the run's wall time (set-up and warm-up included);
#   msgs_per_cpu_s: messages/s divided by the server's CPU share; others_*: busy time of the server's
#   / ws_load's CPU not used by it, i.e. other processes competing for that core.
run_load() {
    local s=$1 c=$2 size=$3 k=$4 secs=$5 warm=$6 extra=${7:-} mode=ws out rc=0 t0 t1 p0 p1 c0 c1 l0 l1
    [[ $s == tcp ]] && mode=tcp
    t0=$(date +%s%N) p0=$(proc_ticks "${PID[$s]}")
    c0=$(cpu_busy_ticks "$SERVER_CPU") l0=$(cpu_busy_ticks "$LOAD_CPU")
    # `times` in the subshell reports (2nd line) the CPU time of its children, i.e. ws_load's.
    out=$(timeout $((secs + warm + 60)) taskset -c "$LOAD_CPU" "$WS_LOAD" --mode "$mode" --port "${PORT[$s]}" \
        --connections "$c" --size "$size" --inflight "$k" --duration "$secs" --warmup "$warm" ${extra:+"$extra"} \
        2>>"$WORK/ws_load-$s.err"
        rc=$?; echo "@@times"; times; exit $rc) || rc=$?
    t1=$(date +%s%N) p1=$(proc_ticks "${PID[$s]}")
    c1=$(cpu_busy_ticks "$SERVER_CPU") l1=$(cpu_busy_ticks "$LOAD_CPU")
    printf '%s\n' "$out" | grep '^{' >>"$WORK/ws_load-$s.json" || true
    printf '%s\n' "$out" | awk -v rc="$rc" -v wall_ns=$((t1 - t0)) -v srv=$((p1 - p0)) -v busy=$((c1 - c0)) \
        -v lbusy=$((l1 - l0)) -v hz="$TICKS" '
        function num(line, key,   m) { if (match(line, "\"" key "\":[^,}]*")) return substr(line, RSTART + length(key) + 3, RLENGTH - length(key) - 3); return "" }
        function secs(v, p) { split(v, p, "m"); sub("s", "", p[2]); return p[1] * 60 + p[2] }
        /^\{/ { mps = num($0, "messages_per_sec"); err = num($0, "errors") }
        /^@@times$/ { tl = NR }
        tl && NR == tl + 2 { load = (secs($1) + secs($2)) * hz }   # 2nd line of `times`: children
        END {
            if (mps == "") mps = 0
            if (err == "") err = 1
            wall = wall_ns / 1e9 * hz
            other = busy - srv; if (other < 0) other = 0
            lother = lbusy - load; if (lother < 0) lother = 0
            cpu_s = srv / hz
            printf "%s %d %d %.1f %.0f %.1f %.1f %.1f\n", mps, err, rc, 100 * srv / wall,
                   (cpu_s > 0 ? mps * (wall / hz) / cpu_s : 0), 100 * other / wall, 100 * load / wall, 100 * lother / wall
        }'
}

fmt_size() {
    local b=$1
    if ((b >= 1048576 && b % 1048576 == 0)); then echo "$((b / 1048576)) MiB"
    elif ((b >= 1024 && b % 1024 == 0)); then echo "$((b / 1024)) KiB"
    else echo "$b B"; fi
}

declare -A MPS RPC CONT   # key "workload_index,server": space-separated per-round values
declare -A RR             # key "workload_index,peer": per-round herald/peer ratios
REPEATED=0
wi=0
for w in "${workloads[@]}"; do
    IFS=: read -r wc wsize wk wgoal <<<"$w"
    label="$wc conns × $(fmt_size "$wsize") × $wk in flight"
    log "=== workload $((wi + 1)): $label"
    if [[ $VERIFY == 1 ]]; then
        for s in "${servers[@]}"; do
            [[ -z ${DEAD[$s]:-} ]] || continue
            read -r mps err rc scpu rpc ocpu lcpu locpu < <(run_load "$s" "$wc" "$wsize" "$wk" 1 0 --verify)
            if ((err > 0 || rc != 0)); then
                log "check $s: NOT CLEAN (ws_load exit $rc, $err errors): $(tail -n 2 "$WORK/ws_load-$s.err" | tr '\n' ' ')"
                clean=0
            else
                log "$(printf 'check %-12s every echoed byte verified: %.0f msg/s' "$s" "$mps")"
            fi
            if ! kill -0 "${PID[$s]}" 2>/dev/null; then
                log "$s died; its log:"; tail -n 20 "$WORK/$s.log" >&2 || true
                DEAD[$s]=1; clean=0
            fi
        done
    fi
    retries_left=$RETRIES
    r=1
    while ((r <= ROUNDS)); do
        # herald and the raw TCP echo run back to back, which of them first alternating by round: this VM
        # drifts by 10-20% within a minute, and a round's herald/tcp ratio should compare one machine
        # state. The peers follow, a different one first each round (the list rotated by r-1).
        order=()
        if want tcp && want herald; then
            if ((r % 2)); then order=(tcp herald); else order=(herald tcp); fi
        fi
        others=()
        for s in "${servers[@]}"; do [[ " ${order[*]} " == *" $s "* ]] || others+=("$s"); done
        n=${#others[@]}
        for ((i = 0; i < n; i++)); do order+=("${others[$(((i + r - 1) % n))]}"); done
        declare -A R_MPS=() R_RPC=() R_CONT=()
        round_contended=0
        for s in "${order[@]}"; do
            if [[ -n ${DEAD[$s]:-} ]]; then continue; fi
            read -r mps err rc scpu rpc ocpu lcpu locpu < <(run_load "$s" "$wc" "$wsize" "$wk" "$DURATION" "$WARMUP")
            note=""
            if ((err > 0 || rc != 0)); then
                note="  NOT CLEAN (ws_load exit $rc, $err errors: $(tail -n 1 "$WORK/ws_load-$s.err"))"
                clean=0
            fi
            cont=0
            if awk -v o="$ocpu" -v l="$locpu" 'BEGIN { exit !(o > 5 || l > 5) }'; then note+="  CONTENDED"; cont=1; fi
            if ! kill -0 "${PID[$s]}" 2>/dev/null; then
                note+="  SERVER DIED"; DEAD[$s]=1; clean=0
                tail -n 20 "$WORK/$s.log" >&2 || true
            fi
            R_MPS[$s]=$mps R_RPC[$s]=$rpc R_CONT[$s]=$cont
            ((cont == 0)) || round_contended=1
            log "$(printf 'round %d  %-12s %10.0f msg/s  server %5.1f%% CPU (%8.0f msg/CPU-s)  load %5.1f%%  others %4.1f%% / %4.1f%%%s' \
                "$r" "$s" "$mps" "$scpu" "$rpc" "$lcpu" "$ocpu" "$locpu" "$note")"
        done
        if ((round_contended && retries_left > 0)); then
            retries_left=$((retries_left - 1)) REPEATED=$((REPEATED + 1))
            log "round $r was contended: repeating it ($retries_left repeats left for this workload)"
            unset R_MPS R_RPC R_CONT
            continue
        fi
        for s in "${!R_MPS[@]}"; do
            MPS["$wi,$s"]+="${R_MPS[$s]} " RPC["$wi,$s"]+="${R_RPC[$s]} "
            CONT["$wi,$s"]=$((${CONT["$wi,$s"]:-0} + R_CONT[$s]))
        done
        if want herald && [[ -n ${R_MPS[herald]:-} ]]; then
            line="round $r "
            for s in "${servers[@]}"; do
                [[ $s != herald && -n ${R_MPS[$s]:-} ]] || continue
                rr=$(awk -v h="${R_MPS[herald]}" -v p="${R_MPS[$s]}" 'BEGIN { printf "%.3f", (p > 0 ? h / p : 0) }')
                RR["$wi,$s"]+="$rr "
                line+=" herald/$s $rr"
            done
            log "$line"
        fi
        unset R_MPS R_RPC R_CONT
        r=$((r + 1))
    done
    wi=$((wi + 1))
done

# ---- summary ----
ratio() { awk -v h="$1" -v p="$2" 'BEGIN { if (h == "null" || p == "null" || p <= 0) print "null"; else printf "%.3f\n", h / p }'; }
json="{\"benchmark\":\"ws_echo\",\"duration_s\":$DURATION,\"rounds\":$ROUNDS,\"warmup_s\":$WARMUP"
json+=",\"server_cpu\":$SERVER_CPU,\"load_cpu\":$LOAD_CPU,\"repeated_rounds\":$REPEATED,\"servers\":[$(printf '"%s",' "${servers[@]}" | sed 's/,$//')]"
json+=",\"workloads\":["
pass_all=true
header=$(printf '%-34s' "workload")
for s in "${servers[@]}"; do header+=$(printf ' %12s' "$s"); done
want herald && for s in "${servers[@]}"; do [[ $s == herald ]] || header+=$(printf ' %19s' "herald/$s"); done
table=("$header")
etable=("$(printf '%-34s' "msgs per server CPU-second")")
wi=0
for w in "${workloads[@]}"; do
    IFS=: read -r wc wsize wk wgoal <<<"$w"
    if [[ -z $wgoal ]]; then
        if ((wsize < 1024)); then wgoal=0.95; else wgoal=0.9; fi
    fi
    declare -A MED=() EMED=()
    row=$(printf '%-34s' "$wc x $(fmt_size "$wsize") x $wk")
    erow=$(printf '%-34s' "$wc x $(fmt_size "$wsize") x $wk")
    wj="{\"connections\":$wc,\"size\":$wsize,\"inflight\":$wk,\"goal_tcp_ratio\":$wgoal"
    mj="" medj="" ej="" cj=""
    for s in "${servers[@]}"; do
        vals=${MPS["$wi,$s"]:-}
        if [[ -n $vals ]]; then
            # shellcheck disable=SC2086
            MED[$s]=$(median $vals)
            # shellcheck disable=SC2086
            EMED[$s]=$(median ${RPC["$wi,$s"]})
            # shellcheck disable=SC2086
            mj+="\"$s\":[$(printf '%s,' $vals | sed 's/,$//')],"
        else
            MED[$s]=null EMED[$s]=null
            mj+="\"$s\":null,"
        fi
        medj+="\"$s\":${MED[$s]},"
        ej+="\"$s\":${EMED[$s]},"
        cj+="\"$s\":${CONT["$wi,$s"]:-0},"
        row+=$(printf ' %12s' "$(awk -v v="${MED[$s]}" 'BEGIN { if (v == "null") print "-"; else printf "%.0f", v }')")
        erow+=$(printf ' %12s' "$(awk -v v="${EMED[$s]}" 'BEGIN { if (v == "null") print "-"; else printf "%.0f", v }')")
    done
    wj+=",\"messages_per_sec\":{${mj%,}},\"median_messages_per_sec\":{${medj%,}}"
    wj+=",\"median_messages_per_server_cpu_s\":{${ej%,}},\"contended_runs\":{${cj%,}}"
    if want herald; then
        rj="" rrj="" pass_peers=null tcp_ratio=null pass_tcp=null
        for s in "${servers[@]}"; do
            [[ $s == herald ]] && continue
            rt=$(ratio "${MED[herald]}" "${MED[$s]}")
            row+=$(printf ' %19s' "$rt")
            rj+="\"$s\":$rt,"
            # shellcheck disable=SC2086
            rrj+="\"$s\":[$(printf '%s,' ${RR["$wi,$s"]:-} | sed 's/,$//')],"
            if [[ $s == tcp ]]; then
                tcp_ratio=$rt
                pass_tcp=$(awk -v r="$rt" -v g="$wgoal" 'BEGIN { print (r != "null" && r >= g ? "true" : "false") }')
            elif awk -v r="$rt" 'BEGIN { exit !(r != "null" && r > 1.0) }'; then
                [[ $pass_peers == false ]] || pass_peers=true
            else
                pass_peers=false
            fi
        done
        [[ $pass_tcp != false && $pass_peers != false ]] || pass_all=false
        wj+=",\"herald_ratios\":{${rj%,}},\"round_herald_ratios\":{${rrj%,}}"
        wj+=",\"herald_tcp_ratio\":$tcp_ratio,\"pass_tcp\":$pass_tcp,\"pass_peers\":$pass_peers"
        ehr=$(ratio "${EMED[herald]}" "${EMED[tcp]:-null}")
        wj+=",\"herald_tcp_cpu_efficiency_ratio\":$ehr"
        note="herald/tcp $tcp_ratio (goal >= $wgoal: $([[ $pass_tcp == true ]] && echo met || echo NOT met))"
        case $pass_peers in
        true) note+=", ahead of every peer: yes" ;;
        false) note+=", ahead of every peer: NO" ;;
        esac
        row+="   $note"
    fi
    table+=("$row")
    etable+=("$erow")
    json+="$wj},"
    unset MED EMED
    wi=$((wi + 1))
done
json="${json%,}]"
log ""
log "median messages/s (server on CPU $SERVER_CPU, ws_load on CPU $LOAD_CPU; ${ROUNDS} × ${DURATION}s):"
for line in "${table[@]}"; do log "$line"; done
log ""
for line in "${etable[@]}"; do log "$line"; done
want herald || pass_all=null
contended=0
for k in "${!CONT[@]}"; do contended=$((contended + CONT[$k])); done
if ((contended > 0)); then
    log "$contended kept runs were CONTENDED (other processes on the server's or the load's core): the"
    log "messages/s and their ratios are not trustworthy; the msgs per server CPU-second table is less affected"
fi
json+=",\"pass\":$pass_all,\"trustworthy\":$([[ $contended == 0 ]] && echo true || echo false)"
json+=",\"clean\":$([[ $clean == 1 ]] && echo true || echo false)"
json+=",\"tcp_congestion_control\":\"$CONGESTION\",\"tcp_rmem\":\"$TCP_RMEM\",\"loadavg\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}"
printf '%s\n' "$json"
((clean)) || exit 5
