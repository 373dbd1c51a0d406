#!/usr/bin/env bash
# Benchmark: our tracker against opentracker (Debian package) on loopback.
#
#   bench/tracker.sh [--duration S] [--runs N] [--connections C] [--threads T]
#                    [--peers P] [--load-steps "K1 K2 ..."] [--load-seconds S]
#                    [--timer-scale F] [--port-base PORT] [--load-nice N]
#
# Scenarios:
#   http   wrk announcing (bench/announce.lua: P simulated peers over 4 info-hashes, compact,
#          numwant=50) to our tracker's HTTP endpoint and to opentracker, alternating within
#          each round, in two modes: keep-alive (wrk's default) and `Connection: close` (a new
#          TCP connection per request). Prints medians of req/s and latency, ours/ref, errors.
#   load   examples/tracker_load: K peers speaking our line protocol at the peers' timers (ping
#          10 s, report 20 s, list 30 s; tracker clean-up 15 s), for about two clean-up periods,
#          for each K of --load-steps; reports whether every request was answered and the
#          tracker still lists all K peers. --timer-scale 0.1 divides every timer by 10.
#          The generator stands in for K machines of their own; here it shares the tracker's
#          cores, so it runs at `nice -n N` (--load-nice, default 19; 0 to compete as an equal):
#          otherwise its 64 threads take the CPU the tracker needs to answer them, and the
#          latency measured is the generator's contention as much as the tracker's.
#
# Defaults: 10 s (after a 1 s warm-up on a fresh tracker process and port), 3 runs, 50
# connections, 2 wrk threads, 4000 peers, load steps 1000 2000 5000 10000 for 35 s each (about
# 5 minutes in all). Ports from 18400 on 127.0.0.1 only; every
# process is killed on exit. BTSIM_BIN=path uses that binary and skips `cargo build`
# (BTSIM_LOAD_BIN likewise for the load generator; the load scenario is skipped if it is
# missing then). Both trackers log at warn (ours logs every request at info otherwise).
set -euo pipefail

DURATION=10
RUNS=3
CONNECTIONS=50
THREADS=2
PEERS=4000
LOAD_STEPS="1000 2000 5000 10000"
LOAD_SECONDS=35
TIMER_SCALE=1
PORT_BASE=18400
LOAD_NICE=19
usage() {
    sed -n '4,6p' "$0" | sed 's/^#//' >&2
    exit 2
}
while [[ $# -gt 0 ]]; do
    [[ $# -ge 2 ]] || usage
    case "$1" in
        --duration) DURATION=$2 ;;
        --runs) RUNS=$2 ;;
        --connections) CONNECTIONS=$2 ;;
        --threads) THREADS=$2 ;;
        --peers) PEERS=$2 ;;
        --load-steps) LOAD_STEPS=$2 ;;
        --load-seconds) LOAD_SECONDS=$2 ;;
        --timer-scale) TIMER_SCALE=$2 ;;
        --port-base) PORT_BASE=$2 ;;
        --load-nice) LOAD_NICE=$2 ;;
        *) usage ;;
    esac
    shift 2
done
for n in "$DURATION" "$RUNS" "$CONNECTIONS" "$THREADS" "$PEERS" "$LOAD_SECONDS" "$PORT_BASE"; do
    [[ $n =~ ^[0-9]+$ && $n -gt 0 ]] || usage
done
[[ $TIMER_SCALE =~ ^[0-9]*\.?[0-9]+$ ]] || usage
[[ $LOAD_NICE =~ ^[0-9]+$ && $LOAD_NICE -le 19 ]] || usage
for k in $LOAD_STEPS; do [[ $k =~ ^[0-9]+$ && $k -gt 0 ]] || usage; done
[[ $CONNECTIONS -ge $THREADS ]] || THREADS=$CONNECTIONS

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
WORK=$WORK/tracker
LOGS=$WORK/logs

# The next port from PORT_BASE on that nothing listens on.
NEXT_PORT=$PORT_BASE
free_port() {
    while ss -ltnH "sport = :$NEXT_PORT" | grep -q .; do
        NEXT_PORT=$((NEXT_PORT + 1))
    done
    PORT=$NEXT_PORT
    NEXT_PORT=$((NEXT_PORT + 1))
}

# One announce over HTTP/1.0 with bash's /dev/tcp; prints the reply.
announce_once() {
    local port=$1 hash=$2 escaped
    # shellcheck disable=SC2001 # every pair of hex digits gets a `%`
    escaped=$(sed 's/../%&/g' <<<"$hash")
    # shellcheck disable=SC2016 # expanded by the inner bash, from its environment
    REQ="GET /announce?info_hash=$escaped&peer_id=-BS0001-probe0000000&port=9999&uploaded=0&downloaded=0&left=0&compact=1 HTTP/1.0" \
        PORT=$port timeout 5 bash -c \
        'exec 3<>"/dev/tcp/127.0.0.1/$PORT" && printf "%s\r\n\r\n" "$REQ" >&3 && cat <&3' 2>/dev/null || true
}

# Waits until the tracker on PORT answers an announce for HASH without a failure reason.
wait_for_announce() {
    local port=$1 hash=$2 i reply
    for ((i = 0; i < 100; i++)); do
        reply=$(announce_once "$port" "$hash" | tr -d '\0')
        if [[ $reply == *"200 OK"* && $reply == *"5:peers"* && $reply != *"failure reason"* ]]; then
            return 0
        fi
        sleep 0.1
    done
    die "the tracker on port $port does not answer announces for $hash: ${reply:0:200}"
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# --- binaries ----------------------------------------------------------------------------------
command -v wrk >/dev/null || die "wrk is missing (apt-get install wrk)"
command -v opentracker >/dev/null || die "opentracker is missing (apt-get install opentracker)"
build
if [[ -n ${BTSIM_BIN:-} ]]; then
    LOAD_BIN=${BTSIM_LOAD_BIN:-}
else
    (cd "$ROOT" && cargo build --release --example tracker_load)
    LOAD_BIN=$ROOT/target/release/examples/tracker_load
fi
[[ -x $BIN ]] || die "$BIN is not an executable"

# Many short connections: descriptors for wrk's and the trackers' sockets.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

rm -rf "$WORK"
mkdir -p "$LOGS"
# Other work on the machine skews everything: shown with the results.
LOADAVG_START=$(cut -d' ' -f1-3 /proc/loadavg)

# Four info-hashes, fixed: both trackers must accept them (opentracker: its whitelist).
HASHES=()
for i in 0 1 2 3; do
    HASHES+=("$(printf 'btsim-bench-%d' "$i" | sha1sum | cut -c1-40)")
done

# --- starting the trackers ----------------------------------------------------------------------
# Every measurement gets a fresh tracker process on a fresh port (then a 1 s warm-up): with
# `Connection: close` each run leaves tens of thousands of sockets in TIME_WAIT on the server's
# port, which would otherwise weigh on whichever tracker runs next.
#
# Debian builds opentracker with a whitelist (WANT_ACCESSLIST_WHITE): only listed info-hashes
# are served. As root it chroots into -d and drops to `nobody`: the directory must be readable.
OT_DIR=$WORK/opentracker
mkdir -p "$OT_DIR"
printf '%s\n' "${HASHES[@]}" >"$OT_DIR/whitelist.txt"
chmod 755 "$WORK" "$OT_DIR"
chmod 644 "$OT_DIR/whitelist.txt"

# start_tracker NAME: starts ours or opentracker on a free port; sets T_PORT and T_PID once it
# answers announces for the first info-hash.
start_tracker() {
    local name=$1 log=$LOGS/$1.log
    free_port
    T_PORT=$PORT
    if [[ $name == ours ]]; then
        RUST_LOG=warn "$BIN" tracker --bind 127.0.0.1 --port "$T_PORT" >>"$log" 2>&1 &
    else
        # -p alone: TCP only, no UDP port.
        (cd "$OT_DIR" && exec opentracker -i 127.0.0.1 -p "$T_PORT" -d "$OT_DIR" -w whitelist.txt) \
            >>"$log" 2>&1 &
    fi
    T_PID=$!
    PIDS+=("$T_PID")
    wait_for_listen "$T_PORT" "$T_PID" "$log"
    wait_for_announce "$T_PORT" "${HASHES[0]}"
}

# run_wrk NAME PORT PID MODE SECONDS: sets RPS P50 P99 ERR (a summary of wrk's error counters,
# `0` when none) and CPU (server CPU seconds during the run).
run_wrk() {
    local name=$1 port=$2 pid=$3 mode=$4 seconds=$5 out line before after
    before=$(cpu_ticks "$pid")
    out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${seconds}s" --timeout 5s \
        -s "$BENCH/announce.lua" "http://127.0.0.1:$port/" -- "$mode" "$PEERS" "${HASHES[@]}" 2>&1) ||
        die "wrk failed against $name: $out"
    after=$(cpu_ticks "$pid")
    kill -0 "$pid" 2>/dev/null || die "$name died during wrk (see $LOGS)"
    echo "$out" >>"$LOGS/wrk-$name-$mode.txt"
    line=$(grep '^WRK ' <<<"$out") || die "no WRK line from wrk against $name: $out"
    field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<"$line"; }
    RPS=$(field rps)
    P50=$(field p50)
    P99=$(field p99)
    ERR=$(awk -v l="$line" 'BEGIN {
        n = split(l, kv, " "); s = ""
        for (i = 1; i <= n; i++) { split(kv[i], p, "=")
            if (p[1] ~ /^(connect|read|write|timeout|status)$/ && p[2] > 0) s = s (s ? "," : "") p[1] " " p[2] }
        print (s ? s : "0") }')
    CPU=$(awk -v a="$before" -v b="$after" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", (b - a) / hz }')
}

median_int() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
        END { if (NR % 2) m = v[(NR + 1) / 2]; else m = (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.0f", m }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
ms() { awk -v us="$1" 'BEGIN { printf "%.1f", us / 1000 }'; }

# --- http scenario -------------------------------------------------------------------------------
declare -A R_RPS R_P50 R_P99 R_ERR R_CPU
for ((r = 1; r <= RUNS; r++)); do
    for mode in keep-alive close; do
        # Alternate who goes first from round to round.
        order="ours opentracker"
        ((r % 2 == 0)) && order="opentracker ours"
        for name in $order; do
            start_tracker "$name"
            run_wrk "$name" "$T_PORT" "$T_PID" "$mode" 1 # warm-up, not counted
            run_wrk "$name" "$T_PORT" "$T_PID" "$mode" "$DURATION"
            cleanup
            key="$name/$mode"
            R_RPS[$key]="${R_RPS[$key]:-} $RPS"
            R_P50[$key]="${R_P50[$key]:-} $P50"
            R_P99[$key]="${R_P99[$key]:-} $P99"
            R_ERR[$key]="${R_ERR[$key]:-}${R_ERR[$key]:+; }$ERR"
            R_CPU[$key]="${R_CPU[$key]:-} $CPU"
            printf 'round %d %-10s %-11s %8.0f req/s  p50 %6s ms  p99 %6s ms  server cpu %4ss  errors: %s\n' \
                "$r" "$mode" "$name" "$RPS" "$(ms "$P50")" "$(ms "$P99")" "$CPU" "$ERR"
        done
    done
done

# --- load scenario -------------------------------------------------------------------------------
LOAD_ROWS=()
if [[ -n $LOAD_STEPS ]]; then
    if [[ -z $LOAD_BIN || ! -x $LOAD_BIN ]]; then
        echo "== load scenario skipped: no load generator (cargo build --release --example tracker_load)"
        LOAD_STEPS=""
    fi
fi
scaled_ms() { awk -v s="$1" -v f="$TIMER_SCALE" 'BEGIN { v = s * 1000 * f; if (v < 1) v = 1; printf "%d", v }'; }
for k in $LOAD_STEPS; do
    free_port
    RUST_LOG=warn "$BIN" tracker --bind 127.0.0.1 --port "$PORT" \
        --cleanup-interval "$(scaled_ms 15)ms" >"$LOGS/load-tracker-$k.log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    wait_for_listen "$PORT" "$pid" "$LOGS/load-tracker-$k.log"
    seconds=$(awk -v s="$LOAD_SECONDS" -v f="$TIMER_SCALE" 'BEGIN { v = s * f; printf "%d", (v < 1 ? 1 : v) }')
    echo "== load: $k peers for ${seconds}s (timers x$TIMER_SCALE, generator at nice $LOAD_NICE)"
    before=$(cpu_ticks "$pid")
    out=$(nice -n "$LOAD_NICE" "$LOAD_BIN" --tracker "127.0.0.1:$PORT" --peers "$k" --seconds "$seconds" \
        --ping-ms "$(scaled_ms 10)" --report-ms "$(scaled_ms 20)" --list-ms "$(scaled_ms 30)" \
        2>"$LOGS/load-$k.err") || die "tracker_load failed: $(cat "$LOGS/load-$k.err")"
    after=$(cpu_ticks "$pid")
    kill -0 "$pid" 2>/dev/null || die "our tracker died under load (see $LOGS)"
    cleanup
    line=$(grep '^LOAD ' <<<"$out") || die "no LOAD line: $out"
    echo "$line"
    field() { sed -n "s/.* $1=\([0-9a-z.]*\).*/\1/p" <<<"$line"; }
    cpu=$(awk -v a="$before" -v b="$after" -v hz="$(getconf CLK_TCK)" -v s="$seconds" \
        'BEGIN { printf "%.0f%%", 100 * (b - a) / hz / s }')
    LOAD_ROWS+=("$(printf '| %6d | %4d | %7d | %6s | %6s | %6s / %6s / %6s | %5s ms | %4s | %s |' \
        "$k" "$(field swarms)" "$(field requests)" "$(field failed)" "$(field listed)" \
        "$(ms "$(field p50_us)")" "$(ms "$(field p90_us)")" "$(ms "$(field p99_us)")" \
        "$(field late_p99_ms)" "$cpu" "$(field sustained)")")
    [[ $(field sustained) == yes ]] && SUSTAINED=$k
done

# --- report --------------------------------------------------------------------------------------
echo
echo "$(nproc) cores; load average at the start: $LOADAVG_START, at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s, $PEERS simulated peers over ${#HASHES[@]} info-hashes, $RUNS runs each;"
echo "req/s median (runs); latency p50 / p99 medians over the runs; errors = wrk's non-zero counters per run"
echo
echo "| mode | ours req/s | opentracker req/s | ours/ref | ours p50 / p99 | opentracker p50 / p99 | ours errors | opentracker errors |"
echo "|---|---|---|---|---|---|---|---|"
for mode in keep-alive close; do
    o="ours/$mode" t="opentracker/$mode"
    # shellcheck disable=SC2086 # run lists are space-separated numbers
    om=$(median_int ${R_RPS[$o]}) tm=$(median_int ${R_RPS[$t]})
    runs_o=$(sed 's/^ //; s/ /, /g' <<<"${R_RPS[$o]}" | awk -F', ' '{ for (i = 1; i <= NF; i++) printf "%s%.0f", (i > 1 ? ", " : ""), $i }')
    runs_t=$(sed 's/^ //; s/ /, /g' <<<"${R_RPS[$t]}" | awk -F', ' '{ for (i = 1; i <= NF; i++) printf "%s%.0f", (i > 1 ? ", " : ""), $i }')
    # shellcheck disable=SC2086
    printf '| %s | %s (%s) | %s (%s) | %s | %s / %s ms | %s / %s ms | %s | %s |\n' \
        "$mode" "$om" "$runs_o" "$tm" "$runs_t" "$(ratio "$om" "$tm")" \
        "$(ms "$(median_int ${R_P50[$o]})")" "$(ms "$(median_int ${R_P99[$o]})")" \
        "$(ms "$(median_int ${R_P50[$t]})")" "$(ms "$(median_int ${R_P99[$t]})")" \
        "${R_ERR[$o]}" "${R_ERR[$t]}"
done
echo
echo "ours/ref > 1: ours answers more requests per second. opentracker replies HTTP/1.1 without"
echo "\`Connection: close\` and closes after every reply, so wrk counts one read error per reply"
echo "(it sends its next request on the closed connection, then reconnects): its errors are"
echo "expected in both modes; ours should have none."
echo "server CPU seconds per run: ours keep-alive ${R_CPU[ours/keep-alive]# }, close ${R_CPU[ours/close]# };" \
    "opentracker keep-alive ${R_CPU[opentracker/keep-alive]# }, close ${R_CPU[opentracker/close]# }"
if [[ ${#LOAD_ROWS[@]} -gt 0 ]]; then
    echo
    echo "our line protocol at the peers' timers x$TIMER_SCALE (ping 10 s, report 20 s, list 30 s, clean-up 15 s),"
    echo "one short connection per request, ${LOAD_SECONDS}s x$TIMER_SCALE per step:"
    echo
    echo "| peers | swarms | requests | failed | listed | latency p50 / p90 / p99 ms | lag p99 | tracker cpu | sustained |"
    echo "|---|---|---|---|---|---|---|---|---|"
    printf '%s\n' "${LOAD_ROWS[@]}"
    echo
    echo "largest K sustained: ${SUSTAINED:-none}"
fi
