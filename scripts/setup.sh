#!/usr/bin/env bash
# Installs what bittorrent-sim's demo and tests use on a fresh Debian/Ubuntu machine:
# the Debian packages of the real BitTorrent tools we interoperate with, tmux for the demo, and
# wrk and iperf3 for the benchmarks (bench/), shellcheck for the scripts' test, and netcat for
# the by-hand transcript in PROTOCOL.md.
# Idempotent: installs only what is missing. Needs root (or sudo) the first time.
set -euo pipefail

packages=(transmission-cli mktorrent python3-libtorrent aria2 opentracker tshark chromium tmux wrk iperf3
    shellcheck netcat-openbsd)
missing=()
for package in "${packages[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done

if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}"
    sudo=()
    if [[ $(id -u) -ne 0 ]]; then sudo=(sudo); fi
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
    echo "setup: cargo not found; install Rust (https://rustup.rs), then run this again" >&2
    exit 1
fi
echo "setup: ready ($(cargo --version))"
