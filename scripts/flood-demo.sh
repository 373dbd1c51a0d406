#!/usr/bin/env bash
# The flooding chunk network demo: the assignment's topology on loopback.
#
#   scripts/flood-demo.sh          headless: every line prefixed by its process, then the check
#   scripts/flood-demo.sh tmux     one tmux pane per process (session "bittorrent-sim-flood")
#
# Builds the binary, writes the sample data into test-run/flood/, starts peers 1-5 on
# 127.0.0.1:5001-5005 (links 1-2, 1-3, 2-5, 3-5, 4-5) and two clients at once:
# client 1 (--bind 127.0.0.6) asks peer1 for 5,6,7; client 2 (--bind 127.0.0.7) asks peer4 for
# 1,3,4,5,9. Waits for both, prints output-127.0.0.6.log and output-127.0.0.7.log, checks that
# every line names a peer that holds the chunk, that client 1 got 5,6,7, that client 2 got
# 1,3,5,9 and logged "0.0.0.0:0 - 4", and that every received chunk equals its source.
# Exits 0 when all of that holds, 1 otherwise.
#
# Environment: RUST_LOG (default info), CLIENT_TIMEOUT (default 5s), CARGO_TARGET_DIR.
set -euo pipefail

[[ "${1:-}" = flood ]] && shift # accept `./test.sh flood [tmux]` passed through whole
mode="${1:-headless}"
case "$mode" in
  headless|tmux) ;;
  -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
  *) echo "usage: $0 [tmux]" >&2; exit 2 ;;
esac

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
echo "== building"
cargo build --quiet
bin="$root/${CARGO_TARGET_DIR:-target}/debug/bittorrent-sim"
[[ "${CARGO_TARGET_DIR:-}" = /* ]] && bin="$CARGO_TARGET_DIR/debug/bittorrent-sim"

run="$root/test-run/flood"
rm -rf "$run"
mkdir -p "$run/logs"
"$bin" flood sample "$run" >/dev/null
export RUST_LOG="${RUST_LOG:-info}"
timeout="${CLIENT_TIMEOUT:-5s}"

ip=127.0.0.1
declare -A neighbours=(
  [1]="$ip:5002 $ip:5003"
  [2]="$ip:5001 $ip:5005"
  [3]="$ip:5001 $ip:5005"
  [4]="$ip:5005"
  [5]="$ip:5002 $ip:5003 $ip:5004"
)
declare -A holds=([1]="5 6 7 8" [2]="1 2" [3]="3 6 7 8" [4]="6 7 8" [5]="9 10")
# Commands as shell-quoted strings: the tmux panes and the headless runner share them.
# shellcheck disable=SC2086 # the neighbour list splits on purpose
peer_cmd() { printf '%q ' "$bin" flood peer "$ip:500$1" "key-values-files_peer$1" ${neighbours[$1]} --trace "traces/peer$1.jsonl"; }
client1_cmd="$(printf '%q ' "$bin" flood client "$ip:5001" 5,6,7 --bind 127.0.0.6 --timeout "$timeout" --trace traces/client1.jsonl)"
client2_cmd="$(printf '%q ' "$bin" flood client "$ip:5004" 1,3,4,5,9 --bind 127.0.0.7 --timeout "$timeout" --trace traces/client2.jsonl)"

pids=()
# shellcheck disable=SC2317 # called by the trap
cleanup() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || continue
    wait "$pid" 2>/dev/null || true # reap it; its status is the SIGTERM we sent
  done
}
trap cleanup EXIT

# Waits until FILE contains PATTERN, at most 10 s.
wait_for() {
  local file="$1" pattern="$2" tries=0
  until grep -q "$pattern" "$file" 2>/dev/null; do
    tries=$((tries + 1))
    if ((tries > 100)); then echo "timed out waiting for '$pattern' in $file" >&2; return 1; fi
    sleep 0.1
  done
}

cd "$run"
mkdir -p traces
if [[ "$mode" = tmux ]]; then
  session=bittorrent-sim-flood
  tmux kill-session -t "$session" 2>/dev/null || true
  # Each pane runs a small script: one process, its log shown and kept in logs/ for the check,
  # its exit status in logs/NAME.done.
  mkdir -p panes
  pane() {
    # shellcheck disable=SC2016 # ${PIPESTATUS[0]} is for the pane's shell
    printf '#!/usr/bin/env bash\ncd %q\nexport RUST_LOG=%q BTSIM_LOG_FORMAT=%q\n%s 2>&1 | tee logs/%s.log\necho "${PIPESTATUS[0]}" > logs/%s.done\necho "[%s finished]"\n' \
      "$run" "$RUST_LOG" "${BTSIM_LOG_FORMAT:-compact}" "$1" "$2" "$2" "$2" > "panes/$2.sh"
    echo "bash '$run/panes/$2.sh'"
  }
  # title PANE TEXT: the pane's title, shown in its top border.
  title() { tmux select-pane -t "$1" -T "$2"; }
  first=$(tmux new-session -d -P -F '#{pane_id}' -s "$session" -n flood -x 220 -y 60 "$(pane "$(peer_cmd 1)" peer1)")
  tmux set-option -t "$session" remain-on-exit on >/dev/null
  tmux set-option -w -t "$session:flood" pane-border-status top >/dev/null
  tmux set-option -w -t "$session:flood" pane-border-format ' #{pane_title} ' >/dev/null
  title "$first" "peer 1 $ip:5001"
  for n in 2 3 4 5; do
    title "$(tmux split-window -P -F '#{pane_id}' -t "$session:flood" "$(pane "$(peer_cmd "$n")" "peer$n")")" "peer $n $ip:500$n"
    tmux select-layout -t "$session:flood" tiled >/dev/null
  done
  for n in 1 2 3 4 5; do wait_for "logs/peer$n.log" "listening on"; done
  title "$(tmux split-window -P -F '#{pane_id}' -t "$session:flood" "$(pane "$client1_cmd" client1)")" "client 1 (asks $ip:5001)"
  title "$(tmux split-window -P -F '#{pane_id}' -t "$session:flood" "$(pane "$client2_cmd" client2)")" "client 2 (asks $ip:5004)"
  tmux select-layout -t "$session:flood" tiled >/dev/null
  echo "== running in tmux session $session (attach: tmux attach -t $session)"
  if [[ -z "${TMUX:-}" && -t 0 && -t 1 ]]; then
    echo "   attaching; detach with Ctrl-b d to see the check"
    tmux attach -t "$session" || true
  elif [[ -n "${TMUX:-}" ]]; then
    tmux switch-client -t "$session" || true
  fi
  wait_for logs/client1.done . && wait_for logs/client2.done .
  for c in client1 client2; do
    [[ "$(cat "logs/$c.done")" = 0 ]] || { echo "$c failed (status $(cat "logs/$c.done"))" >&2; exit 1; }
  done
  echo "   the peers keep running in tmux; stop them with: tmux kill-session -t $session"
else
  for n in 1 2 3 4 5; do
    (eval "exec $(peer_cmd "$n")") > >(tee "logs/peer$n.log" | sed -u "s/^/[peer$n] /") 2>&1 &
    pids+=($!)
  done
  for n in 1 2 3 4 5; do wait_for "logs/peer$n.log" "listening on"; done
  (eval "exec $client1_cmd") > >(tee logs/client1.log | sed -u 's/^/[client1] /') 2>&1 &
  c1=$!
  (eval "exec $client2_cmd") > >(tee logs/client2.log | sed -u 's/^/[client2] /') 2>&1 &
  c2=$!
  status=0
  wait "$c1" || status=$?
  wait "$c2" || status=$?
  sleep 0.2 # let the prefixers flush
  if ((status != 0)); then echo "a client failed (status $status)" >&2; exit 1; fi
fi

# ---- check ----
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# check LOG "received ids" "not found ids"
check() {
  local log="$1" want="$2" absent="$3" got=() line addr id port peer
  [[ -f "$log" ]] || { fail "$log missing"; return; }
  while IFS= read -r line; do
    if [[ ! "$line" =~ ^([0-9.]+):([0-9]+)\ -\ ([0-9]+)$ ]]; then fail "$log: bad line '$line'"; continue; fi
    addr="${BASH_REMATCH[1]}"; port="${BASH_REMATCH[2]}"; id="${BASH_REMATCH[3]}"
    if [[ "$addr:$port" = 0.0.0.0:0 ]]; then
      [[ " $absent " == *" $id "* ]] || fail "$log: chunk $id logged as not found"
      continue
    fi
    peer=$((port - 5000))
    [[ "$addr" = "$ip" && " ${holds[$peer]:-} " == *" $id "* ]] || fail "$log: $addr:$port does not hold chunk $id"
    got+=("$id")
    local dir="chunks-${log#output-}"; dir="${dir%.log}"
    cmp -s "$dir/BigBuckBunny_$id.m4s" "BigBuckBunny_$id.m4s" || fail "$dir/BigBuckBunny_$id.m4s differs from its source"
  done < "$log"
  local sorted
  sorted="$(printf '%s\n' "${got[@]}" | sort -n | tr '\n' ' ')"
  [[ "$sorted" = "$want " ]] || fail "$log: received [$sorted] expected [$want]"
  if [[ -n "$absent" ]]; then
    [[ "$(tail -n 1 "$log")" = "0.0.0.0:0 - $absent" ]] || fail "$log: last line should be '0.0.0.0:0 - $absent'"
  fi
}
for log in output-127.0.0.6.log output-127.0.0.7.log; do
  echo "== $run/$log"
  cat "$log" 2>/dev/null || true
done
check output-127.0.0.6.log "5 6 7" ""
check output-127.0.0.7.log "1 3 5 9" "4"
echo "== traces: $run/traces/*.jsonl (one JSON object per datagram)"
if "$bin" diagram traces/*.jsonl -o diagram >/dev/null 2>&1; then
  echo "== diagram: $run/diagram.md (Mermaid) and $run/diagram.svg (open in a browser)"
fi
if ((failures == 0)); then
  echo "== OK: both clients got what the topology offers, byte for byte"
  exit 0
fi
echo "== $failures check(s) failed; logs in $run/logs"
exit 1
