#!/usr/bin/python3
"""libtorrent reference leecher: lt_leech.py PORT TORRENT DIR PEER_PORT...

Connects directly (connect_peer) to every 127.0.0.1:PEER_PORT and exits 0 once it is seeding,
i.e. holds every piece, each checked against its SHA-1. Exits 1 after a 600 s timeout.
"""
import sys
import time

from lt_common import add, make_session


def main():
    port, torrent, save_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    peers = [int(p) for p in sys.argv[4:]]
    session = make_session(port)
    handle = add(session, torrent, save_path)
    deadline = time.monotonic() + 600
    last_connect = 0.0
    while True:
        status = handle.status()
        if status.is_seeding:
            return 0
        now = time.monotonic()
        if now > deadline:
            print("timeout: %.1f%%" % (status.progress * 100), file=sys.stderr)
            return 1
        # (re)connect every second while few peers are connected: the other leechers of a
        # swarm may not be listening yet when this one starts
        if now - last_connect > 1.0 and status.num_peers < len(peers):
            for peer in peers:
                handle.connect_peer(("127.0.0.1", peer))
            last_connect = now
        time.sleep(0.01)


if __name__ == "__main__":
    sys.exit(main())
