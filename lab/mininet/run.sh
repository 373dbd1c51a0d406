#!/usr/bin/env bash
# lab/mininet/run.sh: runs both Mininet experiments end to end, the tracker swarm
# (lab/mininet/swarm.py) and the flooding assignment (lab/mininet/flood.py), and reports
# PASS or FAIL for each. Needs root, Debian's `mininet` package (for /usr/bin/python3) and
# bridge-utils; it does not install them (scripts/setup.sh does).
#
#   sudo lab/mininet/run.sh [--bin PATH] [--workdir DIR] [OPTIONS]
#
# Without --bin it builds with cargo (when cargo is on PATH) and uses target/debug, as
# lab/lab.sh does. Other options go to both scripts: --prefix P, --bw MBIT, --delay D,
# --jitter D, --loss PERCENT, --timeout SECONDS (see swarm.py --help); --peers N, --size S and
# --client-timeout D go to the one they belong to.
#
# Exit status: 0 when both passed, 1 when one failed, 77 when this machine cannot run Mininet
# (not root, Mininet or its Python module missing).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python=/usr/bin/python3 # Debian's mininet module is for Debian's python, not a pyenv one

bin="" workdir="" common=() swarm_only=() flood_only=()
while (($#)); do
  case "$1" in
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    --bin) bin="$2" ;;
    --workdir) workdir="$2" ;;
    --peers|--size|--piece-length) swarm_only+=("$1" "$2") ;;
    --client-timeout) flood_only+=("$1" "$2") ;;
    --prefix|--bw|--delay|--jitter|--loss|--timeout) common+=("$1" "$2") ;;
    *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  (($# >= 2)) || { echo "run.sh: $1 needs a value" >&2; exit 2; }
  shift 2
done

skip() { printf '%s\nSKIPPED (lab/mininet/run.sh): %s\n%s\n' "$(printf '=%.0s' {1..78})" "$*" "$(printf '=%.0s' {1..78})" >&2; exit 77; }
[[ "$(id -u)" -eq 0 ]] || skip "Mininet needs root: try sudo $0"
command -v mnexec >/dev/null || skip "no mnexec: install Debian's mininet package (scripts/setup.sh)"
command -v brctl >/dev/null || skip "no brctl: install bridge-utils (Mininet's lxbr switch uses it)"
"$python" -c 'import mininet' 2>/dev/null || skip "$python has no mininet module (Debian package mininet)"

# shellcheck source=lab/lib/bin.sh
source "$root/lab/lib/bin.sh"
if [[ -z "$bin" ]]; then bin="$(default_bin "$root")"; fi
[[ -x "$bin" ]] || { echo "run.sh: no binary at $bin: run cargo build first, or give --bin PATH" >&2; exit 2; }
[[ -n "$workdir" ]] || workdir="$(mktemp -d "${TMPDIR:-/tmp}/btmn.XXXXXX")"

declare -A result
status=0
for experiment in swarm flood; do
  extra=()
  if [[ "$experiment" = swarm ]]; then extra=("${swarm_only[@]}"); else extra=("${flood_only[@]}"); fi
  echo "== lab/mininet/$experiment.py"
  code=0
  "$python" "$here/$experiment.py" --bin "$bin" --workdir "$workdir/$experiment" \
    "${common[@]}" "${extra[@]}" || code=$?
  case "$code" in
    0) result[$experiment]=PASS ;;
    77) result[$experiment]=SKIPPED; ((status)) || status=77 ;;
    *) result[$experiment]="FAIL (exit $code)"; status=1 ;;
  esac
done
echo
echo "== mininet lab: swarm ${result[swarm]}, flood ${result[flood]}; files and logs in $workdir"
exit "$status"
