# shellcheck shell=bash
# scripts/interop/qbittorrent.sh: the qBittorrent adapter of the interop matrix
# (scripts/interop-matrix.sh): qbittorrent-nox in the client's namespace, its profile in the
# cell's directory (legal notice accepted; no DHT, LSD, PEX, UPnP; TCP only; encryption allowed,
# or forced for cell E), driven through its Web API with curl on the namespace's own loopback
# (no login: local host authentication is off). qbittorrent-nox has no torrent maker (4.5's is
# in the GUI only): its own torrent (cell C) is made by libtorrent's create_torrent, the library
# qBittorrent is built on. Completion: /api/v2/torrents/info says progress 1.
# shellcheck disable=SC2154 # cdir, CLI_IP, here, ... are common.sh's and the main script's

qb_api=http://127.0.0.1:8080/api/v2
client_version() { qbittorrent-nox --version 2>/dev/null | sed -n 's/^qBittorrent v/qbittorrent-nox /p'; }

qb() { in_cli curl -sS -m 5 "$@"; }

client_start() {
  local encryption=0 # 0 allowed (preferred), 1 forced, 2 disabled
  ((force_encryption)) && encryption=1
  mkdir -p "$cdir/profile/qBittorrent/config"
  cat >"$cdir/profile/qBittorrent/config/qBittorrent.conf" <<CONF
[LegalNotice]
Accepted=true

[BitTorrent]
Session\\AddTorrentPaused=false
Session\\AnonymousModeEnabled=false
Session\\BTProtocol=TCP
Session\\DHTEnabled=false
Session\\DefaultSavePath=$cdir
Session\\Encryption=$encryption
Session\\Interface=eth0
Session\\InterfaceName=eth0
Session\\LSDEnabled=false
Session\\PeXEnabled=false
Session\\Port=$CLI_PORT
Session\\QueueingSystemEnabled=false

[Preferences]
Connection\\UPnP=false
General\\Locale=en
WebUI\\CSRFProtection=false
WebUI\\HostHeaderValidation=false
WebUI\\LocalHostAuth=false
WebUI\\Port=8080
CONF
  cli_bg "$cdir/qbittorrent.log" env HOME="$cdir/profile" qbittorrent-nox --profile="$cdir/profile" --webui-port=8080
  wait_until "qbittorrent-nox's Web API" qb -o /dev/null "$qb_api/app/version"
}

qb_add() {
  qb "$@" >>"$cdir/qbittorrent.log" 2>&1 || fail "the Web API refused the torrent (see client/qbittorrent.log)"
}
client_leech() { qb_add -F "torrents=@$1" -F "savepath=$2" "$qb_api/torrents/add"; }
client_seed() { qb_add -F "torrents=@$1" -F "savepath=$2" "$qb_api/torrents/add"; }
client_magnet() { qb_add -F "urls=$1" -F "savepath=$2" "$qb_api/torrents/add"; }
client_complete() { qb "$qb_api/torrents/info" 2>/dev/null | grep -qE '"progress":1(\.0)?[,}]'; }
client_make_torrent() {
  /usr/bin/python3 "$here/interop/libtorrent_client.py" make "$1" "$2" "$3" >&2
  echo "libtorrent $(/usr/bin/python3 -c 'import libtorrent; print(libtorrent.__version__)') create_torrent, v1+v2 hybrid"
}
client_stop() { qb "$qb_api/torrents/info" >"$cdir/qbittorrent-final.json" 2>&1 || true; }
