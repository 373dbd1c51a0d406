# shellcheck shell=bash
# scripts/lib/proc.sh, sourced by test.sh: messages, sizes (scripts/lib/size.sh) and clocks,
# and the processes of a run (is a pid alive and ours, is a port taken, stop what the pid files
# name, close the tmux session). Defines functions only; reads PIDS and SESSION, which test.sh sets.
# shellcheck disable=SC2153 # PIDS is test.sh's, not a misspelt pids

die() { echo "test.sh: $*" >&2; exit 2; }
say() { printf '==> %s\n' "$*"; }

# Sizes: size_bytes and size_error, the parser every script shares (a unit is required).
# shellcheck source=scripts/lib/size.sh
source "$(dirname "${BASH_SOURCE[0]}")/size.sh"

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
