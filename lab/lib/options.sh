# shellcheck shell=bash
# lab/lib/options.sh, sourced by lab/lab.sh: the options' defaults, their parsing, the units they
# take (durations, sizes, tc rates) and their checks. Touches neither the machine nor the network.
# shellcheck disable=SC2034 # the settings are read by lab.sh and the other lab/lib files
# shellcheck disable=SC2154 # the settings are lab.sh's globals, set in lib/options.sh

usage_error() { echo "lab: $*" >&2; echo "lab: see $0 --help" >&2; exit 2; }

# parse_options ARGS...: the settings, from their defaults and the command line.
parse_options() {
  local opt value
  hosts=9 delay=20ms jitter=5ms loss=1% rate=100mbit
  file_size=4MiB piece_length=256KiB parallel=4 round_interval=0 ping_interval=2s
  report_interval=2s min_peers=1 cleanup_interval=10s client_timeout=5s timeout=300s
  emulator=auto bin="" workdir="" prefix="btlab$$" prefix_given=0 hold=0
  subnet=10.99.0 tracker_port=6000 peer_port=7001

  while (($#)); do
    opt="$1"
    case "$opt" in
      -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
      --hold) hold=1; shift; continue ;;
    esac
    (($# >= 2)) || usage_error "$opt needs a value"
    value="$2"
    shift 2
    case "$opt" in
      --hosts) hosts="$value" ;;
      --delay) delay="$value" ;;
      --jitter) jitter="$value" ;;
      --loss) loss="$value" ;;
      --rate) rate="$value" ;;
      --file-size) file_size="$value" ;;
      --piece-length) piece_length="$value" ;;
      --parallel) parallel="$value" ;;
      --round-interval) round_interval="$value" ;;
      --ping-interval) ping_interval="$value" ;;
      --report-interval) report_interval="$value" ;;
      --min-peers) min_peers="$value" ;;
      --cleanup-interval) cleanup_interval="$value" ;;
      --client-timeout) client_timeout="$value" ;;
      --timeout) timeout="$value" ;;
      --emulator) emulator="$value" ;;
      --bin) bin="$value" ;;
      --workdir) workdir="$value" ;;
      --prefix) prefix="$value" prefix_given=1 ;;
      *) usage_error "unknown option $opt" ;;
    esac
  done
}

# Milliseconds (may be fractional) of a duration: 20ms, 1.5s, 500us, 0.
duration_ms() {
  local text="$1" num unit
  [[ "$text" =~ ^([0-9]+(\.[0-9]+)?)(us|ms|s)?$ ]] || return 1
  num="${BASH_REMATCH[1]}" unit="${BASH_REMATCH[3]}"
  [[ -n "$unit" || "$num" = 0 ]] || return 1
  case "$unit" in
    us) awk -v n="$num" 'BEGIN { print n / 1000 }' ;;
    s) awk -v n="$num" 'BEGIN { print n * 1000 }' ;;
    *) echo "$num" ;;
  esac
}
# Sizes (--file-size, --piece-length): scripts/lib/size.sh, the one parser every script shares;
# a bare 4 could mean bytes or MiB, so it is refused.
# shellcheck source=scripts/lib/size.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/size.sh"
# Bits per second of a tc rate: 100mbit, 512kbit, 1gbit, 8000bit.
rate_bps() {
  [[ "$1" =~ ^([0-9]+)(bit|kbit|mbit|gbit)$ ]] || return 1
  case "${BASH_REMATCH[2]}" in
    kbit) echo $((BASH_REMATCH[1] * 1000)) ;;
    mbit) echo $((BASH_REMATCH[1] * 1000000)) ;;
    gbit) echo $((BASH_REMATCH[1] * 1000000000)) ;;
    *) echo "${BASH_REMATCH[1]}" ;;
  esac
}

# check_options: refuses a bad value with a usage error (exit 2); derives the settings in
# milliseconds, bytes and percent that the run uses.
check_options() {
  local d
  delay_ms="$(duration_ms "$delay")" || usage_error "--delay $delay: expected e.g. 20ms"
  jitter_ms="$(duration_ms "$jitter")" || usage_error "--jitter $jitter: expected e.g. 5ms"
  [[ "$loss" =~ ^([0-9]+(\.[0-9]+)?)%?$ ]] || usage_error "--loss $loss: expected e.g. 1%"
  loss_pct="${BASH_REMATCH[1]}"
  awk -v l="$loss_pct" 'BEGIN { exit !(l <= 100) }' || usage_error "--loss $loss: at most 100%"
  [[ "$rate" = none ]] || rate_bps "$rate" >/dev/null || usage_error "--rate $rate: expected e.g. 100mbit or none"
  file_bytes="$(size_bytes "$file_size")" || usage_error "$(size_error --file-size "$file_size")"
  size_bytes "$piece_length" >/dev/null || usage_error "$(size_error --piece-length "$piece_length")"
  ((file_bytes > 0)) || usage_error "--file-size must be above 0"
  timeout_ms="$(duration_ms "$timeout")" || usage_error "--timeout $timeout: expected e.g. 300s"
  timeout_s="${timeout_ms%.*}"; timeout_s=$(((timeout_s + 999) / 1000))
  client_timeout_ms="$(duration_ms "$client_timeout")" || usage_error "--client-timeout $client_timeout: expected e.g. 5s"
  for d in "$round_interval" "$ping_interval" "$report_interval" "$cleanup_interval"; do
    duration_ms "$d" >/dev/null || usage_error "bad duration $d: expected e.g. 2s"
  done
  if [[ ! "$hosts" =~ ^[0-9]+$ ]] || ((hosts < 3 || hosts > 200)); then usage_error "--hosts $hosts: 3 to 200"; fi
  [[ "$parallel" =~ ^[0-9]+$ && "$min_peers" =~ ^[0-9]+$ ]] || usage_error "--parallel and --min-peers take a number"
  case "$emulator" in auto|netem|user) ;; *) usage_error "--emulator $emulator: auto, netem or user" ;; esac
  [[ "$prefix" =~ ^[A-Za-z0-9_.-]+$ && ${#prefix} -le 40 ]] || usage_error "--prefix $prefix: letters, digits, _ . - (at most 40)"
  if [[ "$mode" = flood ]]; then hosts=7; fi
}
