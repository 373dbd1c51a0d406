# shellcheck shell=bash
# scripts/interop/deluge.sh: the Deluge adapter of the interop matrix (scripts/interop-matrix.sh):
# deluged (2.0.x, on libtorrent-rasterbar) in the client's namespace, its core.conf written in
# the cell's directory before it starts (no DHT, LSD, UPnP, NAT-PMP, PEX; port 6881 on the
# client's address; encryption enabled, or forced for cell E; Deluge 2.0 has no uTP switch, so
# uTP stays on and libtorrent falls back to TCP). It is driven through its RPC port by
# scripts/interop/deluge_rpc.py: Debian 12's deluge-console (2.0.3) hangs under Python 3.11.
# Deluge's own torrent maker (cell C) is its library module deluge.maketorrent.
# Completion: core.get_torrents_status says progress 100.
# shellcheck disable=SC2154 # cdir, CLI_IP, here, ... are common.sh's and the main script's

deluge_port=58846
client_version() { deluged --version 2>/dev/null | sed -n 's/^deluged \(.*\)/deluged \1/p'; }

deluge_rpc() { in_cli /usr/bin/python3 "$here/interop/deluge_rpc.py" "$cdir/deluge" "$deluge_port" "$@"; }

client_start() {
  local enc_policy=1 enc_level=2 # policy 0 forced, 1 enabled, 2 disabled; level 1 full RC4, 2 either
  ((force_encryption)) && enc_policy=0 enc_level=1
  mkdir -p "$cdir/deluge"
  cat >"$cdir/deluge/core.conf" <<CONF
{"file": 1, "format": 1}{
  "dht": false, "lsd": false, "upnp": false, "natpmp": false, "utpex": false,
  "new_release_check": false, "random_port": false, "listen_ports": [$CLI_PORT, $CLI_PORT],
  "listen_interface": "$CLI_IP", "listen_random_port": null,
  "enc_in_policy": $enc_policy, "enc_out_policy": $enc_policy, "enc_level": $enc_level,
  "stop_seed_at_ratio": false, "download_location": "$cdir", "enabled_plugins": []
}
CONF
  cli_bg "$cdir/deluged.log" deluged -c "$cdir/deluge" -d -p "$deluge_port" -L none
  wait_until "deluged's RPC" deluge_rpc wait
}

deluge_add() {
  deluge_rpc "$@" >>"$cdir/deluged.log" 2>&1 || fail "deluged refused the torrent (see client/deluged.log)"
}
client_leech() { deluge_add add "$1" "$2"; }
client_seed() { deluge_add add "$1" "$2"; }
client_magnet() { deluge_add magnet "$1" "$2"; }
client_complete() { deluge_rpc status 2>/dev/null | grep -qE '^[0-9a-f]{40} 100(\.0)? '; }
client_make_torrent() {
  /usr/bin/python3 - "$1" "$2" "$3" <<'PY' >&2
import sys
from deluge.maketorrent import TorrentMetadata
t = TorrentMetadata()
t.data_path = sys.argv[1]
t.trackers = [[sys.argv[2]]]
t.save(sys.argv[3])
PY
  echo "deluge.maketorrent $(deluged --version 2>/dev/null | sed -n 's/^deluged //p')"
}
client_stop() { deluge_rpc status >"$cdir/deluge-final.txt" 2>&1 || true; }
