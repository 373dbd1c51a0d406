#!/usr/bin/env bash
# Makes the README's pictures with the project's own commands, so they show what the program
# really draws: a half-finished swarm's status page and terminal piece map (headless Chromium
# screenshots), and the sequence diagram of a small traced download.
#
#   scripts/screenshots.sh            writes docs/img/*.png
#
# Needs chromium (scripts/setup.sh installs it). Uses ports 16900-16905 on 127.0.0.1 (16905: the status page, as browsers refuse 6000).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
cargo build --release --quiet
bin="$root/target/release/bittorrent-sim"
work="$root/test-run/screenshots"
out="$root/docs/img"
rm -rf "$work"
mkdir -p "$work" "$out"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

shoot() { # shoot URL PNG WIDTH HEIGHT
  chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --disable-quic \
    --user-data-dir="$work/chromium" --hide-scrollbars --window-size="$3,$4" \
    --screenshot="$2" "$1" >/dev/null 2>&1
  echo "wrote ${2#"$root"/}"
}

wait_for() { # wait_for FILE TEXT
  local i
  for ((i = 0; i < 200; i++)); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "screenshots: timed out waiting for '$2' in $1" >&2
  exit 1
}

# 1. A swarm frozen half way: a seed, two partial peers, an empty one; rounds an hour apart.
cd "$work"
head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' 'x' > demo.bin
"$bin" create demo.bin --piece-length 32KiB --tracker 127.0.0.1:16900 -o demo.torrent >/dev/null
mkdir -p p1 p2 p3 p4
cp demo.bin p1/
head -c $((40 * 32768)) demo.bin > p2/demo.bin
dd if=demo.bin of=p3/demo.bin bs=32768 skip=30 seek=30 count=20 conv=notrunc status=none
"$bin" tracker --port 16900 --page-port 16905 --bind 127.0.0.1 --torrent demo.torrent 2>tracker.log &
pids+=($!)
wait_for tracker.log "tracker listening"
for i in 1 2 3 4; do
  "$bin" peer --port $((16900 + i)) --bind 127.0.0.1 --tracker 127.0.0.1:16900 \
    --torrent demo.torrent --dir "p$i" --round-interval 1h 2>"peer$i.log" &
  pids+=($!)
  wait_for "peer$i.log" "joined swarm"
done
shoot "http://127.0.0.1:16905/" "$out/status-page.png" 1100 480

# 2. The same swarm in the terminal, drawn as a terminal would show it.
"$bin" status --tracker 127.0.0.1:16900 > status.txt
{
  echo '<!DOCTYPE html><html><head><meta charset="utf-8"><style>'
  echo 'body{margin:0;background:#1e1e1e;color:#e0e0e0}pre{margin:16px;font:14px/1.35 monospace}'
  echo '</style></head><body><pre>$ bittorrent-sim status --tracker 127.0.0.1:16900'
  sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g' status.txt
  echo '</pre></body></html>'
} > status.html
shoot "file://$work/status.html" "$out/piece-map.png" 900 300
cleanup
pids=()

# 3. A traced download: tracker, a seed and one leecher, drawn as a sequence diagram.
head -c $((3 * 32768 - 1000)) demo.bin > small.bin
mkdir -p leech traces
"$bin" tracker --port 16900 --bind 127.0.0.1 --trace traces/tracker.jsonl 2>t2.log &
pids+=($!)
wait_for t2.log "tracker listening"
"$bin" peer --port 16901 --bind 127.0.0.1 --tracker 127.0.0.1:16900 --seed small.bin \
  --piece-length 32KiB --min-peers 1 --ping-interval 10s --report-interval 10s \
  --trace traces/seed.jsonl 2>s2.log &
pids+=($!)
wait_for s2.log "joined swarm"
"$bin" peer --port 16902 --bind 127.0.0.1 --tracker 127.0.0.1:16900 --dir leech \
  --min-peers 1 --ping-interval 10s --report-interval 10s --round-interval 300ms \
  --trace traces/leecher.jsonl 2>l2.log &
pids+=($!)
wait_for l2.log "download complete"
sleep 0.3 # let the last have and not-interested reach the traces
cleanup
pids=()
"$bin" diagram traces/*.jsonl -o diagram --fold-pings --exclude-types PING,PONG,REPORT,OK >/dev/null
size=$(sed -n 's/.*<svg[^>]* width="\([0-9]*\)"[^>]* height="\([0-9]*\)".*/\1 \2/p' diagram.svg | head -n 1)
read -r width height <<<"${size:-900 1200}"
shoot "file://$work/diagram.svg" "$out/diagram.png" "$width" "$height"
