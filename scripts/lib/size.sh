# shellcheck shell=bash
# scripts/lib/size.sh: the one parser of every script's size options (test.sh, bench/*.sh,
# lab/lab.sh): a whole number with its unit, B, KiB, MiB or GiB (powers of two), as the binary's
# own --piece-length and scenario files take them. A bare number is refused: `--size 4` meant
# 4 MiB to one script and 4 bytes to another. Defines functions and SIZE_FORMS only; rates
# (512KiB/s) and tc rates (100mbit) have their own parsers.

SIZE_FORMS="a whole number with its unit: B, KiB, MiB or GiB (e.g. 4MiB, 256KiB, 100B)"

# size_bytes SIZE: prints the bytes of SIZE; fails, printing nothing, unless it has a unit.
size_bytes() {
  [[ "$1" =~ ^([0-9]+)(B|KiB|MiB|GiB)$ ]] || return 1
  local n=$((10#${BASH_REMATCH[1]}))
  case "${BASH_REMATCH[2]}" in
    KiB) echo $((n << 10)) ;;
    MiB) echo $((n << 20)) ;;
    GiB) echo $((n << 30)) ;;
    *) echo "$n" ;;
  esac
}

# size_error OPTION VALUE: the message for a size option's bad value (on stdout, for die).
size_error() {
  if [[ "$2" =~ ^[0-9]+$ ]]; then
    echo "$1 $2: a bare number is ambiguous (bytes? MiB?); give $SIZE_FORMS"
  else
    echo "$1 $2: not a size; give $SIZE_FORMS"
  fi
}

# size_arg OPTION VALUE [mib]: prints VALUE in bytes (with `mib`: in whole MiB); otherwise
# prints "SCRIPT: message" on stderr and returns 2, so a caller writes
# `SIZE_MIB=$(size_arg --size "$2" mib) || exit 2`. The size must be above 0.
size_arg() {
  local bytes
  if ! bytes=$(size_bytes "$2"); then
    echo "${0##*/}: $(size_error "$1" "$2")" >&2
    return 2
  fi
  if ((bytes == 0)); then
    echo "${0##*/}: $1 $2: must be above 0" >&2
    return 2
  fi
  if [[ ${3:-} == mib ]]; then
    if ((bytes % (1 << 20))); then
      echo "${0##*/}: $1 $2: must be a whole number of MiB (e.g. 16MiB)" >&2
      return 2
    fi
    bytes=$((bytes >> 20))
  fi
  echo "$bytes"
}
