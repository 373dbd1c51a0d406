#!/usr/bin/env bash
# Every benchmark of BENCHMARKS.md in one command: builds with --release once, then runs each
# script with its defaults (each alternates ours and its reference, at least 3 runs) and
# collects their tables in bench/work/results.md.
#
#   bench/run.sh                 # everything, about 15 minutes on 2 cores
#   bench/run.sh swarm memory    # only these (swarm, tracker, memory, p2p)
#
# Run it on an otherwise idle machine: every scenario shares the CPU with nothing but itself.
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

ALL=(swarm tracker memory p2p)
SELECTED=("$@")
((${#SELECTED[@]})) || SELECTED=("${ALL[@]}")
for name in "${SELECTED[@]}"; do
    [[ " ${ALL[*]} " == *" $name "* ]] || die "unknown benchmark '$name' (one of: ${ALL[*]})"
done

build
(cd "$ROOT" && cargo build --release --example tracker_load)
# The scripts below use the binaries just built; BTSIM_BIN stops each from running cargo again.
export BTSIM_BIN=$BIN BTSIM_LOAD_BIN=$ROOT/target/release/examples/tracker_load

RESULTS=$WORK/results.md
{
    echo "# bench/run.sh $*"
    echo
    echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)),"
    echo "$(free -g | awk '/Mem:/ { print $2 " GiB" }') RAM, $(uname -sr), $("$BIN" --version)"
} >"$RESULTS"

for name in "${SELECTED[@]}"; do
    echo
    echo "######## bench/$name.sh"
    {
        echo
        echo "## $name"
        echo
    } >>"$RESULTS"
    # Only the summary (from the first blank line on) goes to results.md; all of it to the screen.
    bash "$BENCH/$name.sh" | tee "$WORK/logs/$name.out"
    awk 'found || /^$/ { found = 1; print }' "$WORK/logs/$name.out" >>"$RESULTS"
done

echo
echo "tables collected in $RESULTS"
