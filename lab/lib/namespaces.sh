# shellcheck shell=bash
# lab/lib/namespaces.sh, sourced by lab/lab.sh: the machine side of the lab: can it run here
# (Linux, root, ip and tc, namespaces, veth, bridges, netem), creating namespaces and removing
# them with every process inside, the clean-up on exit, and the `check` and `clean` commands.
# The links between the namespaces are net.sh's.
# shellcheck disable=SC2154 # the settings are lab.sh's globals, set in lib/options.sh

skip() { echo "lab: cannot run here: $*" >&2; exit 77; }

# require_machine: exits 77 (skip) unless this is Linux, we are root, and ip and tc exist.
require_machine() {
  [[ "$(uname -s)" = Linux ]] || skip "network namespaces are a Linux feature"
  [[ "$(id -u)" -eq 0 ]] || skip "needs root (network namespaces, veth, tc): try sudo $0"
  if ! command -v ip >/dev/null || ! command -v tc >/dev/null; then skip "needs ip and tc (Debian package iproute2)"; fi
}

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

# run_clean: the `clean` command: deletes the namespaces of runs that were killed with SIGKILL
# (all btlabPID-* whose PID is gone, or those of --prefix).
run_clean() {
  local stale ns owner
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
}

# run_check: the `check` command: exit 0 (and which emulator) when the lab can run here, 77 and
# why not otherwise.
run_check() {
  local err
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
}
