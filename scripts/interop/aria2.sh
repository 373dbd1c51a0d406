# shellcheck shell=bash
# scripts/interop/aria2.sh: the aria2 adapter of the interop matrix (scripts/interop-matrix.sh):
# aria2c (Debian's aria2) run as a command line per torrent, in the client's namespace, no DHT,
# LPD or PEX (aria2 has no uTP). aria2 has no torrent maker: its own torrent (cell C) is made by
# mktorrent. Completion: a leech (torrent or magnet) runs a hook (--on-bt-download-complete)
# that touches a file, then exits 0 (--seed-time=0) unless the cell keeps it seeding; a seed
# reports through aria2's JSON-RPC (tellActive: completedLength = totalLength).
# shellcheck disable=SC2154 # cdir, CLI_IP, ... are common.sh's and the main script's

client_version() { aria2c --version | sed -n 's/^aria2 version /aria2 /p'; }
client_start() { :; } # nothing runs until a torrent is given

aria2_run() {
  local flags=(--no-conf=true --enable-dht=false --enable-dht6=false --enable-peer-exchange=false
    --bt-enable-lpd=false --listen-port="$CLI_PORT" --disable-ipv6=true --file-allocation=none
    --summary-interval=0 --console-log-level=notice --allow-overwrite=true
    --bt-tracker-connect-timeout=5 --bt-tracker-interval=5)
  if ((force_encryption)); then flags+=(--bt-require-crypto=true --bt-min-crypto-level=arc4); fi
  rm -f "$cdir/aria2.rc"
  # shellcheck disable=SC2016 # expanded by the inner bash
  cli_bg "$cdir/aria2.log" bash -c 'aria2c "${@:2}"; echo $? >"$1"' _ "$cdir/aria2.rc" "${flags[@]}" "$@"
}

aria2_seeding=0
# aria2_get URI-OR-TORRENT DIR: downloads; a hook (--on-bt-download-complete) touches a file the
# moment the file is complete, before aria2c's last announce (the hook runs for a magnet's
# metadata too: it checks the path). Exits then, unless the cell keeps the client seeding.
aria2_get() {
  local after=(--seed-time=0)
  ((keep_seeding)) && after=(--seed-ratio=0.0)
  # shellcheck disable=SC2016 # expanded by the hook's sh
  printf '#!/bin/sh\ncase "$3" in */%s) touch %q ;; esac\n' "$FILE_NAME" "$cdir/aria2.done" >"$cdir/aria2-done.sh"
  chmod +x "$cdir/aria2-done.sh"
  aria2_run --on-bt-download-complete="$cdir/aria2-done.sh" "${after[@]}" --dir "$2" "$1"
}
client_leech() { aria2_get "$1" "$2"; }
client_magnet() { aria2_get "$1" "$2"; }
client_seed() {
  aria2_seeding=1
  # With RPC on, aria2c stays up after its downloads: only a seed, which never exits, has it.
  aria2_run --enable-rpc=true --rpc-listen-port=6800 --rpc-listen-all=false \
    --check-integrity=true --seed-ratio=0.0 --dir "$2" "$1"
}

client_complete() {
  local rc reply
  if [[ -s "$cdir/aria2.rc" ]]; then
    rc="$(cat "$cdir/aria2.rc")"
    [[ "$rc" = 0 ]] || fail "aria2c exited with status $rc (see client/aria2.log)"
    return 0
  fi
  [[ -e "$cdir/aria2.done" ]] && return 0
  ((aria2_seeding)) || return 1
  reply="$(in_cli curl -s -m 2 -d '{"jsonrpc":"2.0","id":1,"method":"aria2.tellActive","params":[["totalLength","completedLength","status"]]}' http://127.0.0.1:6800/jsonrpc 2>/dev/null)" || return 1
  [[ "$reply" =~ \"completedLength\":\"([0-9]+)\".*\"totalLength\":\"([0-9]+)\" ]] || return 1
  [[ "${BASH_REMATCH[2]}" != 0 && "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ]]
}

client_make_torrent() {
  mktorrent -a "$2" -o "$3" "$1" >&2
  echo "mktorrent $(mktorrent -h 2>&1 | sed -n 's/^mktorrent \([0-9.]*\).*/\1/p' | head -1)"
}

client_stop() { :; } # the namespace's processes end with it
