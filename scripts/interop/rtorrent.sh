# shellcheck shell=bash
# scripts/interop/rtorrent.sh: the rtorrent adapter of the interop matrix
# (scripts/interop-matrix.sh): rtorrent (libtorrent 0.13, rakshasa) in daemon mode
# (system.daemon.set=true, no terminal) in the client's namespace, with a .rtorrent.rc
# generated in the cell's directory: the data directory, a watch directory it loads torrents
# from, port 6881 on the client's address, no DHT, PEX or UDP trackers, encryption allowed (or
# required for cell E). A magnet goes into the watch directory as a `d10:magnet-uri...e` file.
# rtorrent has no torrent maker: its own torrent (cell C) is made by mktorrent. Completion: an
# event handler touches client/done when the download finishes or a hash check finds it whole.
# shellcheck disable=SC2154 # cdir, CLI_IP, ... are common.sh's and the main script's

client_version() { rtorrent -h 2>&1 | sed -n "s/^Rakshasa's BitTorrent client version \([0-9.]*[0-9]\).*/rtorrent \1/p"; }
client_start() { :; } # started with its first torrent: the data directory is in its .rtorrent.rc

rtorrent_run() {
  local data="$1" encryption="allow_incoming,try_outgoing,enable_retry"
  ((force_encryption)) && encryption="require,require_RC4,allow_incoming,try_outgoing"
  mkdir -p "$cdir/watch" "$cdir/session" "$data"
  cat >"$cdir/rtorrent.rc" <<RC
system.daemon.set = true
directory.default.set = $data
session.path.set = $cdir/session
network.bind_address.set = $CLI_IP
network.local_address.set = $CLI_IP
network.port_range.set = $CLI_PORT-$CLI_PORT
network.port_random.set = no
dht.mode.set = disable
protocol.pex.set = no
trackers.use_udp.set = no
protocol.encryption.set = $encryption
pieces.hash.on_completion.set = yes
log.open_file = "main", $cdir/rtorrent-events.log
log.add_output = "info", "main"
method.set_key = event.download.finished, matrix_done, "execute.nothrow = touch, $cdir/done"
method.set_key = event.download.hash_done, matrix_whole, "branch = d.complete=, \"execute.nothrow = touch, $cdir/done\""
schedule2 = matrix_watch, 1, 1, "load.start = $cdir/watch/*.torrent"
RC
  cli_bg "$cdir/rtorrent.log" rtorrent -n -o "import=$cdir/rtorrent.rc"
}
client_leech() { rtorrent_run "$2" && cp "$1" "$cdir/watch/"; }
client_seed() { rtorrent_run "$2" && cp "$1" "$cdir/watch/"; }
client_magnet() {
  rtorrent_run "$2"
  printf 'd10:magnet-uri%d:%se' "${#1}" "$1" >"$cdir/watch/magnet.torrent"
}
client_complete() { [[ -e "$cdir/done" ]]; }
client_make_torrent() {
  mktorrent -a "$2" -o "$3" "$1" >&2
  echo "mktorrent $(mktorrent -h 2>&1 | sed -n 's/^mktorrent \([0-9.]*\).*/\1/p' | head -1)"
}
client_stop() { :; } # the namespace's processes end with it
