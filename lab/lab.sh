#!/usr/bin/env bash
# lab/lab.sh: a lab of N hosts on one Linux machine, with delay, jitter, loss and a rate limit
# on every link, running the tracker swarm or the flooding chunk network. Needs root.
#
#   lab/lab.sh [swarm] [OPTIONS]   a tracker (--remote) on host 1, a seed on host 2, a
#                                  downloading peer on each other host; waits until every peer
#                                  holds the file, compares every copy, asks the tracker whom
#                                  it lists, prints a summary
#   lab/lab.sh flood [OPTIONS]     the UDP assignment's topology: peers 1-5 on hosts 1-5 (links
#                                  1-2, 1-3, 2-5, 3-5, 4-5), client 1 on host 6 asks peer 1 for
#                                  5,6,7, client 2 on host 7 asks peer 4 for 1,3,4,5,9; checks
#                                  and prints both clients' logs
#   lab/lab.sh check               can this machine run the lab? exit 0 (says which emulator)
#                                  or 77 (says why not)
#   lab/lab.sh clean [--prefix P]  delete namespaces left by a run that was killed with SIGKILL
#
# Each host is a network namespace PREFIX-hI with one interface, eth0, address 10.99.0.I/24.
# The hosts' veths meet in a switch namespace PREFIX-sw, so no address, route or link is ever
# added to the machine's own namespace and no packet can leave the machine. Everything
# (processes, namespaces, links) is removed on exit, on Ctrl+C and on SIGTERM.
#
# Options (defaults in brackets):
#   --hosts N              swarm: hosts, tracker included, 3 to 200 [9]
#   --delay D              one-way delay added to each host's egress [20ms]
#   --jitter D             delay variation, +/- [5ms]
#   --loss P               loss on each host's egress, percent [1%]
#   --rate R               rate limit of each host's egress, tc syntax (kbit, mbit, gbit), or
#                          none [100mbit]
#   --file-size S          swarm: size of the shared file (KiB, MiB, GiB) [4MiB]
#   --piece-length S       swarm: piece length [256KiB]
#   --parallel N           swarm: peer --parallel [4]
#   --round-interval D     swarm: peer --round-interval [0]
#   --ping-interval D      swarm: peer --ping-interval [2s]
#   --report-interval D    swarm: peer --report-interval [2s]
#   --min-peers N          swarm: peer --min-peers [1]
#   --cleanup-interval D   swarm: tracker --cleanup-interval [10s]
#   --client-timeout D     flood: client --timeout [5s]
#   --timeout D            give up when the run has not finished after this long [300s]
#   --emulator E           auto, netem or user [auto]: netem is tc netem; user is lab/netemu.py,
#                          a user-space switch applying the same delay, jitter and loss, for
#                          kernels without sch_netem (the rate limit is then a tc tbf qdisc)
#   --bin PATH             the bittorrent-sim binary [build with cargo, target/debug]
#   --workdir DIR          where files and logs go, kept after the run [a new /tmp/btlab.*]
#   --prefix P             namespace name prefix [btlabPID]
#   --hold                 after the summary, keep the lab up until Ctrl+C (try
#                          `ip netns exec PREFIX-h3 bash`)
#
# Exit status: 0 when every check passed, 1 when one failed, 2 on a usage error, 77 when this
# machine cannot run the lab (not root, or no network namespaces).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"

# ---------------------------------------------------------------- options

mode=swarm
case "${1:-}" in
  swarm|flood|check|clean) mode="$1"; shift ;;
esac

hosts=9 delay=20ms jitter=5ms loss=1% rate=100mbit
file_size=4MiB piece_length=256KiB parallel=4 round_interval=0 ping_interval=2s
report_interval=2s min_peers=1 cleanup_interval=10s client_timeout=5s timeout=300s
emulator=auto bin="" workdir="" prefix="btlab$$" prefix_given=0 hold=0
subnet=10.99.0 tracker_port=6000 peer_port=7001

usage_error() { echo "lab: $*" >&2; echo "lab: see $0 --help" >&2; exit 2; }

while (($#)); do
  opt="$1"
  case "$opt" in
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    --hold) hold=1; shift; continue ;;
  esac
  (($# >= 2)) || usage_error "$opt needs a value"
  value="$2"
  shift 2
  case "$opt" in
    --hosts) hosts="$value" ;;
    --delay) delay="$value" ;;
    --jitter) jitter="$value" ;;
    --loss) loss="$value" ;;
    --rate) rate="$value" ;;
    --file-size) file_size="$value" ;;
    --piece-length) piece_length="$value" ;;
    --parallel) parallel="$value" ;;
    --round-interval) round_interval="$value" ;;
    --ping-interval) ping_interval="$value" ;;
    --report-interval) report_interval="$value" ;;
    --min-peers) min_peers="$value" ;;
    --cleanup-interval) cleanup_interval="$value" ;;
    --client-timeout) client_timeout="$value" ;;
    --timeout) timeout="$value" ;;
    --emulator) emulator="$value" ;;
    --bin) bin="$value" ;;
    --workdir) workdir="$value" ;;
    --prefix) prefix="$value" prefix_given=1 ;;
    *) usage_error "unknown option $opt" ;;
  esac
done

# Milliseconds (may be fractional) of a duration: 20ms, 1.5s, 500us, 0.
duration_ms() {
  local text="$1" num unit
  [[ "$text" =~ ^([0-9]+(\.[0-9]+)?)(us|ms|s)?$ ]] || return 1
  num="${BASH_REMATCH[1]}" unit="${BASH_REMATCH[3]}"
  [[ -n "$unit" || "$num" = 0 ]] || return 1
  case "$unit" in
    us) awk -v n="$num" 'BEGIN { print n / 1000 }' ;;
    s) awk -v n="$num" 'BEGIN { print n * 1000 }' ;;
    *) echo "$num" ;;
  esac
}
# Bytes of a size: 4MiB, 512KiB, 1000.
size_bytes() {
  [[ "$1" =~ ^([0-9]+)(B|KiB|MiB|GiB)?$ ]] || return 1
  case "${BASH_REMATCH[2]}" in
    KiB) echo $((BASH_REMATCH[1] << 10)) ;;
    MiB) echo $((BASH_REMATCH[1] << 20)) ;;
    GiB) echo $((BASH_REMATCH[1] << 30)) ;;
    *) echo "${BASH_REMATCH[1]}" ;;
  esac
}
# Bits per second of a tc rate: 100mbit, 512kbit, 1gbit, 8000bit.
rate_bps() {
  [[ "$1" =~ ^([0-9]+)(bit|kbit|mbit|gbit)$ ]] || return 1
  case "${BASH_REMATCH[2]}" in
    kbit) echo $((BASH_REMATCH[1] * 1000)) ;;
    mbit) echo $((BASH_REMATCH[1] * 1000000)) ;;
    gbit) echo $((BASH_REMATCH[1] * 1000000000)) ;;
    *) echo "${BASH_REMATCH[1]}" ;;
  esac
}

delay_ms="$(duration_ms "$delay")" || usage_error "--delay $delay: expected e.g. 20ms"
jitter_ms="$(duration_ms "$jitter")" || usage_error "--jitter $jitter: expected e.g. 5ms"
[[ "$loss" =~ ^([0-9]+(\.[0-9]+)?)%?$ ]] || usage_error "--loss $loss: expected e.g. 1%"
loss_pct="${BASH_REMATCH[1]}"
awk -v l="$loss_pct" 'BEGIN { exit !(l <= 100) }' || usage_error "--loss $loss: at most 100%"
[[ "$rate" = none ]] || rate_bps "$rate" >/dev/null || usage_error "--rate $rate: expected e.g. 100mbit or none"
file_bytes="$(size_bytes "$file_size")" || usage_error "--file-size $file_size: expected e.g. 4MiB"
size_bytes "$piece_length" >/dev/null || usage_error "--piece-length $piece_length: expected e.g. 256KiB"
((file_bytes > 0)) || usage_error "--file-size must be above 0"
timeout_ms="$(duration_ms "$timeout")" || usage_error "--timeout $timeout: expected e.g. 300s"
timeout_s="${timeout_ms%.*}"; timeout_s=$(((timeout_s + 999) / 1000))
client_timeout_ms="$(duration_ms "$client_timeout")" || usage_error "--client-timeout $client_timeout: expected e.g. 5s"
for d in "$round_interval" "$ping_interval" "$report_interval" "$cleanup_interval"; do
  duration_ms "$d" >/dev/null || usage_error "bad duration $d: expected e.g. 2s"
done
if [[ ! "$hosts" =~ ^[0-9]+$ ]] || ((hosts < 3 || hosts > 200)); then usage_error "--hosts $hosts: 3 to 200"; fi
[[ "$parallel" =~ ^[0-9]+$ && "$min_peers" =~ ^[0-9]+$ ]] || usage_error "--parallel and --min-peers take a number"
case "$emulator" in auto|netem|user) ;; *) usage_error "--emulator $emulator: auto, netem or user" ;; esac
[[ "$prefix" =~ ^[A-Za-z0-9_.-]+$ && ${#prefix} -le 40 ]] || usage_error "--prefix $prefix: letters, digits, _ . - (at most 40)"
if [[ "$mode" = flood ]]; then hosts=7; fi

# ---------------------------------------------------------------- the machine

skip() { echo "lab: cannot run here: $*" >&2; exit 77; }

[[ "$(uname -s)" = Linux ]] || skip "network namespaces are a Linux feature"
[[ "$(id -u)" -eq 0 ]] || skip "needs root (network namespaces, veth, tc): try sudo $0"
if ! command -v ip >/dev/null || ! command -v tc >/dev/null; then skip "needs ip and tc (Debian package iproute2)"; fi

# Namespaces this run created, in creation order; processes it started (outside namespaces).
created=()
pids=()

kill_namespace_processes() {
  local ns="$1" signal="$2" pid
  for pid in $(ip netns pids "$ns" 2>/dev/null); do
    kill "-$signal" "$pid" 2>/dev/null || true
  done
}

# Ends every process in the namespaces NAMES, then deletes them. Returns 1 if one is left.
remove_namespaces() {
  local ns left tries
  (($#)) || return 0
  for ns in "$@"; do kill_namespace_processes "$ns" TERM; done
  for ((tries = 0; tries < 50; tries++)); do
    left=""
    for ns in "$@"; do left+="$(ip netns pids "$ns" 2>/dev/null)"; done
    [[ -z "$left" ]] && break
    sleep 0.1
  done
  for ns in "$@"; do kill_namespace_processes "$ns" KILL; done
  for ns in "$@"; do ip netns del "$ns" 2>/dev/null || true; done
  for ns in "$@"; do
    if [[ -e "/run/netns/$ns" ]]; then echo "lab: could not delete namespace $ns" >&2; return 1; fi
  done
}

# Our namespaces as `ip netns list` shows them (names only).
namespaces_with_prefix() {
  ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^$(printf '%s' "$1" | sed 's/[.]/\\./g')-(sw|h[0-9]+|probe[0-9]*)$" || true
}

cleaned=0
cleanup() {
  local status=$? pid names
  ((cleaned)) && return
  cleaned=1
  trap '' INT TERM # finish the clean-up even if Ctrl+C is pressed again
  mapfile -t names < <(namespaces_with_prefix "$prefix")
  remove_namespaces "${created[@]}" "${names[@]}" || status=1
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ "$mode" = swarm || "$mode" = flood ]] && ((${#created[@]} + ${#names[@]})); then
    mapfile -t names < <(namespaces_with_prefix "$prefix")
    if ((${#names[@]})); then
      echo "lab: LEFT BEHIND: ${names[*]}" >&2
      status=1
    else
      echo "lab: torn down: namespaces $prefix-* deleted, their links and processes gone"
    fi
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'echo "lab: interrupted" >&2; exit 130' INT
trap 'echo "lab: terminated" >&2; exit 143' TERM

add_namespace() {
  ip netns add "$1"
  created+=("$1")
  # Only IPv4 in the lab: no IPv6 router solicitations or neighbour discovery chatter.
  # shellcheck disable=SC2016 # expanded by sh, in the namespace
  ip netns exec "$1" sh -c 'for f in /proc/sys/net/ipv6/conf/all/disable_ipv6 /proc/sys/net/ipv6/conf/default/disable_ipv6; do [ -w "$f" ] && echo 1 > "$f"; done; true'
  ip -n "$1" link set lo up
}

# Is sch_netem there? Tried on a throwaway veth pair inside namespace NS.
netem_works() {
  local ns="$1" ok=1
  ip -n "$ns" link add probe0 type veth peer name probe1 || return 1
  tc -n "$ns" qdisc add dev probe0 root netem delay 1ms 2>/dev/null || ok=0
  ip -n "$ns" link del probe0
  ((ok))
}

if [[ "$mode" = clean ]]; then
  if ((prefix_given)); then
    mapfile -t stale < <(namespaces_with_prefix "$prefix")
  else
    # Namespaces btlabPID-* of runs whose script (PID) is no longer running.
    stale=()
    while IFS= read -r ns; do
      owner="${ns#btlab}"
      owner="${owner%%-*}"
      kill -0 "$owner" 2>/dev/null || stale+=("$ns")
    done < <(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^btlab[0-9]+-(sw|h[0-9]+|probe[0-9]*)$' || true)
  fi
  remove_namespaces "${stale[@]}"
  echo "lab: removed ${#stale[@]} namespace(s)${stale[*]:+: ${stale[*]}}"
  exit 0
fi

if [[ "$mode" = check ]]; then
  if ! err="$(ip netns add "$prefix-probe1" 2>&1)"; then
    skip "cannot create a network namespace (ip netns add: ${err:-failed}): a container or sandbox that forbids it?"
  fi
  created+=("$prefix-probe1")
  add_namespace "$prefix-probe2"
  ip -n "$prefix-probe1" link add eth0 type veth peer name p1 netns "$prefix-probe2" \
    || skip "cannot create a veth pair between namespaces"
  ip -n "$prefix-probe2" link add br0 type bridge || skip "cannot create a bridge"
  if netem_works "$prefix-probe1"; then
    echo "lab: this machine can run the lab; emulator: netem (tc netem)"
  elif command -v python3 >/dev/null; then
    tc -n "$prefix-probe1" qdisc add dev eth0 root tbf rate 1mbit burst 4kb latency 100ms \
      || skip "the kernel has neither sch_netem nor sch_tbf"
    echo "lab: this machine can run the lab; emulator: user (the kernel has no sch_netem: lab/netemu.py emulates delay, jitter and loss, tc tbf the rate)"
  else
    skip "the kernel has no sch_netem and python3 (for lab/netemu.py) is missing"
  fi
  exit 0
fi

# ---------------------------------------------------------------- the program

if [[ -z "$bin" ]]; then
  target="${CARGO_TARGET_DIR:-$root/target}"
  [[ "$target" = /* ]] || target="$root/$target"
  if command -v cargo >/dev/null; then
    echo "== building"
    (cd "$root" && cargo build --quiet)
  fi
  bin="$target/debug/bittorrent-sim"
fi
[[ -x "$bin" ]] || usage_error "no binary at $bin: run cargo build first, or give --bin PATH"
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"

if [[ -z "$workdir" ]]; then workdir="$(mktemp -d "${TMPDIR:-/tmp}/btlab.XXXXXX")"; fi
mkdir -p "$workdir"
workdir="$(cd "$workdir" && pwd)"
mkdir -p "$workdir/logs"
case "${RUST_LOG:-}" in debug|trace) ;; *) export RUST_LOG=info ;; esac # the summary reads info lines
# Marks every process of this run (in /proc/PID/environ), so a test can tell none is left.
export BTLAB_RUN="$prefix"

now_ms() { local t="${EPOCHREALTIME//[^0-9]/}"; echo $((t / 1000)); }
started_ms="$(now_ms)"
deadline_ms=$((started_ms + timeout_s * 1000))
over_deadline() { (($(now_ms) > deadline_ms)); }

host_ns() { echo "$prefix-h$1"; }
host_ip() { echo "$subnet.$1"; }

# ---------------------------------------------------------------- the network

switch_ns="$prefix-sw"
positive() { awk -v n="$1" 'BEGIN { exit !(n > 0) }'; }
impaired=0
if positive "$delay_ms" || positive "$jitter_ms" || positive "$loss_pct"; then impaired=1; fi
build_network() {
  local i ns burst bps ports=()
  add_namespace "$switch_ns"
  if [[ "$emulator" = auto ]]; then
    if netem_works "$switch_ns"; then
      emulator=netem
    elif ((impaired)); then
      emulator=user
    else
      emulator=bridge # nothing to emulate but the rate: the kernel bridge and tc tbf do it
    fi
  elif [[ "$emulator" = netem ]] && ! netem_works "$switch_ns"; then
    echo "lab: the kernel has no sch_netem (tc netem); use --emulator user or auto" >&2
    exit 1
  fi
  if [[ "$emulator" != user ]]; then
    ip -n "$switch_ns" link add br0 type bridge
    ip -n "$switch_ns" link set br0 up
  else
    command -v python3 >/dev/null || { echo "lab: --emulator user needs python3" >&2; exit 1; }
  fi
  for ((i = 1; i <= hosts; i++)); do
    ns="$(host_ns "$i")"
    add_namespace "$ns"
    # The veth pair is created inside the host and its far end moved straight into the switch:
    # it never exists in the machine's own namespace.
    ip -n "$ns" link add eth0 type veth peer name "h$i" netns "$switch_ns"
    ip -n "$ns" addr add "$(host_ip "$i")/24" dev eth0
    # One segment per packet, so that loss and rate act on wire-sized packets, not 64 KiB
    # offload bursts.
    ip -n "$ns" link set eth0 gso_max_segs 1
    ip -n "$ns" link set eth0 up
    [[ "$emulator" = user ]] || ip -n "$switch_ns" link set "h$i" master br0
    if [[ "$emulator" = netem ]]; then
      local netem=()
      if positive "$delay_ms" || positive "$jitter_ms"; then netem+=(delay "${delay_ms}ms"); fi
      if positive "$jitter_ms"; then netem+=("${jitter_ms}ms"); fi
      if positive "$loss_pct"; then netem+=(loss "${loss_pct}%"); fi
      if [[ "$rate" != none ]]; then netem+=(rate "$rate"); fi
      tc -n "$ns" qdisc add dev eth0 root netem "${netem[@]}"
    else
      ports+=(--port "h$i:$delay_ms:$jitter_ms:$loss_pct")
      if [[ "$rate" != none ]]; then
        bps="$(rate_bps "$rate")"
        burst=$((bps / 8 / 100)) # 10 ms worth, at least two packets
        ((burst >= 3200)) || burst=3200
        tc -n "$ns" qdisc add dev eth0 root tbf rate "$rate" burst "$burst" latency 200ms
      fi
    fi
    ip -n "$switch_ns" link set "h$i" up
  done
  if [[ "$emulator" = user ]]; then
    ip netns exec "$switch_ns" python3 -u "$here/netemu.py" "${ports[@]}" \
      >"$workdir/logs/netemu.log" 2>&1 &
    pids+=($!)
    wait_for "$workdir/logs/netemu.log" '^ready' 10 "the user-space emulator" $!
  fi
}

# wait_for FILE PATTERN SECONDS WHAT [PID]: polls until FILE has a line matching PATTERN; fails
# when the time is up or when process PID has ended.
wait_for() {
  local file="$1" pattern="$2" limit_ms=$(($3 * 1000)) what="$4" pid="${5:-}" start
  start="$(now_ms)"
  until grep -qE -- "$pattern" "$file" 2>/dev/null; do
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
      echo "lab: FAIL: $what ended before '$pattern'; last lines of $file:" >&2
      tail -n 15 "$file" >&2 || true
      exit 1
    fi
    if (($(now_ms) - start > limit_ms)) || over_deadline; then
      echo "lab: FAIL: timed out waiting for $what ('$pattern' in $file)" >&2
      tail -n 15 "$file" >&2 || true
      exit 1
    fi
    sleep 0.1
  done
}

# run_in HOST LOG CMD...: starts CMD in host HOST's namespace, in the background, output to LOG.
# Sets last_pid.
last_pid=""
run_in() {
  local host="$1" log="$2"
  shift 2
  ip netns exec "$(host_ns "$host")" "$@" >"$log" 2>&1 &
  last_pid=$!
  pids+=("$last_pid")
}

# One TCP exchange with a line server from inside host HOST: sends LINES, prints the reply.
tcp_exchange() {
  local host="$1" addr="$2" port="$3" lines="$4"
  # shellcheck disable=SC2016 # expanded by the inner bash
  timeout 10 ip netns exec "$(host_ns "$host")" bash -c '
    exec 3<>"/dev/tcp/$1/$2" || exit 1
    printf "%s" "$3" >&3
    cat <&3' _ "$addr" "$port" "$lines"
}

# Milliseconds for one TCP connect plus one request and its reply (2 round trips) from host
# FROM to the tracker: proof that the delay is on the links.
probe_rtt() {
  local from="$1" to="$2" port="$3"
  # shellcheck disable=SC2016 # expanded by the inner bash
  timeout 10 ip netns exec "$(host_ns "$from")" bash -c '
    start=${EPOCHREALTIME//[^0-9]/}
    exec 3<>"/dev/tcp/$1/$2" || exit 1
    printf "HELP\n" >&3
    IFS= read -r _ <&3
    end=${EPOCHREALTIME//[^0-9]/}
    printf "QUIT\n" >&3
    echo $(((end - start) / 1000))' _ "$to" "$port"
}

tx_bytes() { ip netns exec "$(host_ns "$1")" cat /sys/class/net/eth0/statistics/tx_bytes; }

# Epoch milliseconds of a log line's timestamp (RFC 3339, UTC).
line_ms() { date -d "${1%% *}" +%s%3N; }

describe_links() {
  echo "== lab $prefix: $hosts hosts on $subnet.0/24 (switch namespace $switch_ns), emulator: $emulator"
  if [[ "$emulator" = netem ]]; then
    echo "   each host's eth0: $(tc -n "$(host_ns 1)" qdisc show dev eth0 | head -n 1)"
  elif [[ "$emulator" = bridge ]]; then
    echo "   no delay, jitter or loss asked (this kernel has no sch_netem): a plain bridge"
    [[ "$rate" = none ]] || echo "   each host's eth0: $(tc -n "$(host_ns 1)" qdisc show dev eth0 | head -n 1)"
  else
    echo "   each host's egress: delay ${delay_ms}ms +/- ${jitter_ms}ms, loss ${loss_pct}% (lab/netemu.py in $switch_ns: this kernel has no sch_netem)"
    [[ "$rate" = none ]] || echo "   each host's eth0: $(tc -n "$(host_ns 1)" qdisc show dev eth0 | head -n 1)"
  fi
  echo "   files and logs: $workdir"
}

hold_if_asked() {
  ((hold)) || return 0
  echo "== holding the lab up (--hold); Ctrl+C tears it down. Try: ip netns exec $(host_ns 2) bash"
  trap 'echo; exit 0' INT TERM # the checks passed; ending the hold is no failure
  while :; do sleep 1; done
}

# ---------------------------------------------------------------- swarm

run_swarm() {
  local data="$workdir/seed/lab-file.bin" torrent="$workdir/lab-file.torrent" tracker_ip out hash
  local i ns log failures=0 complete line
  tracker_ip="$(host_ip 1)"
  mkdir -p "$workdir/seed"
  head -c "$file_bytes" /dev/urandom >"$data"
  out="$("$bin" create "$data" --piece-length "$piece_length" --tracker "$tracker_ip:$tracker_port" -o "$torrent")"
  hash="$(sed -n 's/.*info-hash \([0-9a-f]\{40\}\).*/\1/p' <<<"$out")"
  [[ -n "$hash" ]] || { echo "lab: FAIL: create printed no info-hash: $out" >&2; exit 1; }

  build_network
  describe_links
  echo "   host 1 $tracker_ip: tracker; host 2 $(host_ip 2): seed; hosts 3-$hosts: peers; file $file_size ($file_bytes bytes), info-hash $hash"

  local -a start_ms=() peer_pid=()
  run_in 1 "$workdir/logs/tracker.log" "$bin" tracker --remote --bind "$tracker_ip" \
    --port "$tracker_port" --cleanup-interval "$cleanup_interval" --torrent "$torrent"
  local tracker_pid="$last_pid"
  wait_for "$workdir/logs/tracker.log" 'tracker listening on' 20 "the tracker" "$tracker_pid"

  local rtt
  rtt="$(probe_rtt 2 "$tracker_ip" "$tracker_port")" || rtt="?"
  echo "== host 2 -> tracker: TCP connect + one request = ${rtt} ms (two round trips, each 2 x ${delay_ms}ms +/- jitter)"

  local timers=(--ping-interval "$ping_interval" --report-interval "$report_interval"
    --round-interval "$round_interval" --min-peers "$min_peers" --parallel "$parallel")
  for ((i = 2; i <= hosts; i++)); do
    local source=(--torrent "$torrent" --dir "$workdir/h$i")
    if ((i == 2)); then source=(--seed "$data" --piece-length "$piece_length"); fi
    start_ms[i]="$(now_ms)"
    run_in "$i" "$workdir/logs/h$i.log" "$bin" peer --port "$peer_port" --bind "$(host_ip "$i")" \
      --tracker "$tracker_ip:$tracker_port" "${source[@]}" "${timers[@]}"
    peer_pid[i]="$last_pid"
    # The seed first, so that every other peer finds a holder at its first round.
    if ((i == 2)); then wait_for "$workdir/logs/h2.log" 'listening on' 20 "the seed" "$last_pid"; fi
  done

  echo "== waiting for $((hosts - 2)) peers to complete (at most until --timeout $timeout)"
  local -a done_ms=()
  complete=0
  while ((complete < hosts - 2)); do
    complete=0
    for ((i = 3; i <= hosts; i++)); do
      if [[ -n "${done_ms[i]:-}" ]]; then complete=$((complete + 1)); continue; fi
      log="$workdir/logs/h$i.log"
      line="$(grep -m 1 'download complete: .* verified' "$log" 2>/dev/null || true)"
      if [[ -n "$line" ]]; then
        done_ms[i]="$(line_ms "$line")"
        complete=$((complete + 1))
        echo "   host $i $(host_ip "$i"): complete after $((done_ms[i] - start_ms[i])) ms"
      elif ! kill -0 "${peer_pid[i]}" 2>/dev/null; then
        echo "lab: FAIL: the peer on host $i ended; last lines of $log:" >&2
        tail -n 15 "$log" >&2
        exit 1
      fi
    done
    for pid in "$tracker_pid" "${peer_pid[2]}"; do
      kill -0 "$pid" 2>/dev/null || { echo "lab: FAIL: the tracker or the seed ended (see $workdir/logs)" >&2; exit 1; }
    done
    if ((complete < hosts - 2)); then
      if over_deadline; then
        echo "lab: FAIL: $complete of $((hosts - 2)) peers complete after $timeout" >&2
        exit 1
      fi
      sleep 0.2
    fi
  done

  echo "== comparing every copy with the original"
  for ((i = 3; i <= hosts; i++)); do
    if cmp -s "$data" "$workdir/h$i/lab-file.bin"; then
      echo "   host $i: $workdir/h$i/lab-file.bin identical"
    else
      echo "FAIL: host $i: $workdir/h$i/lab-file.bin differs from the original"
      failures=$((failures + 1))
    fi
  done

  # The tracker must list every peer under its own address: poll a little, a peer dropped by
  # the clean-up for a late ping is back at its next ping.
  echo "== asking the tracker (from host 2): SWARMS, then LIST $hash 1"
  local swarms list addrs=() attempt
  for ((attempt = 0; ; attempt++)); do
    swarms="$(tcp_exchange 2 "$tracker_ip" "$tracker_port" $'SWARMS\nQUIT\n' || true)"
    list="$(tcp_exchange 2 "$tracker_ip" "$tracker_port" "LIST $hash 1"$'\nQUIT\n' || true)"
    mapfile -t addrs < <(awk '$1 == "PEER" { split($2, a, ":"); print $2 }' <<<"$list" | sort -u)
    ((${#addrs[@]} == hosts - 1)) && break
    if ((attempt >= 20)) || over_deadline; then break; fi
    sleep 0.5
  done
  sed -n '/^SWARM/p' <<<"$swarms" | sed 's/^/   /'
  sed -n '/^PEER/p' <<<"$list" | sed 's/^/   /'
  if ! grep -q "^SWARM $hash " <<<"$swarms"; then
    echo "FAIL: the tracker's SWARMS does not list $hash"
    failures=$((failures + 1))
  fi
  local expected=() got=()
  for ((i = 2; i <= hosts; i++)); do expected+=("$(host_ip "$i")"); done
  mapfile -t got < <(awk '$1 == "PEER" { print $2 }' <<<"$list" | sed 's/:[0-9]*$//' | sort -u -t. -k4,4n)
  if [[ "${got[*]}" = "${expected[*]}" ]]; then
    echo "   the tracker lists all $((hosts - 1)) peers, each under its own address"
  else
    echo "FAIL: the tracker lists [${got[*]}], expected [${expected[*]}]"
    failures=$((failures + 1))
  fi

  echo
  echo "== summary: $((hosts - 1)) peers on $hosts hosts, ${file_size} file, delay ${delay_ms}ms +/- ${jitter_ms}ms, loss ${loss_pct}%, rate $rate, emulator $emulator"
  echo "   uploaded = piece payload the peer sent (sum of its 'send piece ... (N bytes)' log lines);"
  echo "   eth0 tx = every byte its interface sent (headers, retransmissions, tracker traffic)"
  printf '   %-5s %-12s %-7s %14s %14s %14s\n' host address role "completion ms" "uploaded B" "eth0 tx B"
  local total=0 up tx when role
  for ((i = 1; i <= hosts; i++)); do
    tx="$(tx_bytes "$i")"
    if ((i == 1)); then
      printf '   %-5s %-12s %-7s %14s %14s %14s\n' "h1" "$tracker_ip" tracker - - "$tx"
      continue
    fi
    up="$(awk '/ send piece .* bytes\)$/ { gsub(/[()]/, "", $(NF-1)); n += $(NF-1) } END { print n + 0 }' "$workdir/logs/h$i.log")"
    total=$((total + up))
    if ((i == 2)); then role=seed when="-"; else role=peer when=$((done_ms[i] - start_ms[i])); fi
    printf '   %-5s %-12s %-7s %14s %14s %14s\n' "h$i" "$(host_ip "$i")" "$role" "$when" "$up" "$tx"
  done
  echo "   total uploaded: $total bytes = $(awk -v t="$total" -v f="$file_bytes" 'BEGIN { printf "%.2f", t / f }') copies of the file ($((hosts - 2)) needed)"
  if ((failures)); then
    echo "== FAIL: $failures check(s) failed; logs in $workdir/logs"
    return 1
  fi
  echo "== PASS: all $((hosts - 2)) peers complete with identical copies; the tracker lists every peer under its own address"
  hold_if_asked
}

# ---------------------------------------------------------------- flood

run_flood() {
  local dir="$workdir/flood" i failures=0
  mkdir -p "$dir"
  "$bin" flood sample "$dir" >/dev/null
  build_network
  describe_links
  local -A neighbours=([1]="2 3" [2]="1 5" [3]="1 5" [4]="5" [5]="2 3 4")
  local -A holds=([1]="5 6 7 8" [2]="1 2" [3]="3 6 7 8" [4]="6 7 8" [5]="9 10")
  echo "   hosts 1-5: peers (links 1-2, 1-3, 2-5, 3-5, 4-5); host 6: client 1 -> peer 1 wants 5,6,7; host 7: client 2 -> peer 4 wants 1,3,4,5,9"
  local n args
  cd "$dir" # the peers find their chunks, and the clients write their logs, here
  for n in 1 2 3 4 5; do
    args=()
    for i in ${neighbours[$n]}; do args+=("$(host_ip "$i"):500$i"); done
    run_in "$n" "$workdir/logs/peer$n.log" "$bin" flood peer "$(host_ip "$n"):500$n" \
      "key-values-files_peer$n" "${args[@]}"
    echo "$last_pid" >"$workdir/logs/peer$n.pid"
  done
  for n in 1 2 3 4 5; do
    wait_for "$workdir/logs/peer$n.log" 'listening on' 20 "peer $n" "$(cat "$workdir/logs/peer$n.pid")"
  done
  local c1_ip c2_ip
  c1_ip="$(host_ip 6)" c2_ip="$(host_ip 7)"
  local -a cpid=() cstart=() cend=()
  cstart[1]="$(now_ms)"
  run_in 6 "$workdir/logs/client1.log" "$bin" flood client "$(host_ip 1):5001" 5,6,7 --bind "$c1_ip" --timeout "$client_timeout"
  cpid[1]="$last_pid"
  cstart[2]="$(now_ms)"
  run_in 7 "$workdir/logs/client2.log" "$bin" flood client "$(host_ip 4):5004" 1,3,4,5,9 --bind "$c2_ip" --timeout "$client_timeout"
  cpid[2]="$last_pid"
  cd "$root"
  local limit=$((${client_timeout_ms%.*} + 30000)) c status
  echo "== waiting for both clients (each at most --client-timeout $client_timeout)"
  while [[ -z "${cend[1]:-}" || -z "${cend[2]:-}" ]]; do
    for c in 1 2; do
      if [[ -z "${cend[c]:-}" ]] && ! kill -0 "${cpid[c]}" 2>/dev/null; then
        cend[c]="$(now_ms)"
        status=0
        wait "${cpid[c]}" || status=$?
        ((status == 0)) || { echo "FAIL: client $c exited with status $status"; failures=$((failures + 1)); }
      fi
    done
    if (($(now_ms) - cstart[1] > limit)) || over_deadline; then
      echo "lab: FAIL: the clients did not finish within $((limit / 1000)) s" >&2
      exit 1
    fi
    sleep 0.1
  done

  # check LOG "received ids" "not found id": as scripts/flood-demo.sh does, with one host per peer.
  check() {
    local log="$1" want="$2" absent="$3" got=() line addr port id peer sorted
    [[ -f "$dir/$log" ]] || { echo "FAIL: $log missing"; failures=$((failures + 1)); return; }
    while IFS= read -r line; do
      if [[ ! "$line" =~ ^([0-9.]+):([0-9]+)\ -\ ([0-9]+)$ ]]; then
        echo "FAIL: $log: bad line '$line'"; failures=$((failures + 1)); continue
      fi
      addr="${BASH_REMATCH[1]}" port="${BASH_REMATCH[2]}" id="${BASH_REMATCH[3]}"
      if [[ "$addr:$port" = 0.0.0.0:0 ]]; then
        [[ " $absent " == *" $id "* ]] || { echo "FAIL: $log: chunk $id logged as not found"; failures=$((failures + 1)); }
        continue
      fi
      peer=$((port - 5000))
      if [[ "$addr" != "$(host_ip "$peer" 2>/dev/null)" || " ${holds[$peer]:-} " != *" $id "* ]]; then
        echo "FAIL: $log: $addr:$port does not hold chunk $id"; failures=$((failures + 1))
      fi
      got+=("$id")
      local chunks="chunks-${log#output-}"
      chunks="${chunks%.log}"
      cmp -s "$dir/$chunks/BigBuckBunny_$id.m4s" "$dir/BigBuckBunny_$id.m4s" \
        || { echo "FAIL: $chunks/BigBuckBunny_$id.m4s differs from its source"; failures=$((failures + 1)); }
    done <"$dir/$log"
    sorted="$(printf '%s\n' "${got[@]}" | sort -n | tr '\n' ' ')"
    [[ "$sorted" = "$want " ]] || { echo "FAIL: $log: received [$sorted] expected [$want]"; failures=$((failures + 1)); }
    if [[ -n "$absent" && "$(tail -n 1 "$dir/$log")" != "0.0.0.0:0 - $absent" ]]; then
      echo "FAIL: $log: last line should be '0.0.0.0:0 - $absent'"; failures=$((failures + 1))
    fi
  }

  echo
  echo "== summary: 5 peers and 2 clients on 7 hosts, delay ${delay_ms}ms +/- ${jitter_ms}ms, loss ${loss_pct}%, rate $rate, emulator $emulator"
  echo "   uploaded = chunk payload the peer sent (sum of its 'send response ... size=N' log lines);"
  echo "   eth0 tx = every byte its interface sent (floods, offers, headers)"
  printf '   %-5s %-16s %-9s %12s %12s %12s\n' host address role "done ms" "uploaded B" "eth0 tx B"
  local up
  for n in 1 2 3 4 5; do
    up="$(awk '/ send response id=[0-9]+ size=[0-9]+ to / { for (i = 1; i <= NF; i++) if ($i ~ /^size=/) { sub(/size=/, "", $i); n += $i } } END { print n + 0 }' "$workdir/logs/peer$n.log")"
    printf '   %-5s %-16s %-9s %12s %12s %12s\n' "h$n" "$(host_ip "$n"):500$n" "peer$n" - "$up" "$(tx_bytes "$n")"
  done
  for c in 1 2; do
    printf '   %-5s %-16s %-9s %12s %12s %12s\n' "h$((c + 5))" "$(host_ip $((c + 5)))" "client$c" "$((cend[c] - cstart[c]))" - "$(tx_bytes $((c + 5)))"
  done
  for log in "output-$c1_ip.log" "output-$c2_ip.log"; do
    echo "== $dir/$log"
    sed 's/^/   /' "$dir/$log" 2>/dev/null || true
  done
  check "output-$c1_ip.log" "5 6 7" ""
  check "output-$c2_ip.log" "1 3 5 9" "4"
  if ((failures)); then
    echo "== FAIL: $failures check(s) failed; logs in $workdir/logs"
    return 1
  fi
  echo "== PASS: client 1 got 5,6,7; client 2 got 1,3,5,9 and logged 0.0.0.0:0 - 4; every chunk equals its source"
  hold_if_asked
}

if [[ "$mode" = flood ]]; then run_flood; else run_swarm; fi
