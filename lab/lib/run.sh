# shellcheck shell=bash
# lab/lib/run.sh, sourced by lab/lab.sh: the program and the clock of a run: the binary (built
# with cargo unless --bin), the work directory, the run's deadline, waiting for a log line,
# starting a process inside a host, and holding the lab up after the checks (--hold).
# shellcheck disable=SC2034 # bin, workdir, started_ms and last_pid are read by the other files
# shellcheck disable=SC2154 # the settings are lab.sh's globals, set in lib/options.sh

# prepare_program: sets bin (building it when not given), workdir and the run's deadline.
prepare_program() {
  if [[ -z "$bin" ]]; then bin="$(default_bin "$root")"; fi
  [[ -x "$bin" ]] || usage_error "no binary at $bin: run cargo build first, or give --bin PATH"
  bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"

  if [[ -z "$workdir" ]]; then workdir="$(mktemp -d "${TMPDIR:-/tmp}/btlab.XXXXXX")"; fi
  mkdir -p "$workdir"
  workdir="$(cd "$workdir" && pwd)"
  mkdir -p "$workdir/logs"
  case "${RUST_LOG:-}" in debug|trace) ;; *) export RUST_LOG=info ;; esac # the summary reads info lines
  # Marks every process of this run (in /proc/PID/environ), so a test can tell none is left.
  export BTLAB_RUN="$prefix"

  started_ms="$(now_ms)"
  deadline_ms=$((started_ms + timeout_s * 1000))
}

now_ms() { local t="${EPOCHREALTIME//[^0-9]/}"; echo $((t / 1000)); }
over_deadline() { (($(now_ms) > deadline_ms)); }

host_ns() { echo "$prefix-h$1"; }
host_ip() { echo "$subnet.$1"; }

# wait_for FILE PATTERN SECONDS WHAT [PID]: polls until FILE has a line matching PATTERN; fails
# when the time is up or when process PID has ended.
wait_for() {
  local file="$1" pattern="$2" limit_ms=$(($3 * 1000)) what="$4" pid="${5:-}" start
  start="$(now_ms)"
  until grep -qE -- "$pattern" "$file" 2>/dev/null; do
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
      echo "lab: FAIL: $what ended before '$pattern'; last lines of $file:" >&2
      tail -n 15 "$file" >&2 || true
      exit 1
    fi
    if (($(now_ms) - start > limit_ms)) || over_deadline; then
      echo "lab: FAIL: timed out waiting for $what ('$pattern' in $file)" >&2
      tail -n 15 "$file" >&2 || true
      exit 1
    fi
    sleep 0.1
  done
}

# run_in HOST LOG CMD...: starts CMD in host HOST's namespace, in the background, output to LOG.
# Sets last_pid.
last_pid=""
run_in() {
  local host="$1" log="$2"
  shift 2
  ip netns exec "$(host_ns "$host")" "$@" >"$log" 2>&1 &
  last_pid=$!
  pids+=("$last_pid")
}

# Epoch milliseconds of a log line's timestamp (RFC 3339, UTC).
line_ms() { date -d "${1%% *}" +%s%3N; }

hold_if_asked() {
  ((hold)) || return 0
  echo "== holding the lab up (--hold); Ctrl+C tears it down. Try: ip netns exec $(host_ns 2) bash"
  trap 'echo; exit 0' INT TERM # the checks passed; ending the hold is no failure
  while :; do sleep 1; done
}
