#!/usr/bin/python3
"""libtorrent reference seeder: lt_seed.py PORT TORRENT DIR [--high-performance].

DIR holds the complete file. Prints `seeding` once the file is checked, then seeds until killed.
"""
import sys
import time

from lt_common import add, make_session


def main():
    port, torrent, save_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    high = "--high-performance" in sys.argv[4:]
    session = make_session(port, high_performance=high)
    handle = add(session, torrent, save_path)
    while not handle.status().is_seeding:
        time.sleep(0.05)
    print("seeding", flush=True)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
