# shellcheck shell=bash
# scripts/interop/cells.sh, sourced by scripts/interop-matrix.sh: what each column of the matrix
# runs and checks. Each cell_X runs in a subshell with one client's adapter sourced, in a fresh
# pair of namespaces (common.sh), and ends with ok, fail, impossible or not_here. The clock of a
# cell starts when the downloads start (after set-up) and stops when the last one completed.
# shellcheck disable=SC2034 # our_flags, force_encryption, keep_seeding are read by common.sh and the adapters
# shellcheck disable=SC2154 # bin, cell_dir, size_bytes, ... are the main script's globals

# A1: the client downloads from one seed of ours.
cell_A1() { client_downloads_from_ours 1; }
# A3: the client downloads from three seeds of ours.
cell_A3() { client_downloads_from_ours 3; }

client_downloads_from_ours() {
  local seeds="$1" i file="$cell_dir/ours/seed/$FILE_NAME" torrent="$cell_dir/ours.torrent"
  mkdir -p "$cell_dir/ours/seed" "$cell_dir/client/dl"
  make_file "$file"
  our_torrent "$file" "$torrent" >/dev/null
  start_tracker "$torrent"
  for ((i = 1; i <= seeds; i++)); do our_peer "$i" --seed "$file" --piece-length "$piece_length"; done
  client_start
  start_clock
  client_leech "$torrent" "$cell_dir/client/dl"
  wait_until "$client to complete" client_complete
  local ms=$(($(now_ms) - cell_started_ms)) served=0
  same "$file" "$cell_dir/client/dl/$FILE_NAME"
  for ((i = 1; i <= seeds; i++)); do
    grep_log "$cell_dir/our$i.log" "$CLI_IP:[0-9]+: send piece" && served=$((served + 1))
  done
  note "$served of $seeds seeds of ours sent pieces to $CLI_IP"
  cell_started_ms=$(($(now_ms) - ms)) # the count above is no part of the download time
  if ((seeds > 1)); then ok "$served of $seeds sent"; else ok; fi
}

# client_seeds_ours_downloads TORRENT FILE: the client seeds TORRENT from its data folder, then
# our peer 2 downloads it alone; the cell passes when its copy is FILE, byte for byte.
client_seeds_ours_downloads() {
  local torrent=$1 file=$2
  start_tracker "$torrent"
  client_start
  client_seed "$torrent" "$cell_dir/client/data"
  wait_until "$client to seed" client_complete
  start_clock
  our_peer 2 --torrent "$torrent" --dir "$cell_dir/ours/dl"
  wait_until "our peer to complete" our_complete 2
  same "$file" "$cell_dir/ours/dl/$FILE_NAME"
  ok
}

# B: our peer downloads from the client seeding (our torrent, the client holding the file).
cell_B() {
  local file="$cell_dir/client/data/$FILE_NAME" torrent="$cell_dir/ours.torrent"
  mkdir -p "$cell_dir/client/data" "$cell_dir/ours/dl"
  make_file "$file"
  our_torrent "$file" "$torrent" >/dev/null
  client_seeds_ours_downloads "$torrent" "$file"
}

# C: our peer consumes the client's own torrent (its own tool, its own piece length).
cell_C() {
  local file="$cell_dir/client/data/$FILE_NAME" torrent="$cell_dir/client.torrent" tool hash pieces
  mkdir -p "$cell_dir/client/data" "$cell_dir/ours/dl"
  make_file "$file"
  tool="$(client_make_torrent "$file" "$ANNOUNCE" "$torrent" 2>>"$cell_dir/cell.log")" \
    || fail "the client's tool could not make a torrent"
  [[ -s "$torrent" ]] || fail "no torrent from $tool"
  read -r hash pieces < <(torrent_facts "$torrent")
  note "torrent made by $tool; info-hash $hash, piece length $pieces"
  echo "$tool, $((pieces / 1024)) KiB pieces" >"$cell_dir/tool"
  client_seeds_ours_downloads "$torrent" "$file"
}

# D: a mixed swarm: our seed, the client and two leechers of ours start together; all complete.
cell_D() {
  local file="$cell_dir/ours/seed/$FILE_NAME" torrent="$cell_dir/ours.torrent" n
  mkdir -p "$cell_dir/ours/seed" "$cell_dir/ours/dl2" "$cell_dir/ours/dl3" "$cell_dir/client/dl"
  make_file "$file"
  our_torrent "$file" "$torrent" >/dev/null
  start_tracker "$torrent"
  our_peer 1 --seed "$file" --piece-length "$piece_length"
  client_start
  start_clock
  client_leech "$torrent" "$cell_dir/client/dl"
  our_peer 2 --torrent "$torrent" --dir "$cell_dir/ours/dl2"
  our_peer 3 --torrent "$torrent" --dir "$cell_dir/ours/dl3"
  wait_until "$client to complete" client_complete
  for n in 2 3; do wait_until "our peer $n to complete" our_complete "$n"; done
  same "$file" "$cell_dir/client/dl/$FILE_NAME"
  for n in 2 3; do same "$file" "$cell_dir/ours/dl$n/$FILE_NAME"; done
  ok
}

# E: forced encryption on both sides: the client (set to require MSE) downloads from our seed
# (--encryption require), then our leecher (--encryption require) downloads from the client.
cell_E() {
  [[ -z "${CLIENT_NO_ENCRYPTION:-}" ]] || impossible "$CLIENT_NO_ENCRYPTION"
  [[ "$("$bin" peer --help)" == *--encryption* ]] || not_here "not in this build"
  local file="$cell_dir/ours/seed/$FILE_NAME" torrent="$cell_dir/ours.torrent"
  mkdir -p "$cell_dir/ours/seed" "$cell_dir/ours/dl" "$cell_dir/client/dl"
  make_file "$file"
  our_torrent "$file" "$torrent" >/dev/null
  start_tracker "$torrent"
  our_flags=(--encryption require)
  force_encryption=1
  keep_seeding=1 # the client serves our leecher afterwards
  our_peer 1 --seed "$file" --piece-length "$piece_length"
  client_start
  start_clock
  client_leech "$torrent" "$cell_dir/client/dl"
  wait_until "$client to complete" client_complete
  same "$file" "$cell_dir/client/dl/$FILE_NAME"
  stop_our_peer 1
  our_peer 2 --torrent "$torrent" --dir "$cell_dir/ours/dl"
  wait_until "our peer to complete from $client" our_complete 2
  same "$file" "$cell_dir/ours/dl/$FILE_NAME"
  ok
}

# M: magnet links: the client joins from a magnet, the metadata and the file from our seed;
# then our seed stops and our leecher (peer --magnet) gets both from the client.
cell_M() {
  [[ -z "${CLIENT_NO_MAGNET:-}" ]] || impossible "$CLIENT_NO_MAGNET"
  [[ "$("$bin" peer --help)" == *--magnet* ]] || not_here "not in this build"
  local file="$cell_dir/ours/seed/$FILE_NAME" torrent="$cell_dir/ours.torrent" hash uri
  mkdir -p "$cell_dir/ours/seed" "$cell_dir/ours/dl" "$cell_dir/client/dl"
  make_file "$file"
  hash="$(our_torrent "$file" "$torrent")"
  uri="magnet:?xt=urn:btih:$hash&dn=$FILE_NAME&tr=http%3A%2F%2F$TRACKER_IP%3A$TRACKER_PORT%2Fannounce"
  note "magnet $uri"
  keep_seeding=1 # the client serves our leecher afterwards
  start_tracker "$torrent"
  our_peer 1 --seed "$file" --piece-length "$piece_length"
  client_start
  start_clock
  client_magnet "$uri" "$cell_dir/client/dl"
  wait_until "$client to complete from the magnet" client_complete
  same "$file" "$cell_dir/client/dl/$FILE_NAME"
  stop_our_peer 1
  our_peer 2 --magnet "$uri" --dir "$cell_dir/ours/dl"
  wait_until "our magnet leecher to complete from $client" our_complete 2
  same "$file" "$cell_dir/ours/dl/$FILE_NAME"
  ok
}
