# shellcheck shell=bash
# scripts/interop/libtorrent.sh: the libtorrent adapter of the interop matrix
# (scripts/interop-matrix.sh): Debian's python3-libtorrent (so /usr/bin/python3) driven by
# scripts/interop/libtorrent_client.py, one session per cell listening on the client's address,
# no DHT, LSD, UPnP, NAT-PMP, uTP off. Its own torrent (cell C) is made by libtorrent's
# create_torrent. Completion: the script prints `complete` once the torrent is seeding.
# shellcheck disable=SC2154 # cdir, CLI_IP, here, ... are common.sh's and the main script's

lt_script="$here/interop/libtorrent_client.py"
client_version() { echo "libtorrent $(/usr/bin/python3 -c 'import libtorrent; print(libtorrent.__version__)')"; }
client_start() { :; } # the session starts with its torrent

lt_run() {
  local enc=plain
  ((force_encryption)) && enc=forced
  cli_bg "$cdir/libtorrent.log" /usr/bin/python3 -u "$lt_script" "$1" "$CLI_IP:$CLI_PORT" "$enc" "$2" "$3"
}
client_leech() { lt_run leech "$1" "$2"; }
client_seed() { lt_run seed "$1" "$2"; }
client_magnet() { lt_run magnet "$1" "$2"; }
client_complete() { grep -q '^complete' "$cdir/libtorrent.log" 2>/dev/null; }
client_make_torrent() {
  /usr/bin/python3 "$lt_script" make "$1" "$2" "$3" >&2
  echo "$(client_version) create_torrent, v1+v2 hybrid"
}
client_stop() { :; } # the namespace's processes end with it
