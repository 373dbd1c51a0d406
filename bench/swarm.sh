#!/usr/bin/env bash
# Benchmark: bittorrent-sim against libtorrent 2.0 (python3-libtorrent) on loopback.
#
#   bench/swarm.sh [--size SIZE] [--runs N] [--no-link]   (defaults: 256MiB, 5 runs)
#
# SIZE takes its unit (256MiB, 1GiB; a whole number of MiB): a bare number is refused.
#
# Scenarios, each timed from the start of the leecher(s) until every leecher holds a verified
# copy (then checked with cmp):
#   single  1 seed -> 1 leecher
#   swarm   1 seed -> 4 leechers
#   link    iperf3 on loopback (one TCP stream, 5 s), the machine's limit the others are shown against
# Ours and the reference alternate within each round (ours, libtorrent, libtorrent with
# high_performance_seed() on the seeder). Ports 18000-18100 on 127.0.0.1 only.
set -euo pipefail

SIZE_MIB=256
RUNS=5
LINK_TEST=yes
usage() { echo "usage: $0 [--size 256MiB] [--runs N] [--no-link]" >&2; exit 2; }
# shellcheck source=scripts/lib/size.sh
. "$(dirname "$0")/../scripts/lib/size.sh" # size_arg: the size options' one parser
while [[ $# -gt 0 ]]; do
    case "$1" in
        --size) [[ $# -ge 2 ]] || usage; SIZE_MIB=$(size_arg --size "$2" mib) || exit 2; shift 2 ;;
        --runs) [[ $# -ge 2 ]] || usage; RUNS=$2; shift 2 ;;
        --no-link) LINK_TEST=no; shift ;;
        -h|--help) usage ;;
        *) usage ;;
    esac
done
[[ $RUNS =~ ^[0-9]+$ && $RUNS -gt 0 ]] || usage

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
LEECHERS=4
TIMEOUT=600

PORT_START=18000

# Empty download directories, and no dirty pages left by the previous run: its writes (up to
# 1 GiB for a swarm) would otherwise be flushed to disk during this run, whoever runs next.
fresh_leech_dirs() {
    local i
    for ((i = 1; i <= $1; i++)); do
        rm -rf "$WORK/leech-$i"
        mkdir -p "$WORK/leech-$i"
    done
    sync
}

verify_leech_dirs() {
    local i
    for ((i = 1; i <= $1; i++)); do
        cmp -s "$DATA" "$WORK/leech-$i/$NAME" || die "leecher $i does not hold an identical copy"
    done
}

# Waits for the leecher processes in LEECH_PIDS; fails the benchmark if one failed.
wait_leechers() {
    local pid
    for pid in "${LEECH_PIDS[@]}"; do
        wait "$pid" || { tail -5 "$WORK"/logs/leech-*.log >&2; die "a leecher failed (see $WORK/logs)"; }
    done
}

# finish_run N START: waits for the leechers, sets T to the seconds since START, stops every
# process and checks the N copies.
finish_run() {
    wait_leechers
    T=$(elapsed "$2" "$(now)")
    cleanup
    verify_leech_dirs "$1"
}

# run_ours N: tracker + seeder + N leechers of bittorrent-sim; sets T to the seconds taken.
run_ours() {
    local n=$1 i start
    next_base
    fresh_leech_dirs "$n"
    RUST_LOG=warn "$BIN" tracker --port "$BASE" --bind 127.0.0.1 --torrent "$TORRENT" \
        >"$WORK/logs/tracker.log" 2>&1 &
    PIDS+=($!)
    wait_for_listen "$BASE"
    # the seeder's `joined swarm` line is logged at info level: enable just that module
    RUST_LOG=warn,bittorrent_sim::peer::run=info "$BIN" peer --port $((BASE + 1)) --bind 127.0.0.1 \
        --tracker "127.0.0.1:$BASE" --torrent "$TORRENT" --dir "$SEED_DIR" --min-peers 1 \
        >"$WORK/logs/seed.log" 2>&1 &
    PIDS+=($!)
    wait_for_line "$WORK/logs/seed.log" "joined swarm" "$!"
    LEECH_PIDS=()
    start=$(now)
    for ((i = 1; i <= n; i++)); do
        RUST_LOG=warn timeout "$TIMEOUT" "$BIN" peer --port $((BASE + 1 + i)) --bind 127.0.0.1 \
            --tracker "127.0.0.1:$BASE" --torrent "$TORRENT" --dir "$WORK/leech-$i" \
            --min-peers 1 --round-interval 0 --parallel 8 --exit-when-complete \
            >"$WORK/logs/leech-$i.log" 2>&1 &
        PIDS+=($!)
        LEECH_PIDS+=($!)
    done
    finish_run "$n" "$start"
}

# run_lt N [--high-performance]: libtorrent seed + N libtorrent leechers, each connected with
# connect_peer to the seed and to every other leecher; sets T.
run_lt() {
    local n=$1 mode=${2:-} i j start peers
    next_base
    fresh_leech_dirs "$n"
    # shellcheck disable=SC2086 # $mode is empty or one flag
    (cd "$BENCH" && exec "$PY" lt_seed.py "$BASE" "$TORRENT" "$SEED_DIR" $mode) \
        >"$WORK/logs/seed.log" 2>&1 &
    PIDS+=($!)
    wait_for_line "$WORK/logs/seed.log" "seeding" "$!"
    LEECH_PIDS=()
    start=$(now)
    for ((i = 1; i <= n; i++)); do
        peers=("$BASE")
        for ((j = 1; j <= n; j++)); do
            [[ $j -ne $i ]] && peers+=($((BASE + j)))
        done
        (cd "$BENCH" && exec "$PY" lt_leech.py $((BASE + i)) "$TORRENT" "$WORK/leech-$i" "${peers[@]}") \
            >"$WORK/logs/leech-$i.log" 2>&1 &
        PIDS+=($!)
        LEECH_PIDS+=($!)
    done
    finish_run "$n" "$start"
}

mibps() { awk -v s="$SIZE_MIB" -v t="$1" 'BEGIN { if (t > 0) printf "%.0f", s / t; else print "-" }'; }
# of_link MIBS: MIBS as a share of the loopback link limit measured by iperf3.
of_link() { awk -v m="$1" -v l="$LINK_MIBS" 'BEGIN { if (l > 0 && m != "-") printf "%3.0f%%", 100 * m / l; else print "-" }'; }

# --- build and test data ---------------------------------------------------------------------
build
need_libtorrent
make_data "$SIZE_MIB"

# --- link limit ----------------------------------------------------------------------------------
LINK="not measured (iperf3 not installed)"
LINK_MIBS=0
if [[ $LINK_TEST == no ]]; then
    LINK="not measured (--no-link)"
elif command -v iperf3 >/dev/null; then
    echo "== iperf3 on loopback, 1 stream, 5 s"
    iperf3 -s -B 127.0.0.1 -p 18100 -1 >/dev/null 2>&1 &
    PIDS+=($!)
    wait_for_listen 18100
    LINK_MIBS=$(iperf3 -c 127.0.0.1 -p 18100 -t 5 -f m | awk '/receiver/ { printf "%.0f", $(NF-2) * 1e6 / 8 / 1048576 }')
    LINK="$LINK_MIBS MiB/s (iperf3, 1 TCP stream)"
    cleanup
fi

# --- runs ----------------------------------------------------------------------------------------
declare -a S_OURS=() S_LT=() S_HP=() W_OURS=() W_LT=() W_HP=()
for ((r = 1; r <= RUNS; r++)); do
    run_ours 1; S_OURS+=("$T"); echo "round $r single ours           ${T}s"
    run_lt 1; S_LT+=("$T"); echo "round $r single libtorrent     ${T}s"
    run_lt 1 --high-performance; S_HP+=("$T"); echo "round $r single libtorrent-hps ${T}s"
    run_ours "$LEECHERS"; W_OURS+=("$T"); echo "round $r swarm  ours           ${T}s"
    run_lt "$LEECHERS"; W_LT+=("$T"); echo "round $r swarm  libtorrent     ${T}s"
    run_lt "$LEECHERS" --high-performance; W_HP+=("$T"); echo "round $r swarm  libtorrent-hps ${T}s"
done

row() {
    local scenario=$1 ref=$2 ours_runs=$3 ref_runs=$4 om refm
    # shellcheck disable=SC2086 # run lists are space-separated numbers
    om=$(median $ours_runs)
    # shellcheck disable=SC2086
    refm=$(median $ref_runs)
    printf '| %-6s | %-22s | %6ss (%s) %4s MiB/s | %6ss (%s) %4s MiB/s | %5s | %s / %s |\n' \
        "$scenario" "$ref" "$om" "${ours_runs// /, }" "$(mibps "$om")" \
        "$refm" "${ref_runs// /, }" "$(mibps "$refm")" "$(ratio "$om" "$refm")" \
        "$(of_link "$(mibps "$om")")" "$(of_link "$(mibps "$refm")")"
}

echo
echo "size $SIZE_MIB MiB, 256 KiB pieces, $RUNS runs each; loopback link limit: $LINK"
echo "times: leecher start until every leecher holds a verified copy; median (all runs) throughput"
echo "of link: per-leecher throughput as a share of what one TCP stream reaches on loopback (iperf3)"
echo
echo "| scenario | reference | ours median (runs) | reference median (runs) | ours/ref | of link: ours / ref |"
echo "|---|---|---|---|---|---|"
row single "libtorrent" "${S_OURS[*]}" "${S_LT[*]}"
row single "libtorrent hp-seed" "${S_OURS[*]}" "${S_HP[*]}"
row "swarm" "libtorrent (1->$LEECHERS)" "${W_OURS[*]}" "${W_LT[*]}"
row "swarm" "libtorrent hp-seed" "${W_OURS[*]}" "${W_HP[*]}"
