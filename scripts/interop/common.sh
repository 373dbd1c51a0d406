# shellcheck shell=bash
# scripts/interop/common.sh, sourced by scripts/interop-matrix.sh: the machinery every cell
# shares: the two network namespaces of a cell (ours and the client's, one veth between them),
# our tracker and peers inside ours, polling with a deadline, and a cell's verdict.
# It knows nothing of any client (scripts/interop/CLIENT.sh) nor of what a cell checks
# (scripts/interop/cells.sh).
# shellcheck disable=SC2034 # the settings and last_pid are read by cells.sh and the adapters
# shellcheck disable=SC2154 # bin, prefix, timeout_s, cell_dir, ... are the main script's globals

# The addresses of a cell: our namespace holds the tracker and one address per peer of ours, so
# that a client sees each of our peers on its own real address (never 127.0.0.0/8).
SUBNET=10.77.0
TRACKER_IP="$SUBNET.1"
TRACKER_PORT=6969
CLI_IP="$SUBNET.2"
CLI_PORT=6881
ANNOUNCE="http://$TRACKER_IP:$TRACKER_PORT/announce"
FILE_NAME=matrix.bin

now_ms() { local t="${EPOCHREALTIME//[^0-9]/}"; echo $((t / 1000)); }
our_ip() { echo "$SUBNET.$((10 + $1))"; }
our_port() { echo $((7000 + $1)); }

ns_ours() { echo "$prefix-o"; }
ns_cli() { echo "$prefix-c"; }

# in_ours CMD...: CMD in our namespace; in_cli CMD...: CMD in the client's.
in_ours() { ip netns exec "$(ns_ours)" "$@"; }
in_cli() { ip netns exec "$(ns_cli)" "$@"; }

# cli_bg LOG CMD...: starts CMD in the background in the client's namespace, output to LOG;
# its pid in $last_pid.
cli_bg() {
  local log="$1"
  shift
  ip netns exec "$(ns_cli)" "$@" </dev/null >>"$log" 2>&1 &
  last_pid=$!
}

# Deletes the namespaces NAMES after ending every process inside them (TERM, then KILL).
remove_namespaces() {
  local ns pid tries left
  for ns in "$@"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$pid" 2>/dev/null || true; done
  done
  for ((tries = 0; tries < 30; tries++)); do
    left=""
    for ns in "$@"; do left+="$(ip netns pids "$ns" 2>/dev/null || true)"; done
    [[ -z "$left" ]] && break
    sleep 0.1
  done
  for ns in "$@"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
}

# Creates the cell's two namespaces joined by a veth pair: ours (eth0: the tracker's address and
# one per peer of ours) and the client's (eth0: $CLI_IP). IPv6 off, so nothing but IPv4 flows.
make_network() {
  local o c i
  o="$(ns_ours)"
  c="$(ns_cli)"
  remove_namespaces "$o" "$c"
  ip netns add "$o"
  ip netns add "$c"
  for ns in "$o" "$c"; do
    # shellcheck disable=SC2016 # expanded by sh, in the namespace
    ip netns exec "$ns" sh -c 'for f in /proc/sys/net/ipv6/conf/all/disable_ipv6 /proc/sys/net/ipv6/conf/default/disable_ipv6; do [ -w "$f" ] && echo 1 > "$f"; done; true'
    ip -n "$ns" link set lo up
  done
  ip -n "$o" link add eth0 type veth peer name eth0 netns "$c"
  ip -n "$o" addr add "$TRACKER_IP/24" dev eth0
  for i in 1 2 3 4; do ip -n "$o" addr add "$(our_ip "$i")/24" dev eth0; done
  ip -n "$c" addr add "$CLI_IP/24" dev eth0
  ip -n "$o" link set eth0 up
  ip -n "$c" link set eth0 up
}

teardown_network() { remove_namespaces "$(ns_cli)" "$(ns_ours)"; }

# fail REASON: the cell's verdict is FAIL (REASON); ends the cell (a subshell).
fail() {
  echo "FAIL ($*)" >"$cell_dir/result"
  echo "cell: FAIL: $*" >>"$cell_dir/cell.log"
  exit 1
}
impossible() {
  echo "impossible: $*" >"$cell_dir/result"
  exit 0
}
not_here() {
  echo "n/a: $*" >"$cell_dir/result"
  exit 0
}
note() { echo "cell: $*" >>"$cell_dir/cell.log"; }

cell_started_ms=0
start_clock() { cell_started_ms="$(now_ms)"; }
# ok [NOTE]: the verdict "ok S.s s", the time since start_clock, then NOTE in brackets.
ok() {
  local ms=$(($(now_ms) - cell_started_ms))
  printf 'ok %d.%d s%s\n' $((ms / 1000)) $((ms % 1000 / 100)) "${1:+ ($1)}" >"$cell_dir/result"
  exit 0
}

# wait_until WHAT CMD...: polls CMD every 0.2 s until it succeeds; fails the cell at the deadline.
wait_until() {
  local what="$1"
  shift
  until "$@"; do
    (($(now_ms) < cell_deadline_ms)) || fail "timed out after ${timeout_s}s waiting for $what"
    sleep 0.2
  done
}

# grep_log FILE PATTERN: FILE has a line matching PATTERN (extended regex).
grep_log() { grep -qE -- "$2" "$1" 2>/dev/null; }

# Writes SIZE random bytes to FILE.
make_file() { head -c "$size_bytes" /dev/urandom >"$1"; }

# our_torrent FILE OUT: our `create` with our tracker's HTTP announce URL; prints the info-hash.
our_torrent() {
  local out
  out="$("$bin" create "$1" --piece-length "$piece_length" --tracker "$ANNOUNCE" -o "$2")"
  sed -n 's/.*info-hash \([0-9a-f]\{40\}\).*/\1/p' <<<"$out"
}

# torrent_facts TORRENT: "INFO-HASH PIECE-LENGTH" of any .torrent (ours or a client's).
torrent_facts() {
  /usr/bin/python3 - "$1" <<'PY'
import hashlib, sys
data = open(sys.argv[1], 'rb').read()
def skip(i):
    c = data[i:i+1]
    if c == b'i': return data.index(b'e', i) + 1
    if c in (b'l', b'd'):
        i += 1
        while data[i:i+1] != b'e': i = skip(i)
        return i + 1
    colon = data.index(b':', i)
    return colon + 1 + int(data[i:colon])
start = data.index(b'4:info') + 6
info = data[start:skip(start)]
at = info.index(b'12:piece lengthi') + 16
print(hashlib.sha1(info).hexdigest(), int(info[at:info.index(b'e', at)]))
PY
}

# start_tracker [TORRENT]: our tracker on $TRACKER_IP, telling peers apart by address (--remote).
start_tracker() {
  local extra=()
  [[ -n "${1:-}" ]] && extra=(--torrent "$1")
  in_ours "$bin" tracker --remote --bind "$TRACKER_IP" --port "$TRACKER_PORT" --no-page-port \
    --announce-interval 5s "${extra[@]}" </dev/null >"$cell_dir/tracker.log" 2>&1 &
  wait_until "our tracker to listen" grep_log "$cell_dir/tracker.log" 'tracker listening on'
}

# our_peer N ARGS...: our peer number N (address our_ip N, port our_port N), log ourN.log,
# downloading continuously from every holder; ARGS say what it holds (--seed FILE or
# --torrent T --dir D or --magnet URI --dir D).
our_peer() {
  local n="$1"
  shift
  # `ip netns exec` execs our binary, so $! is our peer's own pid (for stop_our_peer).
  RUST_LOG="${RUST_LOG:-info}" ip netns exec "$(ns_ours)" "$bin" peer --port "$(our_port "$n")" --bind "$(our_ip "$n")" \
    --tracker "$TRACKER_IP:$TRACKER_PORT" --min-peers 1 --round-interval 0 --parallel 4 \
    --ping-interval 1s --report-interval 1s --tracker-wait 10s "${our_flags[@]}" "$@" \
    </dev/null >"$cell_dir/our$n.log" 2>&1 &
  our_pid[n]=$!
  wait_until "our peer $n to listen" grep_log "$cell_dir/our$n.log" 'listening on'
}

our_pid=()
# stop_our_peer N: ends our peer N and waits until it is gone.
stop_our_peer() {
  kill "${our_pid[$1]}" 2>/dev/null || true
  wait_until "our peer $1 to exit" peer_gone "$1"
}
peer_gone() { ! kill -0 "${our_pid[$1]}" 2>/dev/null; }
our_complete() { grep_log "$cell_dir/our$1.log" 'download complete: .* verified'; }

# same FILE COPY: fails the cell unless COPY is byte-identical to FILE (within 5 s: a client may
# report completion just before its last write reaches the file).
same() {
  local tries
  for ((tries = 0; tries < 25; tries++)); do
    cmp -s "$1" "$2" 2>/dev/null && return 0
    sleep 0.2
  done
  [[ -f "$2" ]] || fail "no file at ${2#"$out_dir/"}"
  cmp -s "$1" "$2" || fail "${2#"$out_dir/"} differs from the original ($(cmp "$1" "$2" 2>&1 | head -1))"
}
