#!/usr/bin/env bash
# Runs every lesson under scenarios/ at full size, one after the other, and says which passed.
#
#   scripts/scenarios.sh              every scenarios/*.scenario
#   scripts/scenarios.sh --quick      their quick profiles (what tests/scenario.rs runs, and more)
#   scripts/scenarios.sh FILE...      only these
#
# Builds the release binary (unless BTSIM_BIN names one), then runs
# `bittorrent-sim scenario FILE` for each; every run writes scenario-runs/NAME-TIMESTAMP/
# (git-ignored): logs, traces, events.csv, diagram.svg and the three charts. Exits 0 when every
# scenario passed, 1 otherwise. The free-riders scenario needs the peer's --choking and
# --free-ride options.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=()
files=()
for arg in "$@"; do
  case "$arg" in
    --quick) quick=(--quick) ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) files+=("$arg") ;;
  esac
done
((${#files[@]})) || files=(scenarios/*.scenario)

bin="${BTSIM_BIN:-}"
if [[ -z $bin ]]; then
  cargo build --release --quiet
  bin=target/release/bittorrent-sim
fi

passed=() failed=()
for file in "${files[@]}"; do
  echo "== $file ${quick[*]}"
  if "$bin" scenario "$file" "${quick[@]}"; then
    passed+=("$file")
  else
    failed+=("$file")
  fi
done
echo "== ${#passed[@]} passed: ${passed[*]:-none}"
if ((${#failed[@]})); then
  echo "== ${#failed[@]} FAILED: ${failed[*]}"
  exit 1
fi
