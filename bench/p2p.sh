#!/usr/bin/env bash
# P2P vs client-server: time to distribute one file from a rate-limited seed to N leechers.
#
#   bench/p2p.sh [--peers 2,4,8,16,32] [--runs 3] [--size 16MiB] [--piece 32KiB]
#                [--seed-rate RATE] [--peer-rate RATE] [--download-rate RATE]
#                [--chokers unchoke-all,tit-for-tat] [--cs-runs 1]
#
# Sizes take their unit (16MiB, 32KiB): a bare number is refused (scripts/lib/size.sh).
# Defaults: 16 MiB file, 32 KiB pieces, seed upload u_s = 2MiB/s, each leecher's upload
# u_i = 512KiB/s, each leecher's download d = 4MiB/s. Per N, every run starts a tracker, a seed
# (--upload-rate u_s) and N leechers (--upload-rate u_i --download-rate d, continuous rounds),
# and times from the leechers' start until the last one logs `download complete` (its copy
# verified piece by piece; every copy is also checked with cmp). Leechers keep seeding until the
# run ends, as in the fluid model behind the bounds:
#
#   P2P lower bound            max(F/u_s, F/d_min, N*F/(u_s + sum u_i))
#   client-server lower bound  max(N*F/u_s, F/d_min)
#
# Every peer runs `--choking unchoke-all` by default: the bound assumes every upload busy all the
# time, and tit-for-tat keeps at most --unchoke-slots + 1 uploads per peer by design;
# `--chokers unchoke-all,tit-for-tat` runs the P2P swarm under each (a row per choker).
# Beside it, per N, a measured client-server run (--cs-runs of them, default 1; 0 skips): the
# same seed (unchoke-all) alone serving N leechers that upload nothing (`--free-ride`).
#
# Prints per N and choker the median time, both bounds, measured/P2P bound and the measured
# client-server time; writes $WORK/p2p/p2p.csv (that table), p2p-series.csv (n,series,seconds)
# and p2p.svg, the chart of distribution time against N: two measured curves, two bounds
# (bench/chart.py).
# BTSIM_BIN=path uses that binary instead of building target/release (the smoke test);
# BTSIM_LEECH_OPTS="..." appends options to every leecher's command line (experiments);
# BENCH_WORK=dir puts the work directory elsewhere (default bench/work, git-ignored; this
# script uses its p2p/ subdirectory).
# Ports 19000-19499 (BTSIM_BENCH_PORT=base moves them) on 127.0.0.1 only; every process is
# killed on exit.
set -euo pipefail

PEERS=2,4,8,16,32
RUNS=3
SIZE_MIB=16
PIECE=32KiB
SEED_RATE=2MiB/s
PEER_RATE=512KiB/s
DOWN_RATE=4MiB/s
CHOKERS=unchoke-all
CS_RUNS=1
# shellcheck source=scripts/lib/size.sh
. "$(dirname "$0")/../scripts/lib/size.sh" # size_arg: the size options' one parser
PIECE_BYTES=$(size_bytes "$PIECE")
usage() {
    echo "usage: $0 [--peers 2,4,8] [--runs N] [--size 16MiB] [--piece 32KiB] [--seed-rate RATE] [--peer-rate RATE]" \
        "[--download-rate RATE] [--chokers unchoke-all,tit-for-tat] [--cs-runs N]" >&2
    exit 2
}
while [[ $# -gt 0 ]]; do
    [[ $# -ge 2 ]] || usage
    case "$1" in
        --peers) PEERS=$2 ;;
        --runs) RUNS=$2 ;;
        --size) SIZE_MIB=$(size_arg --size "$2" mib) || exit 2 ;;
        --piece) PIECE=$2; PIECE_BYTES=$(size_arg --piece "$2") || exit 2 ;;
        --seed-rate) SEED_RATE=$2 ;;
        --peer-rate) PEER_RATE=$2 ;;
        --download-rate) DOWN_RATE=$2 ;;
        --chokers) CHOKERS=$2 ;;
        --cs-runs) CS_RUNS=$2 ;;
        *) usage ;;
    esac
    shift 2
done
[[ $PEERS =~ ^[0-9]+(,[0-9]+)*$ ]] || usage
[[ $RUNS =~ ^[0-9]+$ && $RUNS -gt 0 ]] || usage
[[ $CHOKERS =~ ^(unchoke-all|tit-for-tat)(,(unchoke-all|tit-for-tat))*$ ]] || usage
[[ $CS_RUNS =~ ^[0-9]+$ ]] || usage

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

U_S=$(to_bytes "$SEED_RATE") || die "bad --seed-rate $SEED_RATE"
U_I=$(to_bytes "$PEER_RATE") || die "bad --peer-rate $PEER_RATE"
D=$(to_bytes "$DOWN_RATE") || die "bad --download-rate $DOWN_RATE"
[[ $U_S -gt 0 && $U_I -gt 0 && $D -gt 0 ]] || die "every rate must be above 0 for the bounds"
F=$((SIZE_MIB * 1048576))

WORK=$WORK/p2p
build

# bounds N -> "p2p client_server binding-term"
bounds() {
    awk -v n="$1" -v f="$F" -v us="$U_S" -v ui="$U_I" -v d="$D" 'BEGIN {
        a = f / us; b = f / d; c = n * f / (us + n * ui)
        p = a; t = "F/u_s"; if (b > p) { p = b; t = "F/d_min" } if (c > p) { p = c; t = "N*F/(u_s+sum u_i)" }
        cs = n * f / us; if (b > cs) cs = b
        printf "%.2f %.2f %s", p, cs, t }'
}

# --- test data ----------------------------------------------------------------------------------
mkdir -p "$WORK/logs"
NAME=data-${SIZE_MIB}M.bin
DATA=$WORK/$NAME
TORRENT=$WORK/data-${SIZE_MIB}M-$PIECE_BYTES.torrent
SEED_DIR=$WORK/seed
if [[ ! -s $DATA || $(stat -c %s "$DATA") -ne $F ]]; then
    echo "== creating $DATA ($SIZE_MIB MiB)"
    head -c "$F" /dev/urandom >"$DATA.tmp"
    mv "$DATA.tmp" "$DATA"
    rm -f "$WORK"/data-"${SIZE_MIB}"M-*.torrent
fi
[[ -s $TORRENT ]] || "$BIN" create --piece-length "${PIECE_BYTES}B" -o "$TORRENT" "$DATA" >/dev/null
if ! cmp -s "$DATA" "$SEED_DIR/$NAME"; then
    mkdir -p "$SEED_DIR"
    cp "$DATA" "$SEED_DIR/$NAME"
fi

# Each run gets a fresh block of 50 ports, so sockets of the previous run in TIME_WAIT never
# get in the way.
PORT_BASE=${BTSIM_BENCH_PORT:-19000}
[[ $PORT_BASE =~ ^[0-9]+$ && $PORT_BASE -ge 1024 && $PORT_BASE -le 64999 ]] || die "bad BTSIM_BENCH_PORT"
PORT_ROUND=0
next_base() {
    BASE=$((PORT_BASE + 50 * (PORT_ROUND % 10)))
    PORT_ROUND=$((PORT_ROUND + 1))
}

# Leecher options: continuous rounds, up to 64 pieces at once but at most 2 from any one peer
# (so every holder's upload is kept busy), pieces reported to the tracker every 500 ms, at most
# 10 connections per leecher (--max-peers, set in run_p2p): a full mesh of 32 would be ~2000
# threads waking every 25 ms on 2 cores. In the client-server run each free rider may connect to
# all N + 1, or it could fill its 10 with free riders and never reach the seed.
read -ra EXTRA_LEECH_OPTS <<<"${BTSIM_LEECH_OPTS:-}" # split on spaces, as documented above
LEECH_OPTS=(--min-peers 1 --round-interval 0 --parallel 64 --per-peer 2 --report-interval 500ms
    --connect-to-all
    --ping-interval 1s --max-connections 64 --upload-rate "$U_I" --download-rate "$D")

# run_p2p N TIMEOUT MODE: sets T to the seconds from the leechers' start until the last is
# complete. MODE: a choker (every peer runs it), or client-server (the seed unchoke-all, the
# leechers --free-ride).
run_p2p() {
    local n=$1 limit=$2 mode=$3 i start done_count last ts seed_choking leech_mode
    if [[ $mode == client-server ]]; then
        # every leecher must reach the seed: free riders never serve each other
        seed_choking=unchoke-all leech_mode=(--free-ride --max-peers $((n + 1)))
    else
        seed_choking=$mode leech_mode=(--choking "$mode" --max-peers 10)
    fi
    next_base
    rm -rf "$WORK/logs" "$WORK"/leech-*
    mkdir -p "$WORK/logs"
    RUST_LOG=warn "$BIN" tracker --port "$BASE" --bind 127.0.0.1 --torrent "$TORRENT" --max-connections 512 \
        >"$WORK/logs/tracker.log" 2>&1 &
    PIDS+=($!)
    wait_for_listen "$BASE"
    RUST_LOG=warn,bittorrent_sim::peer::run=info "$BIN" peer --port $((BASE + 1)) --bind 127.0.0.1 \
        --tracker "127.0.0.1:$BASE" --torrent "$TORRENT" --dir "$SEED_DIR" --min-peers 1 \
        --max-connections 64 --upload-rate "$U_S" --choking "$seed_choking" >"$WORK/logs/seed.log" 2>&1 &
    PIDS+=($!)
    wait_for_line "$WORK/logs/seed.log" "joined swarm" "$!"
    start=$(date +%s.%N)
    for ((i = 1; i <= n; i++)); do
        mkdir -p "$WORK/leech-$i"
        RUST_LOG=warn,bittorrent_sim::peer::engine=info "$BIN" peer --port $((BASE + 1 + i)) \
            --bind 127.0.0.1 --tracker "127.0.0.1:$BASE" --torrent "$TORRENT" \
            --dir "$WORK/leech-$i" "${LEECH_OPTS[@]}" "${leech_mode[@]}" "${EXTRA_LEECH_OPTS[@]}" >"$WORK/logs/leech-$i.log" 2>&1 &
        PIDS+=($!)
    done
    while :; do
        done_count=$( (grep -l "download complete" "$WORK"/logs/leech-*.log 2>/dev/null || true) | wc -l)
        [[ $done_count -ge $n ]] && break
        awk -v s="$start" -v now="$(date +%s.%N)" -v l="$limit" 'BEGIN { exit !(now - s > l) }' &&
            die "N=$n $mode: only $done_count of $n leechers complete after ${limit}s (see $WORK/logs)"
        sleep 0.1
    done
    # the time of the last `download complete` line (logged with milliseconds)
    last=$(grep -h "download complete" "$WORK"/logs/leech-*.log | awk '{ print $1 }' | sort | tail -1)
    ts=$(date -d "$last" +%s.%N)
    T=$(awk -v a="$start" -v b="$ts" 'BEGIN { printf "%.2f", b - a }')
    cleanup
    for ((i = 1; i <= n; i++)); do
        cmp -s "$DATA" "$WORK/leech-$i/$NAME" || die "N=$n $mode: leecher $i does not hold an identical copy"
    done
}

IFS=, read -r -a MODES <<<"$CHOKERS"
echo "== F = $SIZE_MIB MiB in $PIECE pieces; u_s = $SEED_RATE; u_i = $PEER_RATE; d = $DOWN_RATE; $RUNS runs per N"
echo "== P2P under --choking ${CHOKERS//,/ and }; client-server (seed alone, --free-ride leechers): $CS_RUNS run(s) per N"
declare -A TIMES=()
IFS=, read -r -a NS <<<"$PEERS"
for ((r = 1; r <= RUNS; r++)); do
    for n in "${NS[@]}"; do
        read -r p2p cs term <<<"$(bounds "$n")"
        limit=$(awk -v c="$cs" 'BEGIN { printf "%d", 3 * c + 30 }')
        for mode in "${MODES[@]}"; do
            run_p2p "$n" "$limit" "$mode"
            TIMES[$n,$mode]="${TIMES[$n,$mode]:-} $T"
            echo "run $r N=$n $mode ${T}s (P2P bound ${p2p}s)"
        done
        if [[ $r -le $CS_RUNS ]]; then
            run_p2p "$n" "$limit" client-server
            TIMES[$n,cs]="${TIMES[$n,cs]:-} $T"
            echo "run $r N=$n client-server ${T}s (client-server bound ${cs}s)"
        fi
    done
done

CSV=$WORK/p2p.csv
SERIES=$WORK/p2p-series.csv
echo "n,choker,runs,median_s,p2p_bound_s,binding_term,measured_over_bound,client_server_median_s,client_server_bound_s" >"$CSV"
echo "n,series,seconds" >"$SERIES"
echo
echo "F = $SIZE_MIB MiB, pieces $PIECE, u_s = $SEED_RATE, u_i = $PEER_RATE, d = $DOWN_RATE; median of $RUNS runs"
echo "time: leechers' start until the last leecher holds a verified copy"
echo "client-server measured: the same seed (unchoke-all) alone, N leechers with --free-ride; median of $CS_RUNS run(s)"
echo
echo "| N | choker | runs (s) | median (s) | P2P bound (s) | binding term | measured/bound | client-server measured (s) | client-server bound (s) | client-server measured / P2P |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for n in "${NS[@]}"; do
    read -r p2p cs term <<<"$(bounds "$n")"
    cs_m=-
    # shellcheck disable=SC2086 # a space-separated list of numbers
    [[ -n ${TIMES[$n,cs]:-} ]] && cs_m=$(median ${TIMES[$n,cs]})
    for mode in "${MODES[@]}"; do
        # shellcheck disable=SC2086
        m=$(median ${TIMES[$n,$mode]})
        cs_ratio=-
        [[ $cs_m != - ]] && cs_ratio=$(ratio "$cs_m" "$m")
        runs=${TIMES[$n,$mode]# }
        runs=${runs// /, }
        printf '| %2s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$n" "$mode" "$runs" "$m" "$p2p" "$term" \
            "$(ratio "$m" "$p2p")" "$cs_m" "$cs" "$cs_ratio"
        echo "$n,$mode,${runs//, / },$m,$p2p,$term,$(ratio "$m" "$p2p"),$cs_m,$cs" >>"$CSV"
        echo "$n,P2P measured (--choking $mode),$m" >>"$SERIES"
    done
    [[ $cs_m != - ]] && echo "$n,client-server measured (seed alone),$cs_m" >>"$SERIES"
    echo "$n,P2P bound,$p2p" >>"$SERIES"
    echo "$n,client-server bound,$cs" >>"$SERIES"
done
"$PY" "$BENCH/chart.py" lines "$SERIES" "$WORK/p2p.svg" --x "N (leechers)" --y "distribution time (s)" \
    --title "Distribution time of $SIZE_MIB MiB: u_s = $SEED_RATE, u_i = $PEER_RATE, d = $DOWN_RATE"
echo
echo "client-server bound: the seed alone uploads N copies (N*F/u_s), so it grows linearly with N;"
echo "client-server measured / P2P: how many times as long the seed alone took as the swarm did;"
echo "the P2P bound flattens towards F/u_i as every leecher's upload joins in."
echo "wrote $CSV, $SERIES and $WORK/p2p.svg"
