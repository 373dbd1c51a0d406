# shellcheck shell=bash
# scripts/lib/swarm-options.sh, sourced by test.sh: the usage text, the parsing of the command
# line into the settings globals (MODE, TIMEOUT, PORT_BASE, SIZE, timers, PEER_EXTRA ...) and
# what follows from them (ports, piece counts, default timers and timeout). Starts nothing.
# shellcheck disable=SC2034 # the settings are read by test.sh and the other scripts/lib files

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
                             (and the choker's 10s / 30s; the demo's are 2s / 6s)
  --slow-motion D             hold every message back by D (e.g. 500ms) so a class can follow it
                             (default: ping 1s, report 1s, round 500ms, cleanup 3s)
  --ping-interval T, --report-interval T, --round-interval T, --cleanup-interval T
                             set one timer (e.g. 2s, 250ms)
  --timeout SECS             headless/windows: give up after SECS (default 120; with
                             --seed-timers, 30 s per piece + 120)
  --port-base N              tracker on N, peers on N+1001..N+1004 (default 6000: 6000,
                             7001-7004); env TRACKER_PORT and PEER_PORT (first peer) override
  --size LEN                 sample file size (default 4MiB; a unit is required: B, KiB,
                             MiB, GiB)
  --piece-length LEN         piece length (default 128KiB, so 32 pieces; a unit required)
  --no-build                 use the existing target/release/bittorrent-sim
  -h, --help                 this help
  -- PEER-ARGS...            extra options for every peer, e.g. -- --parallel 4

Choking (whom each peer uploads to; the peers log "preferred neighbours now ..." and
"optimistic unchoke ..."), passed after --:
  -- --choking unchoke-all   the seed's simplified protocol (default tit-for-tat)
  -- --unchoke-slots N       preferred neighbours (default 4)
  -- --rechoke-interval D    choose them again this often (default 10s)
  -- --optimistic-interval D move the optimistic unchoke this often (default 30s)
  -- --free-ride             download but never unchoke anyone
or from the environment: BTSIM_CHOKING, BTSIM_UNCHOKE_SLOTS, BTSIM_RECHOKE_INTERVAL,
BTSIM_OPTIMISTIC_INTERVAL.

Environment: RUST_LOG (default info) selects the log detail; logs are also written to
test-run/swarm/logs/NAME.log.
EOF
}

# parse_args ARGS...: sets the settings globals from test.sh's command line.
parse_args() {

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
}

# derive_settings: checks the settings and derives ports, piece counts and default timers.
derive_settings() {
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
    # The choker at the demo's pace: a decision every 2 s, the optimistic unchoke every 6 s.
    export BTSIM_RECHOKE_INTERVAL=${BTSIM_RECHOKE_INTERVAL:-2s}
    export BTSIM_OPTIMISTIC_INTERVAL=${BTSIM_OPTIMISTIC_INTERVAL:-6s}
  fi
  export RUST_LOG=${RUST_LOG:-info}

  SIZE_BYTES=$(size_bytes "$SIZE") || die "$(size_error --size "$SIZE")"
  PIECE_BYTES=$(size_bytes "$PIECE_LENGTH") || die "$(size_error --piece-length "$PIECE_LENGTH")"
  ((SIZE_BYTES > 0 && PIECE_BYTES > 0)) || die "size and piece length must be positive"
  NUM_PIECES=$(((SIZE_BYTES + PIECE_BYTES - 1) / PIECE_BYTES))
  ((NUM_PIECES >= 2)) || die "the sample needs at least 2 pieces (size $SIZE, pieces $PIECE_LENGTH)"
  P1_PIECES=$((NUM_PIECES * 7 / 10))
  ((P1_PIECES >= 1)) || P1_PIECES=1
  if [[ -z $TIMEOUT ]]; then
    if ((SEED_TIMERS)); then TIMEOUT=$((NUM_PIECES * 30 + 120)); else TIMEOUT=120; fi
  fi
  [[ $TIMEOUT =~ ^[0-9]+$ ]] || die "--timeout wants whole seconds"
}
