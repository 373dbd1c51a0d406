#!/usr/bin/env bash
# Installs what bittorrent-sim's demo and tests use on a fresh Debian/Ubuntu machine:
# the Debian packages of the real BitTorrent tools we interoperate with (the clients of
# scripts/interop-matrix.sh among them), tmux for the demo, and
# wrk and iperf3 for the benchmarks (bench/), shellcheck for the scripts' test, netcat for
# the by-hand transcript in PROTOCOL.md, and Mininet (with brctl and ping) for lab/mininet/.
# Idempotent: installs only what is missing. Needs root (or sudo) the first time.
set -euo pipefail

packages=(transmission-cli transmission-daemon mktorrent python3-libtorrent aria2 opentracker tshark chromium tmux wrk iperf3
    shellcheck netcat-openbsd mininet bridge-utils iputils-ping
    qbittorrent-nox rtorrent ctorrent deluged deluge-console)
missing=()
command -v npm >/dev/null 2>&1 || packages+=(npm) # for the browser tests (Mermaid), below
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

# Mermaid for tests/mermaid_render.rs, pinned by tests/browser/package-lock.json (test-only; the
# test prints SKIPPED without it). Needs npm (Debian package `npm`); skipped when absent.
browser_tests="$(dirname "$0")/../tests/browser"
if [[ ! -f "$browser_tests/node_modules/mermaid/dist/mermaid.min.js" ]]; then
    if command -v npm >/dev/null 2>&1; then
        echo "setup: installing mermaid for the browser tests (npm ci in tests/browser)"
        (cd "$browser_tests" && npm ci --no-audit --no-fund --loglevel=error)
    else
        echo "setup: npm not found; tests/mermaid_render.rs will print SKIPPED" >&2
    fi
fi

if ! command -v cargo >/dev/null 2>&1; then
    echo "setup: cargo not found; install Rust (https://rustup.rs), then run this again" >&2
    exit 1
fi
echo "setup: ready ($(cargo --version))"
