# shellcheck shell=bash
# scripts/interop/transmission.sh: the Transmission adapter of the interop matrix
# (scripts/interop-matrix.sh): transmission-daemon (3.00 or newer) in the client's namespace,
# its settings.json in the cell's directory (no DHT, LPD, PEX, port mapping; uTP off; MSE
# preferred, or required for cell E), driven by transmission-remote over its RPC port on the
# namespace's own loopback. Its own torrent (cell C) is made by transmission-create.
# Completion: `transmission-remote -t 1 -i` says `Percent Done: 100%`.
# shellcheck disable=SC2154 # cdir, CLI_IP, ... are common.sh's and the main script's

tr_rpc=127.0.0.1:9091
client_version() { transmission-daemon --version 2>&1 | sed -n 's/^transmission-daemon \([^ ]*\).*/transmission \1/p'; }

tr_remote() { in_cli transmission-remote "$tr_rpc" "$@"; }

client_start() {
  local encryption=1 # 0 plaintext preferred, 1 encryption preferred, 2 required
  ((force_encryption)) && encryption=2
  mkdir -p "$cdir/transmission"
  cat >"$cdir/transmission/settings.json" <<JSON
{
  "bind-address-ipv4": "$CLI_IP",
  "dht-enabled": false,
  "download-dir": "$cdir",
  "encryption": $encryption,
  "lpd-enabled": false,
  "message-level": 3,
  "peer-port": $CLI_PORT,
  "peer-port-random-on-start": false,
  "pex-enabled": false,
  "port-forwarding-enabled": false,
  "rpc-authentication-required": false,
  "rpc-bind-address": "127.0.0.1",
  "rpc-port": 9091,
  "rpc-whitelist-enabled": false,
  "utp-enabled": false
}
JSON
  cli_bg "$cdir/transmission.log" transmission-daemon --foreground --config-dir "$cdir/transmission" --log-info
  wait_until "transmission-daemon's RPC" tr_remote -l
}

tr_add() {
  tr_remote --add "$1" --download-dir "$2" >>"$cdir/transmission.log" 2>&1 \
    || fail "transmission-remote --add failed (see client/transmission.log)"
}
client_leech() { tr_add "$1" "$2"; }
client_magnet() { tr_add "$1" "$2"; }
client_seed() {
  tr_add "$1" "$2"
  tr_remote -t 1 --verify >>"$cdir/transmission.log" 2>&1
}
client_complete() { tr_remote -t 1 -i 2>/dev/null | grep -q 'Percent Done: 100%'; }
client_make_torrent() {
  transmission-create -o "$3" -t "$2" "$1" >&2
  transmission-create --version 2>&1 | sed -n 's/^transmission-create \([^ ]*\).*/transmission-create \1/p' | head -1
}
client_stop() { tr_remote -t all -i >"$cdir/transmission-final.txt" 2>&1 || true; }
