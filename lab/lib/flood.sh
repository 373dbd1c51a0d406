# shellcheck shell=bash
# lab/lib/flood.sh, sourced by lab/lab.sh: `lab.sh flood`: the UDP assignment's topology, peers
# 1-5 on hosts 1-5 and two clients on hosts 6 and 7; checks and prints both clients' logs.
# shellcheck disable=SC2154 # the settings are lab.sh's globals, set in lib/options.sh

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
  cd "$dir" || exit 1 # the peers find their chunks, and the clients write their logs, here
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
  cd "$root" || exit 1
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
