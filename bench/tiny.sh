#!/usr/bin/env bash
# Small pieces and full pipelines, before and after: this tree against a reference build of
# another revision (default `main`), measured in the same run.
#
#   bench/tiny.sh [--ref REV] [--size 100000B] [--pieces 1B,3B] [--window S] [--idle S]
#                 [--lt-size 16MiB] [--lt-pieces 16KiB,32KiB] [--no-lt]
#
# Sizes take their unit (B, KiB, MiB, GiB); a bare number is refused.
#
# 1. Tiny pieces: a tracker, our seed and our leecher (--round-interval 0 --min-peers 1, other
#    options default) for a --size file (default 100000B) cut in pieces of 1 and 3 bytes.
#    Pieces per second = pieces verified / seconds from the leecher's start until it completes
#    or --window seconds pass (default 60; a build at ~130 pieces/s would need ~13 min for
#    100 000 one-byte pieces).
# 2. Idle CPU: our seed with 8 connections that finished their handshake and then say nothing
#    (a Python client); the seed's CPU time (utime + stime, /proc) over --idle seconds
#    (default 10), as a percentage of one core. Every connection thread waits in `read` with
#    its tick: this is what a shorter tick would cost.
# 3. Against a libtorrent seed (python3-libtorrent): our leecher (--round-interval 0
#    --min-peers 1 --parallel 4) downloads a --lt-size file (default 16MiB) in 16 KiB and
#    32 KiB pieces; the seed is listed with our tracker by a `JOIN` on its behalf. Seconds
#    until `download complete`, and MiB/s; every copy is checked with cmp.
#
# The reference is `git archive REV` built with --release under BENCH_WORK/tiny/ref-* (cached
# per revision). BTSIM_BIN / BTSIM_REF_BIN use binaries already built (the smoke test).
# Ports 19500-19599 (BTSIM_BENCH_PORT=base moves them) on 127.0.0.1 only.
set -euo pipefail

REF=main
SIZE=100000
PIECES=1B,3B
WINDOW=60
IDLE=10
LT_MIB=16
LT_PIECES=16KiB,32KiB
LT=yes
# shellcheck source=scripts/lib/size.sh
. "$(dirname "$0")/../scripts/lib/size.sh" # size_arg: the size options' one parser
usage() {
    echo "usage: $0 [--ref REV] [--size 100000B] [--pieces 1B,3B] [--window S] [--idle S] [--lt-size 16MiB] [--lt-pieces 16KiB,32KiB] [--no-lt]" >&2
    exit 2
}
while [[ $# -gt 0 ]]; do
    case "$1" in
        --no-lt) LT=no; shift; continue ;;
    esac
    [[ $# -ge 2 ]] || usage
    case "$1" in
        --ref) REF=$2 ;;
        --size) SIZE=$(size_arg --size "$2") || exit 2 ;;
        --pieces) PIECES=$2 ;;
        --window) WINDOW=$2 ;;
        --idle) IDLE=$2 ;;
        --lt-size) LT_MIB=$(size_arg --lt-size "$2" mib) || exit 2 ;;
        --lt-pieces) LT_PIECES=$2 ;;
        *) usage ;;
    esac
    shift 2
done
[[ $WINDOW =~ ^[0-9]+$ && $IDLE =~ ^[0-9]+$ ]] || usage
# Piece lengths in bytes: 1B,3B -> 1 3; 16KiB,32KiB -> 16384 32768.
piece_list() {
    local list=() p
    IFS=, read -r -a list <<<"$2"
    for p in "${list[@]}"; do size_arg "$1" "$p" || return 2; done
}
PIECES=$(piece_list --pieces "$PIECES") || exit 2
LT_PIECES=$(piece_list --lt-pieces "$LT_PIECES") || exit 2

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
WORK=$WORK/tiny
build

# the reference binary: REV's sources, built once per revision
if [[ -n ${BTSIM_REF_BIN:-} ]]; then
    REF_BIN=$BTSIM_REF_BIN
else
    rev=$(git -C "$ROOT" rev-parse --short "$REF") || die "unknown revision $REF"
    src=$WORK/ref-src-$rev
    if [[ ! -x $WORK/ref-target/release/bittorrent-sim || ! -f $src/.built ]]; then
        echo "== building the reference $REF ($rev) with --release"
        rm -rf "$src" && mkdir -p "$src"
        git -C "$ROOT" archive "$rev" | tar -x -C "$src"
        (cd "$src" && CARGO_TARGET_DIR=$WORK/ref-target cargo build --release)
        touch "$src/.built"
    fi
    REF_BIN=$WORK/ref-target/release/bittorrent-sim
fi
NEW_BIN=$BIN

PORT_START=${BTSIM_BENCH_PORT:-19500}
mkdir -p "$WORK/logs"

# info_hash TORRENT: the hex info-hash (the `info` value is the last key of our torrents).
info_hash() {
    "$PY" -c 'import hashlib, sys
d = open(sys.argv[1], "rb").read()
i = d.index(b"4:info") + 6
print(hashlib.sha1(d[i:-1]).hexdigest())' "$1"
}

# cpu_ticks PID: utime + stime of a process, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# run_tiny BIN PIECE: sets RATE (pieces/s), DONE (yes/no) and IDLE_CPU (% of a core).
run_tiny() {
    local bin=$1 piece=$2 data=$WORK/tiny-$SIZE.bin torrent start end pieces i tracker seed leech
    next_base
    torrent=$WORK/tiny-$SIZE-$piece.torrent
    [[ -s $data ]] || head -c "$SIZE" /dev/urandom >"$data"
    [[ -s $torrent ]] || "$NEW_BIN" create --piece-length "${piece}B" -o "$torrent" "$data" >/dev/null
    rm -rf "$WORK/seed" "$WORK/leech" && mkdir -p "$WORK/seed" "$WORK/leech"
    cp "$data" "$WORK/seed/"
    RUST_LOG=warn "$bin" tracker --port "$BASE" --bind 127.0.0.1 --torrent "$torrent" \
        >"$WORK/logs/tracker.log" 2>&1 &
    tracker=$!
    PIDS+=("$tracker")
    wait_for_listen "$BASE" "$tracker" "$WORK/logs/tracker.log"
    RUST_LOG=warn,bittorrent_sim::peer::run=info "$bin" peer --port $((BASE + 1)) --bind 127.0.0.1 \
        --tracker "127.0.0.1:$BASE" --torrent "$torrent" --dir "$WORK/seed" --min-peers 1 \
        >"$WORK/logs/seed.log" 2>&1 &
    seed=$!
    PIDS+=("$seed")
    wait_for_line "$WORK/logs/seed.log" "joined swarm" "$seed"
    start=$(now)
    RUST_LOG=warn,bittorrent_sim::peer::engine=info "$bin" peer --port $((BASE + 2)) --bind 127.0.0.1 \
        --tracker "127.0.0.1:$BASE" --torrent "$torrent" --dir "$WORK/leech" --min-peers 1 \
        --round-interval 0 >"$WORK/logs/leech.log" 2>&1 &
    leech=$!
    PIDS+=("$leech")
    DONE=no
    for ((i = 0; i < WINDOW * 20; i++)); do
        grep -q "download complete" "$WORK/logs/leech.log" 2>/dev/null && { DONE=yes; break; }
        kill -0 "$leech" 2>/dev/null || die "the leecher died (see $WORK/logs/leech.log)"
        sleep 0.05
    done
    end=$(now)
    pieces=$(grep -c "verified from" "$WORK/logs/leech.log" || true)
    RATE=$(awk -v p="$pieces" -v a="$start" -v b="$end" 'BEGIN { printf "%.0f", p / (b - a) }')
    if [[ $DONE == yes ]]; then
        cmp -s "$data" "$WORK/leech/$(basename "$data")" || die "the leecher's copy differs"
    fi
    cleanup
}

# idle_cpu BIN: sets IDLE_CPU, the seed's CPU (% of one core) with 8 silent connections.
idle_cpu() {
    local bin=$1 data=$WORK/tiny-$SIZE.bin torrent=$WORK/tiny-$SIZE-3.torrent seed t0 t1 hash hz
    next_base
    [[ -s $data ]] || head -c "$SIZE" /dev/urandom >"$data"
    [[ -s $torrent ]] || "$NEW_BIN" create --piece-length 3B -o "$torrent" "$data" >/dev/null
    rm -rf "$WORK/seed" && mkdir -p "$WORK/seed" && cp "$data" "$WORK/seed/"
    RUST_LOG=warn "$bin" tracker --port "$BASE" --bind 127.0.0.1 --torrent "$torrent" \
        >"$WORK/logs/tracker.log" 2>&1 &
    PIDS+=($!)
    wait_for_listen "$BASE"
    RUST_LOG=warn,bittorrent_sim::peer::run=info "$bin" peer --port $((BASE + 1)) --bind 127.0.0.1 \
        --tracker "127.0.0.1:$BASE" --torrent "$torrent" --dir "$WORK/seed" \
        >"$WORK/logs/seed.log" 2>&1 &
    seed=$!
    PIDS+=("$seed")
    wait_for_line "$WORK/logs/seed.log" "joined swarm" "$seed"
    hash=$(info_hash "$torrent")
    "$PY" -c 'import socket, sys, time
port, h, n, t = int(sys.argv[1]), bytes.fromhex(sys.argv[2]), 8, float(sys.argv[3])
hs = b"\x13BitTorrent protocol" + bytes(8) + h + b"-XX0000-" + bytes(12)
socks = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(hs[:-1] + bytes([i]))
    s.recv(68)
    socks.append(s)
print("connected", flush=True)
time.sleep(t)' $((BASE + 1)) "$hash" $((IDLE + 5)) >"$WORK/logs/idle.log" 2>&1 &
    PIDS+=($!)
    wait_for_line "$WORK/logs/idle.log" "connected" "$!"
    sleep 1
    hz=$(getconf CLK_TCK)
    t0=$(cpu_ticks "$seed")
    sleep "$IDLE"
    t1=$(cpu_ticks "$seed")
    IDLE_CPU=$(awk -v a="$t0" -v b="$t1" -v hz="$hz" -v s="$IDLE" 'BEGIN { printf "%.1f", 100 * (b - a) / hz / s }')
    cleanup
}

# run_lt BIN PIECE: sets LT_T (seconds) for our leecher fetching from a libtorrent seed.
run_lt() {
    local bin=$1 piece=$2 data=$WORK/lt-${LT_MIB}M.bin torrent=$WORK/lt-${LT_MIB}M-$2.torrent
    local seed start ts hash n leech
    next_base
    [[ -s $data ]] || head -c $((LT_MIB * 1048576)) /dev/urandom >"$data"
    [[ -s $torrent ]] || "$NEW_BIN" create --piece-length "${piece}B" -o "$torrent" "$data" >/dev/null
    rm -rf "$WORK/seed" "$WORK/leech" && mkdir -p "$WORK/seed" "$WORK/leech"
    cp "$data" "$WORK/seed/"
    RUST_LOG=warn "$bin" tracker --port "$BASE" --bind 127.0.0.1 --torrent "$torrent" \
        --cleanup-interval 1h >"$WORK/logs/tracker.log" 2>&1 &
    PIDS+=($!)
    wait_for_listen "$BASE"
    (cd "$BENCH" && exec "$PY" lt_seed.py $((BASE + 1)) "$torrent" "$WORK/seed") \
        >"$WORK/logs/lt-seed.log" 2>&1 &
    seed=$!
    PIDS+=("$seed")
    wait_for_line "$WORK/logs/lt-seed.log" "seeding" "$seed"
    hash=$(info_hash "$torrent")
    n=$(((LT_MIB * 1048576 + piece - 1) / piece))
    exec 3<>"/dev/tcp/127.0.0.1/$BASE"
    printf 'JOIN %s %d 0-%d\n' "$hash" $((BASE + 1)) $((n - 1)) >&3
    read -r -t 5 _ <&3 || die "the tracker did not answer the JOIN"
    exec 3<&-
    start=$(now)
    RUST_LOG=warn,bittorrent_sim::peer::engine=info "$bin" peer --port $((BASE + 2)) --bind 127.0.0.1 \
        --tracker "127.0.0.1:$BASE" --torrent "$torrent" --dir "$WORK/leech" --min-peers 1 \
        --round-interval 0 --parallel 4 >"$WORK/logs/lt-leech.log" 2>&1 &
    leech=$!
    PIDS+=("$leech")
    wait_for_line "$WORK/logs/lt-leech.log" "download complete" "$leech"
    ts=$(now)
    LT_T=$(elapsed "$start" "$ts")
    cmp -s "$data" "$WORK/leech/$(basename "$data")" || die "the copy from libtorrent differs"
    cleanup
}

declare -A R=()
mapfile -t PS <<<"$PIECES"
for p in "${PS[@]}"; do
    for which in ref new; do
        bin=$REF_BIN
        [[ $which == new ]] && bin=$NEW_BIN
        run_tiny "$bin" "$p"
        R[$which-$p]=$RATE
        R[$which-$p-done]=$DONE
        echo "$which: $p-byte pieces: $RATE pieces/s (complete: $DONE)"
    done
done
for which in ref new; do
    bin=$REF_BIN
    [[ $which == new ]] && bin=$NEW_BIN
    idle_cpu "$bin"
    R[$which-idle]=$IDLE_CPU
    echo "$which: idle seed with 8 silent connections: $IDLE_CPU% of a core"
done
mapfile -t LPS <<<"$LT_PIECES"
if [[ $LT == yes ]]; then
    need_libtorrent
    for p in "${LPS[@]}"; do
        for which in ref new; do
            bin=$REF_BIN
            [[ $which == new ]] && bin=$NEW_BIN
            run_lt "$bin" "$p"
            R[$which-lt-$p]=$LT_T
            echo "$which: $LT_MIB MiB in $p-byte pieces from libtorrent: ${LT_T}s"
        done
    done
fi

echo
echo "reference: $REF; file $SIZE bytes; window ${WINDOW}s"
echo
echo "| measure | $REF | this tree | after/before |"
echo "|---|---|---|---|"
for p in "${PS[@]}"; do
    printf '| %s-byte pieces, pieces/s (complete: %s / %s) | %s | %s | %s |\n' "$p" \
        "${R[ref-$p-done]}" "${R[new-$p-done]}" "${R[ref-$p]}" "${R[new-$p]}" "$(ratio "${R[new-$p]}" "${R[ref-$p]}")"
done
printf '| idle seed, 8 silent connections, %% of a core | %s | %s | %s |\n' \
    "${R[ref-idle]}" "${R[new-idle]}" "$(ratio "${R[new-idle]}" "${R[ref-idle]}")"
if [[ $LT == yes ]]; then
    for p in "${LPS[@]}"; do
        printf '| %s MiB from libtorrent, %s pieces, s (MiB/s) | %s (%s) | %s (%s) | %s |\n' "$LT_MIB" "$p" \
            "${R[ref-lt-$p]}" "$(ratio "$LT_MIB" "${R[ref-lt-$p]}")" \
            "${R[new-lt-$p]}" "$(ratio "$LT_MIB" "${R[new-lt-$p]}")" \
            "$(ratio "${R[ref-lt-$p]}" "${R[new-lt-$p]}")x faster"
    done
fi
