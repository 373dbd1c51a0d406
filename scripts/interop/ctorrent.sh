# shellcheck shell=bash
# scripts/interop/ctorrent.sh: the ctorrent adapter of the interop matrix
# (scripts/interop-matrix.sh): Enhanced CTorrent (Debian's ctorrent, dnh3.3.2) run as a command
# line per torrent in the client's namespace, listening on the client's address. ctorrent has
# no DHT, PEX, LPD, uTP, encryption (MSE) or magnet support at all: its `-h` and its manual page
# list no such option, so cells E and M are impossible. Its own torrent (cell C) is made by
# `ctorrent -t`. Completion: it logs `Download complete.` or, for a checked seed, `Seed for
# others`; a leech runs with `-e 0` (it exits once complete, after a last announce).
# shellcheck disable=SC2154 # cdir, CLI_IP, ... are common.sh's and the main script's

# shellcheck disable=SC2034 # read by cells.sh
CLIENT_NO_ENCRYPTION="ctorrent has no MSE"
CLIENT_NO_MAGNET="ctorrent has no magnet support"

client_version() { { ctorrent -h 2>&1 || true; } | sed -n 's/^Enhanced CTorrent \([^ ]*\).*/ctorrent \1/p' | head -1; }
client_start() { :; } # nothing runs until a torrent is given

ctorrent_run() {
  local torrent="$1" save="$2" exit_hours="$3"
  rm -f "$cdir/ctorrent.rc"
  # shellcheck disable=SC2016 # expanded by the inner bash
  cli_bg "$cdir/ctorrent.log" bash -c 'ctorrent "${@:2}"; echo $? >"$1"' _ "$cdir/ctorrent.rc" \
    -e "$exit_hours" -i "$CLI_IP" -p "$CLI_PORT" -b "$cdir/ctorrent.bf" -s "$save" "$torrent"
}
client_leech() { ctorrent_run "$1" "$2/$FILE_NAME" 0; }
client_seed() { ctorrent_run "$1" "$2/$FILE_NAME" 100; }
client_magnet() { fail "$CLIENT_NO_MAGNET"; }

client_complete() {
  if [[ -s "$cdir/ctorrent.rc" ]]; then
    [[ "$(cat "$cdir/ctorrent.rc")" = 0 ]] || fail "ctorrent exited with status $(cat "$cdir/ctorrent.rc") (see client/ctorrent.log)"
    return 0
  fi
  grep -qE 'Download complete\.|Seed for others' "$cdir/ctorrent.log" 2>/dev/null
}
client_make_torrent() {
  (cd "$(dirname "$1")" && ctorrent -t -u "$2" -s "$3" "$(basename "$1")") >&2
  client_version
}
client_stop() { :; } # the namespace's processes end with it
