# shellcheck shell=bash
# Shared by the bench/*.sh scripts (sourced, not run): process clean-up, waits with deadlines,
# the release build, the deterministic test file and the statistics printed in the tables.
#
# A script sets nothing before sourcing; afterwards it has ROOT, BENCH, WORK, PY and BIN.
# Two environment variables serve the smoke tests (tests/bench_smoke.rs), so that `cargo test`
# neither builds a release nor writes into the source tree:
#   BTSIM_BIN   the binary to measure (default: target/release/bittorrent-sim, built here)
#   BENCH_WORK  the work directory: test files, download directories, logs (default: bench/work)

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
WORK=${BENCH_WORK:-$BENCH/work}
PY=/usr/bin/python3
BIN=${BTSIM_BIN:-$ROOT/target/release/bittorrent-sim}

PIDS=()
# Kills every process started by the script (their PIDs are in PIDS) and waits for them.
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    PIDS=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() { echo "error: $*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# build: cargo build --release, unless BTSIM_BIN names a binary already built.
build() {
    if [[ -n ${BTSIM_BIN:-} ]]; then
        [[ -x $BIN ]] || die "BTSIM_BIN=$BIN is not an executable"
        echo "== using $BIN"
    else
        echo "== cargo build --release"
        (cd "$ROOT" && cargo build --release)
    fi
    mkdir -p "$WORK/logs"
}

# wait_for_line LOG PATTERN PID: until LOG contains PATTERN (PID must stay alive), at most 300 s.
wait_for_line() {
    local log=$1 pattern=$2 pid=$3 i
    for ((i = 0; i < 3000; i++)); do
        grep -q -- "$pattern" "$log" 2>/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || { tail -5 "$log" >&2; die "process died before '$pattern' ($log)"; }
        sleep 0.1
    done
    die "timed out waiting for '$pattern' in $log"
}

# wait_for_listen PORT [PID LOG]: until something listens on TCP PORT, at most 15 s; with PID,
# fails as soon as that process is gone (showing the end of LOG).
wait_for_listen() {
    local port=$1 pid=${2:-} log=${3:-} i
    for ((i = 0; i < 300; i++)); do
        ss -ltnH "sport = :$port" | grep -q . && return 0
        if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
            [[ -n $log ]] && tail -5 "$log" >&2
            die "process $pid died before listening on port $port${log:+ (see $log)}"
        fi
        sleep 0.05
    done
    die "nothing listens on port $port"
}

# next_base: sets BASE to a fresh block of ten ports, PORT_START + 10k (k cycles 0..9), so that
# sockets of the previous run still in TIME_WAIT never get in the way.
PORT_ROUND=0
next_base() {
    # shellcheck disable=SC2034 # BASE is read by the scripts that source this file
    BASE=$((PORT_START + 10 * (PORT_ROUND % 10)))
    PORT_ROUND=$((PORT_ROUND + 1))
}

# make_data MIB [PIECE_BYTES]: sets NAME, DATA, TORRENT and SEED_DIR for a MIB-MiB file of
# deterministic bytes (Python's Mersenne Twister seeded with 42) with 256 KiB pieces (or
# PIECE_BYTES), creating whatever is missing under $WORK (cached between runs).
make_data() {
    local mib=$1 piece=${2:-}
    NAME=data-${mib}M.bin
    DATA=$WORK/$NAME
    TORRENT=$WORK/data-${mib}M${piece:+-$piece}.torrent
    SEED_DIR=$WORK/seed-${mib}M
    if [[ ! -s $DATA || $(stat -c %s "$DATA") -ne $((mib * 1048576)) ]]; then
        echo "== creating $DATA ($mib MiB, seeded generator)"
        "$PY" -c 'import random, sys
r = random.Random(42)
while True:
    sys.stdout.buffer.write(r.randbytes(1 << 20))' 2>/dev/null | head -c $((mib * 1048576)) >"$DATA.tmp" || true
        [[ $(stat -c %s "$DATA.tmp") -eq $((mib * 1048576)) ]] || die "could not create $DATA"
        mv "$DATA.tmp" "$DATA"
        rm -f "$WORK/data-${mib}M".*torrent "$WORK/data-${mib}M"-*.torrent
    fi
    if [[ ! -s $TORRENT ]]; then
        local length=256KiB
        [[ -z $piece ]] || length=${piece}B
        "$BIN" create --piece-length "$length" -o "$TORRENT" "$DATA"
    fi
    if ! cmp -s "$DATA" "$SEED_DIR/$NAME"; then
        mkdir -p "$SEED_DIR"
        cp "$DATA" "$SEED_DIR/$NAME"
    fi
}

# need_libtorrent: the reference of the swarm, single and memory scenarios.
need_libtorrent() {
    "$PY" -c 'import libtorrent' 2>/dev/null ||
        die "python3-libtorrent is missing (scripts/setup.sh installs it)"
}

# to_bytes RATE: bytes per second of 2MiB/s, 512KiB/s, 1MB/s, 65536; fails otherwise. (Sizes go
# through scripts/lib/size.sh, which requires a unit.)
to_bytes() {
    local v=${1%/s}
    awk -v v="$v" 'BEGIN {
        n = v; u = v; sub(/[A-Za-z]+$/, "", n); sub(/^[0-9.]+/, "", u)
        if (n !~ /^[0-9]+(\.[0-9]+)?$/) exit 1
        m["" ] = 1; m["B"] = 1; m["KiB"] = 1024; m["MiB"] = 1048576; m["kB"] = 1000; m["KB"] = 1000; m["MB"] = 1e6
        if (!(u in m)) exit 1
        printf "%.0f", n * m[u] }'
}

# median V...: the median of numbers, two decimals.
median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
        END { if (NR % 2) printf "%.2f", v[(NR + 1) / 2]; else printf "%.2f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# ratio A B: A / B, two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
