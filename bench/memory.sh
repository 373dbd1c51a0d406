#!/usr/bin/env bash
# Benchmark: peak memory of a seeding and of a leeching peer, bittorrent-sim against libtorrent
# 2.0 (python3-libtorrent), for one 1 seed -> 1 leecher transfer on loopback.
#
#   bench/memory.sh [--size SIZE] [--runs N]      (defaults: 1GiB, 3 runs)
#
# SIZE takes its unit (1GiB, 64MiB; a whole number of MiB): a bare number is refused.
#
# Peak RSS is the kernel's (wait4 ru_maxrss, via bench/peak_rss.py), so nothing is missed between
# samples. The seeder is measured from its start (which includes checking the whole file) until
# it is stopped after the leecher finished; the leecher from its start until it holds a verified
# copy. Ours and libtorrent alternate within each round. The libtorrent figures include the
# Python interpreter that drives it (about 10 MiB). Ports 18200-18299 on 127.0.0.1 only.
set -euo pipefail

SIZE_MIB=1024
RUNS=3
usage() { echo "usage: $0 [--size 1GiB] [--runs N]" >&2; exit 2; }
# shellcheck source=scripts/lib/size.sh
. "$(dirname "$0")/../scripts/lib/size.sh" # size_arg: the size options' one parser
while [[ $# -gt 0 ]]; do
    case "$1" in
        --size) [[ $# -ge 2 ]] || usage; SIZE_MIB=$(size_arg --size "$2" mib) || exit 2; shift 2 ;;
        --runs) [[ $# -ge 2 ]] || usage; RUNS=$2; shift 2 ;;
        *) usage ;;
    esac
done
[[ $RUNS =~ ^[0-9]+$ && $RUNS -gt 0 ]] || usage

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
RSS=$BENCH/peak_rss.py
LEECH=$WORK/mem-leech
TARGET_MIB=32

PORT_START=18200

fresh_leech_dir() {
    rm -rf "$LEECH" "$WORK/seed.rss" "$WORK/leech.rss"
    mkdir -p "$LEECH"
    sync # the previous run's writes are flushed now, not during this run
}

# finish LEECH_PID: waits for the leecher, stops everything else, checks the copy, sets T.
finish() {
    wait "$1" || { tail -5 "$WORK/logs/mem-leech.log" >&2; die "the leecher failed (see $WORK/logs)"; }
    T=$(elapsed "$START" "$(now)")
    cleanup
    cmp -s "$DATA" "$LEECH/$NAME" || die "the leecher does not hold an identical copy"
    SEED_KIB=$(cat "$WORK/seed.rss")
    LEECH_KIB=$(cat "$WORK/leech.rss")
}

run_ours() {
    next_base
    fresh_leech_dir
    RUST_LOG=warn "$BIN" tracker --port "$BASE" --bind 127.0.0.1 --torrent "$TORRENT" \
        >"$WORK/logs/mem-tracker.log" 2>&1 &
    PIDS+=($!)
    wait_for_listen "$BASE"
    RUST_LOG=warn,bittorrent_sim::peer::run=info "$PY" "$RSS" "$WORK/seed.rss" \
        "$BIN" peer --port $((BASE + 1)) --bind 127.0.0.1 --tracker "127.0.0.1:$BASE" \
        --torrent "$TORRENT" --dir "$SEED_DIR" --min-peers 1 >"$WORK/logs/mem-seed.log" 2>&1 &
    PIDS+=($!)
    wait_for_line "$WORK/logs/mem-seed.log" "joined swarm" "$!"
    START=$(now)
    RUST_LOG=warn "$PY" "$RSS" "$WORK/leech.rss" timeout 600 \
        "$BIN" peer --port $((BASE + 2)) --bind 127.0.0.1 --tracker "127.0.0.1:$BASE" \
        --torrent "$TORRENT" --dir "$LEECH" --min-peers 1 --round-interval 0 --parallel 8 \
        --exit-when-complete >"$WORK/logs/mem-leech.log" 2>&1 &
    PIDS+=($!)
    finish "$!"
}

run_lt() {
    next_base
    fresh_leech_dir
    (cd "$BENCH" && exec "$PY" "$RSS" "$WORK/seed.rss" "$PY" lt_seed.py "$BASE" "$TORRENT" "$SEED_DIR") \
        >"$WORK/logs/mem-seed.log" 2>&1 &
    PIDS+=($!)
    wait_for_line "$WORK/logs/mem-seed.log" "seeding" "$!"
    START=$(now)
    (cd "$BENCH" && exec "$PY" "$RSS" "$WORK/leech.rss" "$PY" lt_leech.py $((BASE + 1)) "$TORRENT" "$LEECH" "$BASE") \
        >"$WORK/logs/mem-leech.log" 2>&1 &
    PIDS+=($!)
    finish "$!"
}

mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

build
need_libtorrent
make_data "$SIZE_MIB"

declare -a O_SEED=() O_LEECH=() L_SEED=() L_LEECH=()
for ((r = 1; r <= RUNS; r++)); do
    run_ours
    O_SEED+=("$(mib "$SEED_KIB")"); O_LEECH+=("$(mib "$LEECH_KIB")")
    echo "round $r ours       seed $(mib "$SEED_KIB") MiB, leech $(mib "$LEECH_KIB") MiB (transfer ${T}s)"
    run_lt
    L_SEED+=("$(mib "$SEED_KIB")"); L_LEECH+=("$(mib "$LEECH_KIB")")
    echo "round $r libtorrent seed $(mib "$SEED_KIB") MiB, leech $(mib "$LEECH_KIB") MiB (transfer ${T}s)"
done

row() {
    local role=$1 ours=$2 ref=$3 om rm verdict
    # shellcheck disable=SC2086 # run lists are space-separated numbers
    om=$(median $ours)
    # shellcheck disable=SC2086
    rm=$(median $ref)
    verdict=$(awk -v m="$om" -v t="$TARGET_MIB" 'BEGIN { print (m <= t) ? "yes" : "NO" }')
    printf '| %-5s | %7s MiB (%s) | %7s MiB (%s) | %5s | %s |\n' \
        "$role" "$om" "${ours// /, }" "$rm" "${ref// /, }" "$(ratio "$om" "$rm")" "$verdict"
}

echo
echo "peak RSS, $SIZE_MIB MiB torrent (256 KiB pieces), 1 seed -> 1 leecher, $RUNS runs each"
echo
echo "| role | ours median (runs) | libtorrent median (runs) | ours/ref | ours <= $TARGET_MIB MiB |"
echo "|---|---|---|---|---|"
row seed "${O_SEED[*]}" "${L_SEED[*]}"
row leech "${O_LEECH[*]}" "${L_LEECH[*]}"
