# shellcheck shell=bash
# lab/lib/bin.sh, sourced by lab/lib/run.sh (lab/lab.sh) and lab/mininet/run.sh: the binary a
# lab runs. default_bin ROOT prints the path of ROOT's debug build, building it first when cargo
# is on PATH (as `cargo build` would, honouring CARGO_TARGET_DIR).
default_bin() {
  local root=$1 target
  target="${CARGO_TARGET_DIR:-$root/target}"
  [[ "$target" = /* ]] || target="$root/$target"
  if command -v cargo >/dev/null; then
    echo "== building" >&2
    (cd "$root" && cargo build --quiet) >&2
  fi
  echo "$target/debug/bittorrent-sim"
}
