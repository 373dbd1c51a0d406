#!/usr/bin/env python3
"""A user-space stand-in for `tc netem`, used by lab.sh when the kernel has no sch_netem.

It runs inside the lab's switch namespace and *is* the switch: instead of a kernel bridge it
opens one AF_PACKET socket per switch port (the far end of each host's veth), learns which MAC
address lives behind which port, and forwards every Ethernet frame after applying the delay,
jitter and loss of the host the frame came from, so each host's settings act on that host's
egress exactly as `tc qdisc add dev eth0 root netem ...` would. The rate limit stays in the
kernel (a `tc tbf` qdisc on each host's eth0, set up by lab.sh).

    netemu.py --port h1:20:5:1 --port h2:20:5:1 ...      # NAME:DELAY_MS:JITTER_MS:LOSS_PERCENT

Jitter draws each frame's delay uniformly from [delay - jitter, delay + jitter] but never lets
a frame overtake an earlier frame of the same host (netem with a rate keeps the order too), so
TCP sees delay variation, not reordering. Frames are read and written with a virtio-net header
(PACKET_VNET_HDR) so that checksum-offloaded frames keep their "checksum to be completed"
mark on the way through. Prints `ready` on stdout once every port is open; on SIGTERM prints
its counters on stderr and exits.
"""

import argparse
import heapq
import random
import select
import signal
import socket
import sys
import time

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_VNET_HDR = 15
PACKET_OUTGOING = 4
VNET_HDR_LEN = 10  # struct virtio_net_hdr
MAX_FRAME = 65536 + VNET_HDR_LEN


class Port:
    def __init__(self, name, delay_ms, jitter_ms, loss_percent):
        self.name = name
        self.delay = delay_ms / 1000.0
        self.jitter = jitter_ms / 1000.0
        self.loss = loss_percent / 100.0
        self.last_due = 0.0  # frames of one port leave in the order they came
        self.received = 0
        self.dropped = 0
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.sock.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        self.sock.bind((name, ETH_P_ALL))
        self.sock.setblocking(False)


def parse_port(text):
    try:
        name, delay, jitter, loss = text.split(":")
        return name, float(delay), float(jitter), float(loss)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected NAME:DELAY_MS:JITTER_MS:LOSS_PERCENT, got {text!r}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", action="append", type=parse_port, required=True)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    ports = [Port(*spec) for spec in args.port]
    by_fd = {p.sock.fileno(): p for p in ports}
    macs = {}  # MAC address -> Port, learned from source addresses
    queue = []  # (due time, sequence number, ingress port, frame with its vnet header)
    seq = 0
    counters = {"forwarded": 0, "flooded": 0, "send_errors": 0}

    def report(*_):
        received = sum(p.received for p in ports)
        dropped = sum(p.dropped for p in ports)
        print(f"netemu: {received} frames in, {dropped} dropped as loss, "
              f"{counters['forwarded']} forwarded, {counters['flooded']} flooded, "
              f"{counters['send_errors']} send errors", file=sys.stderr, flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, report)
    signal.signal(signal.SIGINT, report)

    poller = select.poll()
    for p in ports:
        poller.register(p.sock.fileno(), select.POLLIN)
    print("ready", flush=True)

    def send(port, frame):
        try:
            port.sock.send(frame)
        except OSError:
            counters["send_errors"] += 1  # a full queue is one more lost frame

    while True:
        timeout = None
        if queue:
            timeout = max(0, int((queue[0][0] - time.monotonic()) * 1000) + 1)
        for fd, _ in poller.poll(timeout):
            port = by_fd[fd]
            for _ in range(256):  # then give the other ports a turn
                try:
                    frame, addr = port.sock.recvfrom(MAX_FRAME)
                except BlockingIOError:
                    break
                if addr[2] == PACKET_OUTGOING or len(frame) < VNET_HDR_LEN + 14:
                    continue  # our own transmissions, seen by our own socket
                port.received += 1
                if port.loss and rng.random() < port.loss:
                    port.dropped += 1
                    continue
                src = frame[VNET_HDR_LEN + 6:VNET_HDR_LEN + 12]
                if not src[0] & 1:
                    macs[src] = port
                now = time.monotonic()
                due = now + port.delay
                if port.jitter:
                    due += rng.uniform(-port.jitter, port.jitter)
                due = max(due, now, port.last_due)
                port.last_due = due
                seq += 1
                heapq.heappush(queue, (due, seq, port, frame))
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, _, ingress, frame = heapq.heappop(queue)
            dst = frame[VNET_HDR_LEN:VNET_HDR_LEN + 6]
            out = None if dst[0] & 1 else macs.get(dst)
            if out is None:
                counters["flooded"] += 1
                for p in ports:
                    if p is not ingress:
                        send(p, frame)
            elif out is not ingress:
                counters["forwarded"] += 1
                send(out, frame)


if __name__ == "__main__":
    main()
