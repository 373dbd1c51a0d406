#!/usr/bin/env bash
# test.sh: build bittorrent-sim and run a small swarm on this machine, as the seed's test.sh
# did: 1 tracker and 4 peers sharing one sample file, each peer starting with different pieces.
# Run `./test.sh --help` for the modes and options.
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
SELF="$ROOT/test.sh"
cd "$ROOT"

# `./test.sh flood ...` belongs to the flooding-network demo.
if [[ ${1:-} == flood ]]; then
  shift
  flood="$ROOT/scripts/flood-demo.sh"
  [[ -f $flood ]] || { echo "test.sh: $flood is missing" >&2; exit 2; }
  if [[ -x $flood ]]; then exec "$flood" "$@"; else exec bash "$flood" "$@"; fi
fi

usage() {
  cat <<'EOF'
Usage: ./test.sh [MODE] [OPTIONS] [-- PEER-ARGS...]
       ./test.sh flood [ARGS...]       the flooding chunk network demo (scripts/flood-demo.sh)
       ./test.sh verify | stop

Builds bittorrent-sim (cargo build --release), prepares test-run/swarm/ with a sample file,
its .torrent and one directory per peer, then starts 1 tracker and 4 peers on 127.0.0.1.
Seed scenario: peer1 starts with the first ~70% of the pieces, peer2 with the rest, peers 3
and 4 with nothing; every peer downloads what it lacks, rarest piece first.

Modes:
  (none)        one terminal window per process when a desktop is available ($DISPLAY or
                $WAYLAND_DISPLAY, and x-terminal-emulator, gnome-terminal, konsole or xterm);
                otherwise, and always when CI is set or stdout is not a terminal: headless
  tmux          one tmux window: tracker on the left half, the four peers 2x2 on the right
                (attaches; inside tmux opens a new window; detached when there is no terminal)
  --headless    everything in this terminal, each line prefixed by its process; waits until
                every peer is complete, compares every copy with the original (cmp), prints a
                summary, stops everything and exits 0 if all four copies are identical, else 1
  --windows     force one terminal window per process
  verify        compare the copies of the last run with the original (exit 0 or 1)
  stop          stop the processes of the last run (and its tmux session)

Options:
  --seed-timers              the seed's timers: ping 10s, report 20s, round 30s, cleanup 15s
  --slow-motion D             hold every message back by D (e.g. 500ms) so a class can follow it
                             (default: ping 1s, report 1s, round 500ms, cleanup 3s)
  --ping-interval T, --report-interval T, --round-interval T, --cleanup-interval T
                             set one timer (e.g. 2s, 250ms)
  --timeout SECS             headless/windows: give up after SECS (default 120; with
                             --seed-timers, 30 s per piece + 120)
  --port-base N              tracker on N, peers on N+1001..N+1004 (default 6000: 6000,
                             7001-7004); env TRACKER_PORT and PEER_PORT (first peer) override
  --size LEN                 sample file size (default 4MiB; suffixes KiB, MiB)
  --piece-length LEN         piece length (default 128KiB, so 32 pieces)
  --no-build                 use the existing target/release/bittorrent-sim
  -h, --help                 this help
  -- PEER-ARGS...            extra options for every peer, e.g. -- --parallel 4

Environment: RUST_LOG (default info) selects the log detail; logs are also written to
test-run/swarm/logs/NAME.log.
EOF
}

die() { echo "test.sh: $*" >&2; exit 2; }
say() { printf '==> %s\n' "$*"; }

# ---------------------------------------------------------------------------------------------
# Constants and small helpers

SESSION=bittorrent-sim
RUN_DIR="$ROOT/test-run"
SWARM="$RUN_DIR/swarm"
PIDS="$SWARM/pids"
LOGS="$SWARM/logs"
BIN="$ROOT/target/release/bittorrent-sim"
SAMPLE=sample.bin
PEERS=(peer1 peer2 peer3 peer4)

# "4MiB", "128KiB", "65536" -> bytes
to_bytes() {
  local v=$1 n unit
  [[ $v =~ ^([0-9]+)[[:space:]]*([A-Za-z]*)$ ]] || die "bad size: $v"
  n=${BASH_REMATCH[1]} unit=${BASH_REMATCH[2]}
  case $unit in
    ''|B) echo "$n" ;;
    K|k|KiB|kiB|KB|kB) echo $((n * 1024)) ;;
    M|MiB|MB) echo $((n * 1024 * 1024)) ;;
    *) die "bad size unit in $v (use KiB or MiB)" ;;
  esac
}

now_ms() {
  if [[ -n ${EPOCHREALTIME:-} ]]; then
    local t=${EPOCHREALTIME//[.,]/}
    echo $((10#$t / 1000))
  else
    date +%s%3N
  fi
}

secs() { printf '%d.%01ds' $(($1 / 1000)) $((($1 % 1000) / 100)); }

# Is this pid alive (and not a zombie)?
alive() {
  local pid=$1 stat
  if [[ -r /proc/$pid/stat ]]; then
    stat=$(<"/proc/$pid/stat") || return 1
    stat=${stat##*) }
    [[ ${stat%% *} != Z ]]
  else
    kill -0 "$pid" 2>/dev/null
  fi
}

# Is this pid one of our bittorrent-sim processes (guards against a recycled pid)?
ours() {
  local pid=$1 cmd
  if [[ -r /proc/$pid/cmdline ]]; then
    cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  else
    cmd=$(ps -p "$pid" -o args= 2>/dev/null) || return 1
  fi
  [[ $cmd == *bittorrent-sim* ]]
}

# Is something listening on this TCP port? (Linux /proc; "unknown" counts as no.)
listening() {
  local hex f
  hex=$(printf '%04X' "$1")
  for f in /proc/net/tcp /proc/net/tcp6; do
    [[ -r $f ]] || continue
    grep -qE "^ *[0-9]+: [0-9A-F]+:$hex [0-9A-F]+:[0-9A-F]+ 0A " "$f" && return 0
  done
  return 1
}

# Stop every process named by a pid file of the last run: TERM, then KILL after 3 s.
stop_pidfiles() {
  local f pid pids=() i
  [[ -d $PIDS ]] || return 0
  for f in "$PIDS"/*.pid; do
    [[ -f $f ]] || continue
    pid=$(<"$f")
    if [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" && ours "$pid"; then
      kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
    fi
    rm -f "$f"
  done
  for ((i = 0; i < 30; i++)); do
    local left=()
    for pid in "${pids[@]}"; do alive "$pid" && left+=("$pid"); done
    ((${#left[@]})) || return 0
    pids=("${left[@]}")
    sleep 0.1
  done
  kill -KILL "${pids[@]}" 2>/dev/null || true
}

stop_session() {
  command -v tmux >/dev/null || return 0
  tmux has-session -t "=$SESSION" 2>/dev/null || return 0
  if [[ -n ${TMUX:-} && $(tmux display-message -p '#S' 2>/dev/null) == "$SESSION" ]]; then
    return 0 # we are inside it; its panes close when their processes stop
  fi
  tmux kill-session -t "=$SESSION" 2>/dev/null || true
}

# ---------------------------------------------------------------------------------------------
# Internal: run one process in a tmux pane or terminal window.
#   test.sh _run NAME TITLE -- COMMAND...
# Records the pid in pids/NAME.pid, copies the output to logs/NAME.log, and keeps the pane open
# after the process ends (unless it was stopped by `test.sh stop` / the launcher).

if [[ ${1:-} == _run ]]; then
  name=$2 title=$3
  shift 4
  cd "$SWARM"
  printf '\033]2;%s\007' "$title" # window or tmux pane title
  printf '[%s] $ %s\n' "$name" "${*/#"$BIN"/bittorrent-sim}"
  trap ':' INT # Ctrl-C stops the process, not this wrapper
  set +e
  (
    echo "$BASHPID" >"$PIDS/$name.pid"
    exec "$@" 2>&1
  ) | tee -i -a "$LOGS/$name.log"
  rc=${PIPESTATUS[0]}
  if ((rc == 143)); then exit 0; fi # stopped by test.sh
  printf '\n[%s] exited with status %d; press Enter to close\n' "$name" "$rc"
  read -r _
  exit 0
fi

# ---------------------------------------------------------------------------------------------
# Arguments

MODE=auto
SEED_TIMERS=0
TIMEOUT=
PORT_BASE=6000
SIZE=4MiB
PIECE_LENGTH=128KiB
BUILD=1
PING='' REPORT='' ROUND='' CLEANUP=''
PEER_EXTRA=()
SLOW=''

need() { [[ $# -ge 2 && -n $2 ]] || die "$1 needs a value"; }
while (($#)); do
  case $1 in
    -h|--help|help) usage; exit 0 ;;
    tmux|--tmux) MODE=tmux ;;
    headless|--headless) MODE=headless ;;
    windows|--windows) MODE=windows ;;
    verify) MODE=verify ;;
    stop) MODE=stop ;;
    --seed-timers) SEED_TIMERS=1 ;;
    --timeout) need "$@"; TIMEOUT=$2; shift ;;
    --port-base) need "$@"; PORT_BASE=$2; shift ;;
    --size) need "$@"; SIZE=$2; shift ;;
    --piece-length) need "$@"; PIECE_LENGTH=$2; shift ;;
    --ping-interval) need "$@"; PING=$2; shift ;;
    --report-interval) need "$@"; REPORT=$2; shift ;;
    --round-interval) need "$@"; ROUND=$2; shift ;;
    --cleanup-interval) need "$@"; CLEANUP=$2; shift ;;
    --slow-motion) need "$@"; SLOW=$2; shift ;;
    --no-build) BUILD=0 ;;
    --) shift; PEER_EXTRA=("$@"); break ;;
    *) echo "test.sh: unknown argument: $1 (see ./test.sh --help)" >&2; exit 2 ;;
  esac
  shift
done

[[ $PORT_BASE =~ ^[0-9]+$ ]] || die "--port-base wants a number"
TRACKER_PORT=${TRACKER_PORT:-$PORT_BASE}
PEER_PORT=${PEER_PORT:-$((PORT_BASE + 1001))}
[[ $TRACKER_PORT =~ ^[0-9]+$ && $PEER_PORT =~ ^[0-9]+$ ]] || die "ports must be numbers"
((TRACKER_PORT > 0 && TRACKER_PORT < 65536 && PEER_PORT > 0 && PEER_PORT + 3 < 65536)) ||
  die "ports out of range (tracker $TRACKER_PORT, peers from $PEER_PORT)"
PORTS=()
for i in 0 1 2 3; do PORTS+=($((PEER_PORT + i))); done

if ((SEED_TIMERS)); then
  : "${PING:=10s}" "${REPORT:=20s}" "${ROUND:=30s}" "${CLEANUP:=15s}"
else
  : "${PING:=1s}" "${REPORT:=1s}" "${ROUND:=500ms}" "${CLEANUP:=3s}"
fi
export RUST_LOG=${RUST_LOG:-info}

SIZE_BYTES=$(to_bytes "$SIZE")
PIECE_BYTES=$(to_bytes "$PIECE_LENGTH")
((SIZE_BYTES > 0 && PIECE_BYTES > 0)) || die "size and piece length must be positive"
NUM_PIECES=$(((SIZE_BYTES + PIECE_BYTES - 1) / PIECE_BYTES))
((NUM_PIECES >= 2)) || die "the sample needs at least 2 pieces (size $SIZE, pieces $PIECE_LENGTH)"
P1_PIECES=$((NUM_PIECES * 7 / 10))
((P1_PIECES >= 1)) || P1_PIECES=1
if [[ -z $TIMEOUT ]]; then
  if ((SEED_TIMERS)); then TIMEOUT=$((NUM_PIECES * 30 + 120)); else TIMEOUT=120; fi
fi
[[ $TIMEOUT =~ ^[0-9]+$ ]] || die "--timeout wants whole seconds"

has_desktop() { [[ -n ${DISPLAY:-}${WAYLAND_DISPLAY:-} ]]; }
find_terminal() {
  local t
  for t in x-terminal-emulator gnome-terminal konsole xterm; do
    if command -v "$t" >/dev/null; then echo "$t"; return 0; fi
  done
  return 1
}

if [[ $MODE == auto ]]; then
  if [[ -n ${CI:-} || ! -t 1 ]]; then
    MODE=headless
  elif has_desktop && find_terminal >/dev/null; then
    MODE=windows
  else
    MODE=headless
  fi
fi

# ---------------------------------------------------------------------------------------------
# verify / stop

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

case $MODE in
  stop)
    stop_pidfiles
    stop_session
    say "stopped"
    exit 0
    ;;
  verify)
    [[ -f $SWARM/$SAMPLE ]] || die "no previous run in test-run/swarm"
    if compare_copies; then say "all copies identical"; exit 0; else say "some copies differ"; exit 1; fi
    ;;
esac

# ---------------------------------------------------------------------------------------------
# Build and prepare test-run/swarm

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
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ((BUILD)); then
  command -v cargo >/dev/null || die "cargo not found (install Rust, or use --no-build with a built binary)"
  say "cargo build --release"
  cargo build --release --quiet
fi
[[ -x $BIN ]] || die "$BIN is missing; run without --no-build"

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
"$BIN" create "$SWARM/$SAMPLE" --piece-length "$PIECE_BYTES" --tracker "127.0.0.1:$TRACKER_PORT" \
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

# ---------------------------------------------------------------------------------------------
# Command lines (run from test-run/swarm)

SLOW_ARGS=()
[[ -n $SLOW ]] && SLOW_ARGS=(--slow-motion "$SLOW")
mkdir -p "$SWARM/traces"
TRACKER_CMD=("$BIN" tracker --port "$TRACKER_PORT" --bind 127.0.0.1
  --cleanup-interval "$CLEANUP" --torrent "$SAMPLE.torrent" --trace traces/tracker.jsonl
  "${SLOW_ARGS[@]}")
peer_cmd() { # peer_cmd INDEX -> PEER_CMD
  PEER_CMD=("$BIN" peer --port "${PORTS[$1]}" --bind 127.0.0.1
    --tracker "127.0.0.1:$TRACKER_PORT" --torrent "$SAMPLE.torrent" --dir "${PEERS[$1]}"
    --min-peers 2 --ping-interval "$PING" --report-interval "$REPORT"
    --round-interval "$ROUND" --trace "traces/${PEERS[$1]}.jsonl" "${SLOW_ARGS[@]}"
    "${PEER_EXTRA[@]}")
}
say "timers: ping $PING, report $REPORT, round $ROUND, tracker cleanup $CLEANUP; RUST_LOG=$RUST_LOG"

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

# ---------------------------------------------------------------------------------------------
# Modes

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
  PANE=$(printf '%q ' env "RUST_LOG=$RUST_LOG" bash "$SELF" _run "$name" "$title" -- "$@")
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

case $MODE in
  headless) run_headless ;;
  tmux) run_tmux ;;
  windows) run_windows ;;
esac
