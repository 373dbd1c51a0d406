# shellcheck shell=bash
# scripts/lib/swarm-modes.sh, sourced by test.sh: the three ways to show a run: headless (one
# terminal, every log prefixed), tmux (one pane per process) and windows (one terminal window per
# process), the pane wrapper `test.sh _run` they share, and the choice of a mode when none is
# given.
# shellcheck disable=SC2034 # STARTED and KEEP are read by cleanup (swarm-prepare.sh)

# run_in_pane NAME TITLE -- COMMAND... (as `test.sh _run`): runs one process in a tmux pane or
# terminal window. Records the pid in pids/NAME.pid, copies the output to logs/NAME.log, and
# keeps the pane open after the process ends (unless it was stopped by `test.sh stop` / the
# launcher).
run_in_pane() {
  local name=$1 title=$2 rc
  shift 3
  cd "$SWARM" || exit 1
  printf '\033]2;%s\007' "$title" # window or tmux pane title
  printf '[%s] $ %s\n' "$name" "${*/#"$BIN"/bittorrent-sim}"
  trap ':' INT # Ctrl-C stops the process, not this wrapper
  set +e
  (
    echo "$BASHPID" >"$PIDS/$name.pid"
    exec "$@" 2>&1
  ) | tee -i -a "$LOGS/$name.log" | pane_titles "$title"
  rc=${PIPESTATUS[0]}
  if ((rc == 143)); then exit 0; fi # stopped by test.sh
  printf '\n[%s] exited with status %d; press Enter to close\n' "$name" "$rc"
  read -r _
  exit 0
}

# pane_titles TITLE: copies stdin to stdout, and keeps the line that matters in sight once the
# log has scrolled it away: the pane (or window) title shows the peer's progress
# (`peer3 127.0.0.1:7003 · 12/32 pieces (37%)`), then `complete`, then `left the swarm`.
pane_titles() {
  local title=$1 line progress
  trap '' INT # the wrapper's Ctrl-C goes to the process; its last lines must still show
  while IFS= read -r line; do
    printf '%s\n' "$line"
    case $line in
      *"download complete"*) progress="complete, seeding" ;;
      *" verified from "*" pieces ("*)
        progress=${line##*: }
        progress=${progress%% \[*}
        ;;
      *"leaving the swarm"*) progress="left the swarm" ;;
      *) continue ;;
    esac
    printf '\033]2;%s · %s\007' "$title" "$progress"
  done
}

has_desktop() { [[ -n ${DISPLAY:-}${WAYLAND_DISPLAY:-} ]]; }
find_terminal() {
  local t
  for t in x-terminal-emulator gnome-terminal konsole xterm; do
    if command -v "$t" >/dev/null; then echo "$t"; return 0; fi
  done
  return 1
}

# choose_mode: turns MODE=auto into headless, or windows when a desktop and a terminal exist.
choose_mode() {
  if [[ $MODE == auto ]]; then
    if [[ -n ${CI:-} || ! -t 1 ]]; then
      MODE=headless
    elif has_desktop && find_terminal >/dev/null; then
      MODE=windows
    else
      MODE=headless
    fi
  fi
}

run_headless() {
  local colors=() reset='' i t0 ok=0
  if [[ -t 1 && -z ${NO_COLOR:-} ]]; then
    colors=($'\033[1;36m' $'\033[1;32m' $'\033[1;33m' $'\033[1;35m' $'\033[1;34m')
    reset=$'\033[0m'
  fi
  # start NAME INDEX CMD...: the process logs to logs/NAME.log; a tail shows it prefixed.
  start() {
    local name=$1 idx=$2 prefix pid
    shift 2
    prefix=$(printf '%s%-7s%s | ' "${colors[$idx]:-}" "$name" "$reset")
    printf '%s$ %s\n' "$prefix" "${*/#"$BIN"/bittorrent-sim}"
    (cd "$SWARM" && exec "$@") >"$LOGS/$name.log" 2>&1 </dev/null &
    pid=$!
    BIN_PIDS+=("$pid")
    echo "$pid" >"$PIDS/$name.pid"
    { tail -n +1 -s 0.2 --pid="$pid" -f "$LOGS/$name.log" | sed -u "s/^/$prefix/"; } &
    DISPLAY_JOBS+=($!)
  }
  STARTED=1
  t0=$(now_ms)
  start tracker 0 "${TRACKER_CMD[@]}"
  wait_tracker
  for i in 0 1 2 3; do
    peer_cmd "$i"
    start "${PEERS[$i]}" $((i + 1)) "${PEER_CMD[@]}"
  done
  wait_swarm "$t0" || ok=1
  # Stop everything, reap it (a tail --pid waits for its zombie), let the output drain.
  stop_pidfiles
  wait "${BIN_PIDS[@]}" 2>/dev/null || true
  wait "${DISPLAY_JOBS[@]}" 2>/dev/null || true
  summary || ok=1
  say "total $(secs $(($(now_ms) - t0)))"
  return "$ok"
}

pane_cmd() { # pane_cmd NAME TITLE CMD... -> PANE (a shell command line)
  local name=$1 title=$2
  shift 2
  PANE=$(printf '%q ' env "RUST_LOG=$RUST_LOG" "BTSIM_LOG_FORMAT=${BTSIM_LOG_FORMAT:-compact}" \
    bash "$SELF" _run "$name" "$title" -- "$@")
}

run_tmux() {
  command -v tmux >/dev/null || die "tmux is not installed (apt-get install tmux)"
  local target left top bottom size=()
  STARTED=1
  pane_cmd tracker "tracker 127.0.0.1:$TRACKER_PORT" "${TRACKER_CMD[@]}"
  if [[ -n ${TMUX:-} ]]; then
    left=$(tmux new-window -P -F '#{pane_id}' -n swarm -c "$SWARM" "$PANE")
  else
    if [[ -t 0 && -t 1 ]]; then
      size=(-x "$(tput cols)" -y "$(tput lines)")
    else
      size=(-x 200 -y 50) # detached: a size that shows the logs; attaching resizes it
    fi
    left=$(tmux new-session -d -P -F '#{pane_id}' -s "$SESSION" -n swarm -c "$SWARM" "${size[@]}" "$PANE")
  fi
  target=$(tmux display-message -p -t "$left" '#{session_name}:#{window_index}')
  tmux set-option -w -t "$target" pane-border-status top >/dev/null
  tmux set-option -w -t "$target" pane-border-format ' #{pane_title} ' >/dev/null
  tmux set-option -w -t "$target" allow-rename off >/dev/null 2>&1 || true
  wait_tracker
  peer_cmd 0; pane_cmd peer1 "peer1 127.0.0.1:${PORTS[0]}" "${PEER_CMD[@]}"
  top=$(tmux split-window -h -P -F '#{pane_id}' -t "$left" -c "$SWARM" "$PANE")
  peer_cmd 2; pane_cmd peer3 "peer3 127.0.0.1:${PORTS[2]}" "${PEER_CMD[@]}"
  bottom=$(tmux split-window -v -P -F '#{pane_id}' -t "$top" -c "$SWARM" "$PANE")
  peer_cmd 1; pane_cmd peer2 "peer2 127.0.0.1:${PORTS[1]}" "${PEER_CMD[@]}"
  tmux split-window -h -t "$top" -c "$SWARM" "$PANE"
  peer_cmd 3; pane_cmd peer4 "peer4 127.0.0.1:${PORTS[3]}" "${PEER_CMD[@]}"
  tmux split-window -h -t "$bottom" -c "$SWARM" "$PANE"
  tmux select-pane -t "$left"
  wait_pidfiles
  KEEP=1
  say "tmux: tracker left, peers 2x2 right; logs in test-run/swarm/logs/"
  say "afterwards: ./test.sh verify (compare the copies), ./test.sh stop (stop everything)"
  if [[ -z ${TMUX:-} ]]; then
    if [[ -t 0 && -t 1 ]]; then
      exec tmux attach-session -t "=$SESSION"
    fi
    say "no terminal: session '$SESSION' runs detached; tmux attach -t $SESSION"
  fi
}

run_windows() {
  local term i t0 ok=0
  has_desktop || die "no desktop (\$DISPLAY / \$WAYLAND_DISPLAY unset); try ./test.sh tmux or --headless"
  term=$(find_terminal) || die "no terminal emulator found (x-terminal-emulator, gnome-terminal, konsole, xterm)"
  open_window() { # open_window NAME TITLE CMD...
    local name=$1 title=$2
    shift 2
    local run=(env "RUST_LOG=$RUST_LOG" bash "$SELF" _run "$name" "$title" -- "$@")
    case $term in
      gnome-terminal) gnome-terminal --title="$title" -- "${run[@]}" ;;
      konsole) konsole -p "tabtitle=$title" -e "${run[@]}" ;;
      *) "$term" -T "$title" -e "${run[@]}" ;;
    esac >/dev/null 2>&1 </dev/null &
  }
  STARTED=1
  t0=$(now_ms)
  say "opening 5 $term windows"
  open_window tracker "tracker 127.0.0.1:$TRACKER_PORT" "${TRACKER_CMD[@]}"
  wait_tracker
  for i in 0 1 2 3; do
    peer_cmd "$i"
    open_window "${PEERS[$i]}" "${PEERS[$i]} 127.0.0.1:${PORTS[$i]}" "${PEER_CMD[@]}"
  done
  wait_pidfiles
  say "waiting until every peer is complete (at most ${TIMEOUT}s)"
  wait_swarm "$t0" || ok=1
  summary || ok=1
  if [[ -t 0 ]]; then
    say "the swarm keeps seeding in its windows; press Enter here to stop it"
    read -r _ || true
  fi
  return "$ok"
}
