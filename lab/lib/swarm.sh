# shellcheck shell=bash
# lab/lib/swarm.sh, sourced by lab/lab.sh: `lab.sh swarm`: a tracker (--remote) on host 1, a seed
# on host 2 and a downloading peer on every other host; waits until each holds the file,
# compares the copies, asks the tracker whom it lists, and prints the summary.
# shellcheck disable=SC2154 # the settings are lab.sh's globals, set in lib/options.sh

run_swarm() {
  local data="$workdir/seed/lab-file.bin" torrent="$workdir/lab-file.torrent" tracker_ip out hash
  local i log failures=0 complete line
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
