# shellcheck shell=bash
# lab/lib/net.sh, sourced by lab/lab.sh: the network of the lab: one namespace per host, each
# with eth0 (10.99.0.I/24) on a veth whose far end sits in the switch namespace, the emulation of
# delay, jitter, loss and rate on every host's egress (tc netem, or lab/netemu.py and tc tbf),
# and the probes that show it (a TCP exchange, a round trip, bytes sent).
# shellcheck disable=SC2034 # switch_ns is read by describe_links
# shellcheck disable=SC2154 # the settings are lab.sh's globals, set in lib/options.sh

positive() { awk -v n="$1" 'BEGIN { exit !(n > 0) }'; }
build_network() {
  local i ns burst bps ports=() impaired=0
  switch_ns="$prefix-sw"
  if positive "$delay_ms" || positive "$jitter_ms" || positive "$loss_pct"; then impaired=1; fi
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
