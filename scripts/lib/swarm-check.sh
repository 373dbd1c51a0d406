# shellcheck shell=bash
# scripts/lib/swarm-check.sh, sourced by test.sh: waiting for the processes of a run (pid files,
# the tracker's port, every peer complete within --timeout), comparing the copies with the
# original, and the summary printed at the end. Starts and stops nothing.

peer_file() { echo "$SWARM/$1/$SAMPLE"; }

# Prints one line per peer; returns 0 if every copy equals the original.
compare_copies() {
  local p ok=0
  for p in "${PEERS[@]}"; do
    if [[ -f $SWARM/$SAMPLE && -f $(peer_file "$p") ]] && cmp -s "$SWARM/$SAMPLE" "$(peer_file "$p")"; then
      printf '  %-6s identical to %s\n' "$p" "$SAMPLE"
    else
      printf '  %-6s DIFFERS from %s (or missing)\n' "$p" "$SAMPLE"
      ok=1
    fi
  done
  return "$ok"
}

pid_of() { local f="$PIDS/$1.pid"; [[ -s $f ]] && cat "$f"; }

# Waits for a pid file, then for the tracker's port.
wait_tracker() {
  local i pid
  for ((i = 0; i < 150; i++)); do
    pid=$(pid_of tracker) || pid=
    if [[ -n $pid ]]; then
      listening "$TRACKER_PORT" && return 0
      [[ -r /proc/net/tcp ]] || { sleep 0.5; return 0; }
      alive "$pid" || break
    fi
    sleep 0.1
  done
  echo "test.sh: the tracker did not start; its log:" >&2
  tail -n 20 "$LOGS/tracker.log" >&2 2>/dev/null || true
  exit 1
}

wait_pidfiles() {
  local i p missing
  for ((i = 0; i < 150; i++)); do
    missing=
    for p in "${PEERS[@]}"; do [[ -s $PIDS/$p.pid ]] || missing+=" $p"; done
    [[ -z $missing ]] && return 0
    sleep 0.1
  done
  echo "test.sh: these processes did not start:$missing" >&2
  exit 1
}

# ---------------------------------------------------------------------------------------------
# Waiting, verifying and the summary (headless and windows modes)

complete_in_log() {
  grep -qE 'download complete:|checked .*: ([0-9]+) of \1 pieces verify' "$LOGS/$1.log" 2>/dev/null
}

last_progress() {
  local got
  got=$(grep -oE '[0-9]+/[0-9]+ pieces' "$LOGS/$1.log" 2>/dev/null | tail -n 1) || true
  echo "${got:-${START_PIECES[$2]}/$NUM_PIECES pieces}"
}

DONE_MS=("" "" "" "")
wait_swarm() {
  local t0=$1 deadline=$(($1 + TIMEOUT * 1000)) i p pid now all
  while :; do
    all=1
    now=$(now_ms)
    for i in 0 1 2 3; do
      p=${PEERS[$i]}
      [[ -n ${DONE_MS[$i]} ]] && continue
      if complete_in_log "$p" || cmp -s "$SWARM/$SAMPLE" "$(peer_file "$p")"; then
        DONE_MS[i]=$((now - t0))
        continue
      fi
      all=0
      pid=$(pid_of "$p") || pid=
      if [[ -z $pid ]] || ! alive "$pid"; then
        echo "test.sh: $p stopped before it was complete" >&2
        return 1
      fi
    done
    ((all)) && return 0
    pid=$(pid_of tracker) || pid=
    if [[ -z $pid ]] || ! alive "$pid"; then
      echo "test.sh: the tracker stopped" >&2
      return 1
    fi
    if ((now > deadline)); then
      echo "test.sh: timed out after ${TIMEOUT}s (--timeout)" >&2
      return 1
    fi
    sleep 0.25
  done
}

summary() {
  local i p state same fail=0
  echo
  say "summary: tracker 127.0.0.1:$TRACKER_PORT, $NUM_PIECES pieces of $PIECE_BYTES bytes, timers ping $PING / report $REPORT / round $ROUND / cleanup $CLEANUP"
  for i in 0 1 2 3; do
    p=${PEERS[$i]}
    if [[ -n ${DONE_MS[$i]} ]]; then
      state="complete after $(secs "${DONE_MS[$i]}")"
    else
      state="NOT complete ($(last_progress "$p" "$i"))"
      fail=1
    fi
    if cmp -s "$SWARM/$SAMPLE" "$(peer_file "$p")"; then same=identical; else same=DIFFERS; fail=1; fi
    printf '  %-6s port %-5s started with %2d/%d pieces  %-30s copy %s\n' \
      "$p" "${PORTS[$i]}" "${START_PIECES[$i]}" "$NUM_PIECES" "$state" "$same"
  done
  echo "  logs: test-run/swarm/logs/{tracker,peer1,peer2,peer3,peer4}.log"
  echo "  traces: test-run/swarm/traces/{tracker,peer1,peer2,peer3,peer4}.jsonl (one JSON object per message)"
  if (cd "$SWARM" && "$BIN" diagram traces/*.jsonl -o diagram --fold-pings >/dev/null 2>&1); then
    echo "  diagram: test-run/swarm/diagram.md (Mermaid) and test-run/swarm/diagram.svg (open in a browser)"
  else
    echo "  diagram: could not be drawn (see: $BIN diagram test-run/swarm/traces/*.jsonl -o diagram)"
  fi
  if ((fail)); then
    say "FAIL: not every copy is identical to $SAMPLE"
  else
    say "PASS: all 4 copies are identical to $SAMPLE (cmp)"
  fi
  return "$fail"
}
