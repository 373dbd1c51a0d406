#!/usr/bin/env bash
# Does tit-for-tat punish free riders? Completion times per upload class, under both chokers.
#
#   bench/incentives.sh [--leechers 12] [--free-riders 3] [--runs 3] [--size 16MiB] [--piece 32KiB]
#                       [--seed-rate RATE] [--rates R1,R2,R3] [--download-rate RATE]
#                       [--slots K] [--rechoke D] [--optimistic D] [--timeout SECS]
#
# Sizes take their unit (16MiB, 32KiB): a bare number is refused (scripts/lib/size.sh).
#
# Defaults: a 16 MiB file in 32 KiB pieces; one seed capped at 2MiB/s (at 512KiB/s every peer
# waits on the seed's new pieces whatever the choker: docs/incentives.md); 12 leechers in three
# upload classes (256KiB/s, 512KiB/s, 1MiB/s; leecher i is in class i mod 3) and 3 free riders
# (`--free-ride`: they download but never unchoke anyone); no download cap. Every run starts a
# tracker, the seed and all the leechers at once, and times each leecher from the start until
# its `download complete` log line (its copy verified; every copy is also checked with cmp).
# Peers keep seeding until the last one completes (or --timeout, default 600 s: a peer still
# incomplete then is recorded as not completed). The same swarm runs R times with
# `--choking unchoke-all` and R times with `--choking tit-for-tat` (seed and leechers alike;
# free riders always free ride), alternating, with `--unchoke-slots 4` and the intervals
# shortened with the file so each run lasts many of them: `--rechoke-interval 2s
# --optimistic-interval 6s` (the 10 s and 30 s of the protocol, divided by 5).
#
# Prints per class and for the free riders the median completion time under each choker;
# writes $WORK/incentives/incentives.csv (one row per peer and run) and incentives.svg (the
# chart, bench/chart.py), and from the first run of each choker, traced, the unchoke matrix
# unchoke-CHOKER.svg (`bittorrent-sim diagram`: who unchoked whom, sorted by upload rate).
# BTSIM_BIN=path uses that binary instead of building target/release (the smoke test);
# BENCH_WORK=dir puts the work directory elsewhere (default bench/work, git-ignored; this
# script uses its incentives/ subdirectory).
# Ports 19500-19999 (BTSIM_BENCH_PORT=base moves them) on 127.0.0.1 only; every process is
# killed on exit.
set -euo pipefail

LEECHERS=12
FREE=3
RUNS=3
SIZE_MIB=16
PIECE=32KiB
SEED_RATE=2MiB/s
RATES=256KiB/s,512KiB/s,1MiB/s
DOWN_RATE=0
SLOTS=4
RECHOKE=2s
OPTIMISTIC=6s
TIMEOUT=600
# shellcheck source=scripts/lib/size.sh
. "$(dirname "$0")/../scripts/lib/size.sh" # size_arg: the size options' one parser
usage() {
    echo "usage: $0 [--leechers N] [--free-riders F] [--runs R] [--size 16MiB] [--piece 32KiB] [--seed-rate RATE]" \
        "[--rates R1,R2,R3] [--download-rate RATE] [--slots K] [--rechoke D] [--optimistic D] [--timeout SECS]" >&2
    exit 2
}
while [[ $# -gt 0 ]]; do
    [[ $# -ge 2 ]] || usage
    case "$1" in
        --leechers) LEECHERS=$2 ;;
        --free-riders) FREE=$2 ;;
        --runs) RUNS=$2 ;;
        --size) SIZE_MIB=$(size_arg --size "$2" mib) || exit 2 ;;
        --piece) PIECE=$2 ;;
        --seed-rate) SEED_RATE=$2 ;;
        --rates) RATES=$2 ;;
        --download-rate) DOWN_RATE=$2 ;;
        --slots) SLOTS=$2 ;;
        --rechoke) RECHOKE=$2 ;;
        --optimistic) OPTIMISTIC=$2 ;;
        --timeout) TIMEOUT=$2 ;;
        *) usage ;;
    esac
    shift 2
done
[[ $LEECHERS =~ ^[0-9]+$ && $LEECHERS -gt 0 ]] || usage
[[ $FREE =~ ^[0-9]+$ ]] || usage
[[ $RUNS =~ ^[0-9]+$ && $RUNS -gt 0 ]] || usage
[[ $TIMEOUT =~ ^[0-9]+$ && $TIMEOUT -gt 0 ]] || usage
[[ $((LEECHERS + FREE)) -le 47 ]] || die "at most 47 peers (a block of 50 ports per run)"

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

IFS=, read -r -a CLASS_RATES <<<"$RATES"
[[ ${#CLASS_RATES[@]} -ge 1 ]] || usage
CLASS_BYTES=()
for rate in "${CLASS_RATES[@]}"; do
    CLASS_BYTES+=("$(to_bytes "$rate")") || die "bad rate $rate in --rates"
done
U_S=$(to_bytes "$SEED_RATE") || die "bad --seed-rate $SEED_RATE"
D=$(to_bytes "$DOWN_RATE") || die "bad --download-rate $DOWN_RATE"
PIECE_BYTES=$(size_arg --piece "$PIECE") || exit 2

WORK=$WORK/incentives
build
make_data "$SIZE_MIB" "$PIECE_BYTES"

PORT_START=${BTSIM_BENCH_PORT:-19500}
[[ $PORT_START =~ ^[0-9]+$ && $PORT_START -ge 1024 && $PORT_START -le 64999 ]] || die "bad BTSIM_BENCH_PORT"

# Every peer's choker settings; leechers as in bench/p2p.sh (continuous rounds, many pieces at
# once, at most 2 from any one holder, so a holder that unchokes us is kept busy), and a full
# mesh: everyone may connect to everyone, as the incentives need partners to choose from.
CHOKE_OPTS=(--unchoke-slots "$SLOTS" --rechoke-interval "$RECHOKE" --optimistic-interval "$OPTIMISTIC")
LEECH_OPTS=(--min-peers 1 --round-interval 0 --parallel 64 --per-peer 2 --report-interval 500ms
    --max-peers 48 --connect-to-all --ping-interval 1s --max-connections 128 --download-rate "$D")

CSV=$WORK/incentives.csv
echo "choker,run,peer,class,upload_rate,completion_s,completed" >"$CSV"

# run_swarm CHOKER RUN TRACE(0|1): one run; appends its rows to the CSV.
run_swarm() {
    local choker=$1 run=$2 traced=$3 i total start deadline done_count port rate class name log t ok
    next_base
    total=$((LEECHERS + FREE))
    rm -rf "$WORK/logs" "$WORK"/peer-* "$WORK/traces"
    mkdir -p "$WORK/logs" "$WORK/traces"
    trace_opt() { if [[ $traced == 1 ]]; then echo "--trace=$WORK/traces/peer-$1.jsonl"; fi; }
    RUST_LOG=warn "$BIN" tracker --port "$BASE" --bind 127.0.0.1 --torrent "$TORRENT" --max-connections 512 \
        >"$WORK/logs/tracker.log" 2>&1 &
    PIDS+=($!)
    wait_for_listen "$BASE" "$!" "$WORK/logs/tracker.log"
    # shellcheck disable=SC2046 # trace_opt is one word or none
    RUST_LOG=warn,bittorrent_sim::peer=info "$BIN" peer --port $((BASE + 1)) --bind 127.0.0.1 \
        --tracker "127.0.0.1:$BASE" --torrent "$TORRENT" --dir "$SEED_DIR" --min-peers 1 \
        --max-connections 128 --upload-rate "$U_S" --choking "$choker" "${CHOKE_OPTS[@]}" \
        $(trace_opt $((BASE + 1))) >"$WORK/logs/seed.log" 2>&1 &
    PIDS+=($!)
    wait_for_line "$WORK/logs/seed.log" "joined swarm" "$!"
    start=$(now)
    for ((i = 1; i <= total; i++)); do
        port=$((BASE + 1 + i))
        mkdir -p "$WORK/peer-$i"
        if [[ $i -le $LEECHERS ]]; then
            rate=${CLASS_BYTES[$(((i - 1) % ${#CLASS_BYTES[@]}))]}
            set -- --upload-rate "$rate" --choking "$choker"
        else
            set -- --free-ride
        fi
        # shellcheck disable=SC2046
        RUST_LOG=warn,bittorrent_sim::peer::engine=info "$BIN" peer --port "$port" --bind 127.0.0.1 \
            --tracker "127.0.0.1:$BASE" --torrent "$TORRENT" --dir "$WORK/peer-$i" \
            "${LEECH_OPTS[@]}" "${CHOKE_OPTS[@]}" "$@" $(trace_opt "$port") \
            >"$WORK/logs/peer-$i.log" 2>&1 &
        PIDS+=($!)
    done
    deadline=$(awk -v s="$start" -v l="$TIMEOUT" 'BEGIN { printf "%.3f", s + l }')
    while :; do
        done_count=$( (grep -l "download complete" "$WORK"/logs/peer-*.log 2>/dev/null || true) | wc -l)
        [[ $done_count -ge $total ]] && break
        awk -v d="$deadline" -v now="$(now)" 'BEGIN { exit !(now > d) }' && {
            echo "  $choker run $run: only $done_count of $total complete after ${TIMEOUT}s" >&2
            break
        }
        sleep 0.2
    done
    cleanup
    for ((i = 1; i <= total; i++)); do
        log=$WORK/logs/peer-$i.log
        if [[ $i -le $LEECHERS ]]; then
            class=$(((i - 1) % ${#CLASS_BYTES[@]}))
            rate=${CLASS_BYTES[$class]}
            class=${CLASS_RATES[$class]}
        else
            class="free rider"
            rate=0
        fi
        name=peer-$((BASE + 1 + i))
        if grep -q "download complete" "$log"; then
            cmp -s "$DATA" "$WORK/peer-$i/$NAME" || die "$choker run $run: $name holds a copy that differs"
            t=$(elapsed "$start" "$(date -d "$(grep -m1 -h "download complete" "$log" | awk '{ print $1 }')" +%s.%N)")
            ok=yes
        else
            t=$TIMEOUT
            ok=no
        fi
        echo "$choker,$run,$name,$class,$rate,$t,$ok" >>"$CSV"
    done
    if [[ $traced == 1 ]]; then
        # A peer killed while writing leaves its last line cut short: drop a line with no end.
        "$PY" -c 'import sys
for path in sys.argv[1:]:
    data = open(path, "rb").read()
    open(path, "wb").write(data[: data.rfind(b"\n") + 1])' "$WORK"/traces/*.jsonl
        "$BIN" diagram "$WORK"/traces/*.jsonl -o "$WORK/diagram-$choker" --types choke,unchoke \
            --max-messages 200 >/dev/null
        mv "$WORK/diagram-$choker-unchoke.svg" "$WORK/unchoke-$choker.svg"
        rm -f "$WORK/diagram-$choker".{md,svg}
    fi
}

echo "== F = $SIZE_MIB MiB in $PIECE pieces; seed $SEED_RATE; $LEECHERS leechers in classes $RATES;" \
    "$FREE free riders; download cap ${DOWN_RATE/#0/none}"
echo "== --unchoke-slots $SLOTS --rechoke-interval $RECHOKE --optimistic-interval $OPTIMISTIC; $RUNS runs per choker"
CHOKERS=(unchoke-all tit-for-tat)
for ((r = 1; r <= RUNS; r++)); do
    for choker in "${CHOKERS[@]}"; do
        run_swarm "$choker" "$r" "$([[ $r == 1 ]] && echo 1 || echo 0)"
        last=$(awk -F, -v c="$choker" -v r="$r" '$1 == c && $2 == r { if ($6 > m) m = $6 } END { print m }' "$CSV")
        echo "run $r $choker: last peer complete after ${last}s"
    done
done

# times CHOKER CLASS: every completion time of that class under that choker, all runs.
times() { awk -F, -v c="$1" -v k="$2" 'NR > 1 && $1 == c && $4 == k { print $6 }' "$CSV"; }
not_done() { awk -F, -v c="$1" -v k="$2" 'NR > 1 && $1 == c && $4 == k && $7 == "no"' "$CSV" | wc -l; }

echo
echo "F = $SIZE_MIB MiB, pieces $PIECE, seed $SEED_RATE, $LEECHERS leechers ($RATES), $FREE free riders;" \
    "--unchoke-slots $SLOTS, rechoke $RECHOKE, optimistic $OPTIMISTIC; median over all peers of a class in $RUNS runs"
echo "time: from the swarm's start until the peer holds a verified copy"
echo
echo "| class (upload) | peers x runs | unchoke-all median (s) | tit-for-tat median (s) | tit-for-tat / unchoke-all |"
echo "|---|---|---|---|---|"
CLASSES=()
for ((c = ${#CLASS_RATES[@]} - 1; c >= 0; c--)); do CLASSES+=("${CLASS_RATES[$c]}"); done
[[ $FREE -gt 0 ]] && CLASSES+=("free rider")
for class in "${CLASSES[@]}"; do
    mapfile -t ua < <(times unchoke-all "$class")
    mapfile -t tft < <(times tit-for-tat "$class")
    [[ ${#ua[@]} -gt 0 ]] || continue
    m_ua=$(median "${ua[@]}")
    m_tft=$(median "${tft[@]}")
    note=""
    missing=$(($(not_done unchoke-all "$class") + $(not_done tit-for-tat "$class")))
    [[ $missing -gt 0 ]] && note=" ($missing not complete by ${TIMEOUT}s, counted as ${TIMEOUT}s)"
    printf '| %s | %s | %s | %s | %s%s |\n' "$class" "$((${#ua[@]} / RUNS)) x $RUNS" "$m_ua" "$m_tft" \
        "$(ratio "$m_tft" "$m_ua")" "$note"
done
"$PY" "$BENCH/chart.py" incentives "$CSV" "$WORK/incentives.svg" \
    --title "Completion time per peer: $LEECHERS leechers + $FREE free riders, $SIZE_MIB MiB, seed $SEED_RATE, $RUNS runs"
echo
echo "wrote $CSV, $WORK/incentives.svg, $WORK/unchoke-unchoke-all.svg and $WORK/unchoke-tit-for-tat.svg"
