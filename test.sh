#!/usr/bin/env bash
# test.sh: build bittorrent-sim and run a small swarm on this machine, as the seed's test.sh
# did: 1 tracker and 4 peers sharing one sample file, each peer starting with different pieces.
# Run `./test.sh --help` for the modes and options.
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
SELF="$ROOT/test.sh"
cd "$ROOT"

# The work is in scripts/lib/: proc.sh (processes, ports, clocks), swarm-options.sh (usage and
# arguments), swarm-prepare.sh (build, sample, command lines), swarm-check.sh (waits, copies,
# summary) and swarm-modes.sh (headless, tmux, windows).

# `./test.sh flood ...` belongs to the flooding-network demo.
if [[ ${1:-} == flood ]]; then
  shift
  flood="$ROOT/scripts/flood-demo.sh"
  [[ -f $flood ]] || { echo "test.sh: $flood is missing" >&2; exit 2; }
  if [[ -x $flood ]]; then exec "$flood" "$@"; else exec bash "$flood" "$@"; fi
fi

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

# shellcheck source=scripts/lib/proc.sh
source "$ROOT/scripts/lib/proc.sh"
# shellcheck source=scripts/lib/swarm-options.sh
source "$ROOT/scripts/lib/swarm-options.sh"
# shellcheck source=scripts/lib/swarm-prepare.sh
source "$ROOT/scripts/lib/swarm-prepare.sh"
# shellcheck source=scripts/lib/swarm-check.sh
source "$ROOT/scripts/lib/swarm-check.sh"
# shellcheck source=scripts/lib/swarm-modes.sh
source "$ROOT/scripts/lib/swarm-modes.sh"

# Internal: `test.sh _run NAME TITLE -- COMMAND...` is one pane or window of the tmux and windows
# modes.
if [[ ${1:-} == _run ]]; then
  shift
  run_in_pane "$@"
fi

parse_args "$@"
derive_settings
[[ $MODE == auto ]] && choose_mode

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

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
build
prepare_run
build_commands
say "timers: ping $PING, report $REPORT, round $ROUND, tracker cleanup $CLEANUP; RUST_LOG=$RUST_LOG"

case $MODE in
  headless) run_headless ;;
  tmux) run_tmux ;;
  windows) run_windows ;;
esac
