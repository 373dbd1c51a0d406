#!/usr/bin/env bash
# lab/lab.sh: a lab of N hosts on one Linux machine, with delay, jitter, loss and a rate limit
# on every link, running the tracker swarm or the flooding chunk network. Needs root.
#
#   lab/lab.sh [swarm] [OPTIONS]   a tracker (--remote) on host 1, a seed on host 2, a
#                                  downloading peer on each other host; waits until every peer
#                                  holds the file, compares every copy, asks the tracker whom
#                                  it lists, prints a summary
#   lab/lab.sh flood [OPTIONS]     the UDP assignment's topology: peers 1-5 on hosts 1-5 (links
#                                  1-2, 1-3, 2-5, 3-5, 4-5), client 1 on host 6 asks peer 1 for
#                                  5,6,7, client 2 on host 7 asks peer 4 for 1,3,4,5,9; checks
#                                  and prints both clients' logs
#   lab/lab.sh check               can this machine run the lab? exit 0 (says which emulator)
#                                  or 77 (says why not)
#   lab/lab.sh clean [--prefix P]  delete namespaces left by a run that was killed with SIGKILL
#
# Each host is a network namespace PREFIX-hI with one interface, eth0, address 10.99.0.I/24.
# The hosts' veths meet in a switch namespace PREFIX-sw, so no address, route or link is ever
# added to the machine's own namespace and no packet can leave the machine. Everything
# (processes, namespaces, links) is removed on exit, on Ctrl+C and on SIGTERM.
#
# Options (defaults in brackets):
#   --hosts N              swarm: hosts, tracker included, 3 to 200 [9]
#   --delay D              one-way delay added to each host's egress [20ms]
#   --jitter D             delay variation, +/- [5ms]
#   --loss P               loss on each host's egress, percent [1%]
#   --rate R               rate limit of each host's egress, tc syntax (kbit, mbit, gbit), or
#                          none [100mbit]
#   --file-size S          swarm: size of the shared file, unit required (B, KiB, MiB, GiB) [4MiB]
#   --piece-length S       swarm: piece length [256KiB]
#   --parallel N           swarm: peer --parallel [4]
#   --round-interval D     swarm: peer --round-interval [0]
#   --ping-interval D      swarm: peer --ping-interval [2s]
#   --report-interval D    swarm: peer --report-interval [2s]
#   --min-peers N          swarm: peer --min-peers [1]
#   --cleanup-interval D   swarm: tracker --cleanup-interval [10s]
#   --client-timeout D     flood: client --timeout [5s]
#   --timeout D            give up when the run has not finished after this long [300s]
#   --emulator E           auto, netem or user [auto]: netem is tc netem; user is lab/netemu.py,
#                          a user-space switch applying the same delay, jitter and loss, for
#                          kernels without sch_netem (the rate limit is then a tc tbf qdisc)
#   --bin PATH             the bittorrent-sim binary [build with cargo, target/debug]
#   --workdir DIR          where files and logs go, kept after the run [a new /tmp/btlab.*]
#   --prefix P             namespace name prefix [btlabPID]
#   --hold                 after the summary, keep the lab up until Ctrl+C (try
#                          `ip netns exec PREFIX-h3 bash`)
#
# Exit status: 0 when every check passed, 1 when one failed, 2 on a usage error, 77 when this
# machine cannot run the lab (not root, or no network namespaces).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"

# The work is in lab/lib/: options.sh (options and their units), namespaces.sh (the machine,
# namespaces, clean-up, `check` and `clean`), net.sh (links and their emulation), run.sh (the
# binary, the clock, processes in hosts), swarm.sh and flood.sh (the two experiments).
# shellcheck source=lab/lib/options.sh
source "$here/lib/options.sh"
# shellcheck source=lab/lib/namespaces.sh
source "$here/lib/namespaces.sh"
# shellcheck source=lab/lib/net.sh
source "$here/lib/net.sh"
# shellcheck source=lab/lib/bin.sh
source "$here/lib/bin.sh"
# shellcheck source=lab/lib/run.sh
source "$here/lib/run.sh"
# shellcheck source=lab/lib/swarm.sh
source "$here/lib/swarm.sh"
# shellcheck source=lab/lib/flood.sh
source "$here/lib/flood.sh"

mode=swarm
case "${1:-}" in
  swarm|flood|check|clean) mode="$1"; shift ;;
esac
parse_options "$@"
check_options
require_machine

trap cleanup EXIT
trap 'echo "lab: interrupted" >&2; exit 130' INT
trap 'echo "lab: terminated" >&2; exit 143' TERM

if [[ "$mode" = clean ]]; then run_clean; exit 0; fi
if [[ "$mode" = check ]]; then run_check; exit 0; fi

prepare_program
if [[ "$mode" = flood ]]; then run_flood; else run_swarm; fi
