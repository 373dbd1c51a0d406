#!/usr/bin/env bash
# scripts/interop-matrix.sh: the real-client interop matrix. Every real client (rows) meets our
# tracker and peers in every direction (columns), each cell in a fresh pair of network
# namespaces, with a deadline, the copies compared byte for byte (cmp), the time measured; the
# table goes to stdout and OUT/matrix.md, each cell's logs to OUT/CLIENT/CELL/. Needs root.
#
#   scripts/interop-matrix.sh [--clients a,b,...] [--cells A,B,...] [--size 4MiB] [--out DIR]
#                             [--timeout 120] [--bin PATH]
#
# Clients (scripts/interop/CLIENT.sh, each defining the same client_* functions): transmission,
# qbittorrent, rtorrent, ctorrent, deluge, aria2, libtorrent [all].
# Cells [all]:
#   A1  the client downloads from one seed of ours
#   A3  the client downloads from three seeds of ours (A selects A1 and A3)
#   B   our peer downloads from the client seeding (our torrent)
#   C   our peer downloads the client's OWN torrent (made by its tool, its piece length)
#   D   mixed swarm: our seed + the client + two leechers of ours, everyone completes
#   E   forced encryption on both sides (needs `peer --encryption`; else n/a)
#   M   magnet links both ways (needs `peer --magnet`; else n/a)
# --size: the file's size, unit B, KiB, MiB or GiB [4MiB]; --timeout: seconds per cell [120];
# --out: kept after the run [a new /tmp/interop-matrix.*]; --bin: our binary [target/debug].
#
# Why namespaces: real clients ignore or refuse several peers on 127.0.0.0/8 (Transmission
# drops them, libtorrent allows one connection per address). In each cell our tracker and peers
# live in namespace PREFIX-o (10.77.0.1 the tracker, 10.77.0.11-14 our peers), the client in
# PREFIX-c (10.77.0.2), joined by one veth pair; nothing is added to the machine's own
# namespace. Fixed ports are safe there: the namespaces are new for every cell.
#
# Exit status: 0 when no cell failed, 1 when one did, 2 on a usage error, 77 (and a SKIPPED
# banner) when this machine cannot run it (not root, no `ip netns`).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
all_clients=(transmission qbittorrent rtorrent ctorrent deluge aria2 libtorrent)
all_cells=(A1 A3 B C D E M)

# The cell mode: `interop-matrix.sh --run-cell CLIENT CELL`, run by the main mode below under
# `timeout`, with the settings in the environment.
if [[ "${1:-}" = --run-cell ]]; then
  client="$2"
  cell="$3"
  # shellcheck source=scripts/interop/common.sh
  source "$here/interop/common.sh"
  # shellcheck source=scripts/interop/cells.sh
  source "$here/interop/cells.sh"
  # shellcheck source=/dev/null
  source "$here/interop/$client.sh"
  our_flags=()
  # shellcheck disable=SC2034 # read by the adapters
  force_encryption=0
  # shellcheck disable=SC2034 # read by the adapters
  keep_seeding=0 # a leeching client may exit once complete, unless a cell sets this
  cdir="$cell_dir/client"
  mkdir -p "$cdir"
  cell_deadline_ms=$(($(now_ms) + timeout_s * 1000))
  # shellcheck disable=SC2317 # run by the trap
  on_exit() {
    trap '' INT TERM
    client_stop >>"$cell_dir/cell.log" 2>&1 || true
    teardown_network
  }
  trap on_exit EXIT
  trap 'fail "killed at the hard deadline"' TERM
  make_network
  "cell_$cell"
  fail "cell_$cell returned without a verdict"
fi

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}

clients_arg="$(IFS=,; echo "${all_clients[*]}")"
cells_arg="$(IFS=,; echo "${all_cells[*]}")"
size_arg=4MiB
out_dir=""
timeout_s=120
bin="$root/target/debug/bittorrent-sim"
while (($#)); do
  case "$1" in
    --clients) clients_arg="${2:?}"; shift 2 ;;
    --cells) cells_arg="${2:?}"; shift 2 ;;
    --size) size_arg="${2:?}"; shift 2 ;;
    --out) out_dir="${2:?}"; shift 2 ;;
    --timeout) timeout_s="${2:?}"; shift 2 ;;
    --bin) bin="${2:?}"; shift 2 ;;
    -h | --help) usage ;;
    *) echo "interop-matrix: unknown option $1" >&2; usage ;;
  esac
done

# shellcheck source=scripts/lib/size.sh
source "$here/lib/size.sh"
size_bytes=$(size_arg --size "$size_arg") || exit 2
[[ "$timeout_s" =~ ^[0-9]+$ ]] || { echo "interop-matrix: --timeout is whole seconds" >&2; exit 2; }
# Our torrents' piece length: at least 4 pieces in a small file, 256 KiB (our default) otherwise.
if ((size_bytes < 4 * 1024 * 1024)); then piece_length=16KiB; else piece_length=256KiB; fi

IFS=, read -r -a clients <<<"$clients_arg"
IFS=, read -r -a cells_given <<<"$cells_arg"
cells=()
for c in "${cells_given[@]}"; do
  case "$c" in
    A) cells+=(A1 A3) ;;
    A1 | A3 | B | C | D | E | M) cells+=("$c") ;;
    *) echo "interop-matrix: unknown cell $c (A, A1, A3, B, C, D, E, M)" >&2; exit 2 ;;
  esac
done
for c in "${clients[@]}"; do
  [[ -f "$here/interop/$c.sh" ]] || { echo "interop-matrix: unknown client $c (${all_clients[*]})" >&2; exit 2; }
done

skipped() {
  local line
  line="$(printf '=%.0s' {1..78})"
  printf '%s\nSKIPPED: interop-matrix: %s\n%s\n' "$line" "$*" "$line"
  exit 77
}
[[ "$(uname -s)" = Linux ]] || skipped "network namespaces are a Linux feature"
[[ "$(id -u)" -eq 0 ]] || skipped "needs root (network namespaces): try sudo $0"
command -v ip >/dev/null || skipped "needs ip (Debian package iproute2)"
probe="btmx$$-probe"
ip netns add "$probe" 2>/dev/null || skipped "cannot create a network namespace (ip netns add): a container that forbids it?"
ip netns del "$probe"
[[ -x "$bin" ]] || { echo "interop-matrix: no binary at $bin (cargo build, or --bin)" >&2; exit 2; }

[[ -n "$out_dir" ]] || out_dir="$(mktemp -d /tmp/interop-matrix.XXXXXX)"
mkdir -p "$out_dir"
out_dir="$(cd "$out_dir" && pwd)"
prefix="btmx$$"
export bin size_bytes piece_length timeout_s out_dir prefix

cleanup() {
  local ns
  trap '' INT TERM
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^$prefix-" || true); do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The version a client reports, for the table.
# shellcheck source=/dev/null
client_version_of() { (source "$here/interop/$1.sh" && client_version 2>/dev/null | head -1) || echo "?"; }

declare -A result
failures=0
echo "interop-matrix: ${#clients[@]} clients x ${#cells[@]} cells, file $size_arg ($size_bytes bytes), piece length $piece_length, logs in $out_dir" >&2
for client in "${clients[@]}"; do
  for cell in "${cells[@]}"; do
    cell_dir="$out_dir/$client/$cell"
    rm -rf "$cell_dir"
    mkdir -p "$cell_dir"
    export cell_dir
    printf 'interop-matrix: %-12s %-3s ... ' "$client" "$cell" >&2
    status=0
    timeout --kill-after=10 $((timeout_s + 60)) bash "$0" --run-cell "$client" "$cell" \
      >>"$cell_dir/cell.log" 2>&1 || status=$?
    if [[ -s "$cell_dir/result" ]]; then
      verdict="$(head -1 "$cell_dir/result")"
    else
      verdict="FAIL (the cell ended with status $status and no verdict; see $client/$cell/cell.log)"
    fi
    [[ "$verdict" = FAIL* ]] && failures=$((failures + 1))
    [[ "$cell" = C && -s "$cell_dir/tool" && "$verdict" = ok* ]] && verdict+=" ($(cat "$cell_dir/tool"))"
    result[$client.$cell]="$verdict"
    echo "$verdict" >&2
  done
done

{
  header="$(IFS='|'; echo "${cells[*]}")"
  echo "| client | ${header//|/ | } |"
  printf '|---|'
  for _ in "${cells[@]}"; do printf -- '---|'; done
  echo
  for client in "${clients[@]}"; do
    printf '| %s |' "$(client_version_of "$client")"
    for cell in "${cells[@]}"; do printf ' %s |' "${result[$client.$cell]}"; done
    echo
  done
  echo
  echo "File $size_arg ($size_bytes bytes, our piece length $piece_length), deadline ${timeout_s}s per cell, $(date -u '+%Y-%m-%d %H:%M UTC'); logs: $out_dir/CLIENT/CELL/."
} | tee "$out_dir/matrix.md"
((failures == 0))
