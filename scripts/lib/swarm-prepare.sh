# shellcheck shell=bash
# scripts/lib/swarm-prepare.sh, sourced by test.sh: what happens before a process starts: the
# EXIT trap that stops the swarm, the release build, test-run/swarm/ with the sample file, its
# torrent and the peers' starting pieces, and the command lines of the tracker and the peers.
# shellcheck disable=SC2034 # START_PIECES, TRACKER_CMD, PEER_CMD are read by the other files


STARTED=0 # set once processes run; the EXIT trap stops them
KEEP=0    # tmux mode: the session outlives this script
DISPLAY_JOBS=()
BIN_PIDS=()
cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  if ((STARTED && !KEEP)); then
    ((rc == 0)) || echo "test.sh: stopping the swarm" >&2
    stop_pidfiles
    [[ $MODE == tmux ]] && stop_session
    [[ $MODE == headless ]] && wait 2>/dev/null # the processes, then their display tails
  fi
  exit "$rc"
}

# build: cargo build --release (unless --no-build), then checks the binary is there.
build() {
  if ((BUILD)); then
    command -v cargo >/dev/null || die "cargo not found (install Rust, or use --no-build with a built binary)"
    say "cargo build --release"
    cargo build --release --quiet
  fi
  [[ -x $BIN ]] || die "$BIN is missing; run without --no-build"
}

# prepare_run: stops a previous run, checks the ports, writes test-run/swarm/ afresh: the sample,
# its torrent and the starting pieces of peer1 and peer2.
prepare_run() {
  # A previous run may still hold the ports and the files.
  stop_pidfiles
  [[ $MODE == tmux ]] && stop_session

  for port in "$TRACKER_PORT" "${PORTS[@]}"; do
    if listening "$port"; then
      die "port $port is already in use; pick others with --port-base N (or TRACKER_PORT / PEER_PORT)"
    fi
  done

  say "preparing test-run/swarm/"
  mkdir -p "$RUN_DIR"
  rm -rf -- "$SWARM"
  mkdir -p "$SWARM" "$PIDS" "$LOGS"

  # Deterministic sample: numbered 64-byte text lines (readable in Wireshark and with `head`).
  lines=$(((SIZE_BYTES + 63) / 64))
  seq -f 'bittorrent-sim sample file, line %010.0f, 64 bytes per line.' 0 $((lines - 1)) >"$SWARM/$SAMPLE"
  truncate -s "$SIZE_BYTES" "$SWARM/$SAMPLE"
  "$BIN" create "$SWARM/$SAMPLE" --piece-length "${PIECE_BYTES}B" --tracker "127.0.0.1:$TRACKER_PORT" \
    -o "$SWARM/$SAMPLE.torrent" >/dev/null
  say "$SAMPLE: $SIZE_BYTES bytes, $NUM_PIECES pieces of $PIECE_BYTES bytes; $SAMPLE.torrent announces 127.0.0.1:$TRACKER_PORT"

  # Starting pieces: peer1 [0, P1), peer2 [P1, n), peers 3 and 4 nothing. Other bytes are zeros,
  # which fail verification, so each peer reports only the pieces written here.
  START_PIECES=()
  for p in "${PEERS[@]}"; do mkdir -p "$SWARM/$p"; done
  truncate -s "$SIZE_BYTES" "$(peer_file peer1)" "$(peer_file peer2)"
  dd if="$SWARM/$SAMPLE" of="$(peer_file peer1)" bs="$PIECE_BYTES" count="$P1_PIECES" \
    conv=notrunc status=none
  dd if="$SWARM/$SAMPLE" of="$(peer_file peer2)" bs="$PIECE_BYTES" skip="$P1_PIECES" \
    seek="$P1_PIECES" conv=notrunc status=none
  START_PIECES=("$P1_PIECES" $((NUM_PIECES - P1_PIECES)) 0 0)
  say "peer1: pieces 0-$((P1_PIECES - 1)); peer2: pieces $P1_PIECES-$((NUM_PIECES - 1)); peer3, peer4: none"
}

# build_commands: TRACKER_CMD, and peer_cmd INDEX for PEER_CMD (run from test-run/swarm).
build_commands() {
  SLOW_ARGS=()
  [[ -n $SLOW ]] && SLOW_ARGS=(--slow-motion "$SLOW")
  mkdir -p "$SWARM/traces"
  TRACKER_CMD=("$BIN" tracker --port "$TRACKER_PORT" --bind 127.0.0.1
    --cleanup-interval "$CLEANUP" --torrent "$SAMPLE.torrent" --trace traces/tracker.jsonl
    "${SLOW_ARGS[@]}")
}
peer_cmd() { # peer_cmd INDEX -> PEER_CMD
  PEER_CMD=("$BIN" peer --port "${PORTS[$1]}" --bind 127.0.0.1
    --tracker "127.0.0.1:$TRACKER_PORT" --torrent "$SAMPLE.torrent" --dir "${PEERS[$1]}"
    --min-peers 2 --ping-interval "$PING" --report-interval "$REPORT"
    --round-interval "$ROUND" --trace "traces/${PEERS[$1]}.jsonl" "${SLOW_ARGS[@]}"
    "${PEER_EXTRA[@]}")
}
