#!/usr/bin/python3
"""The libtorrent client of the interop matrix (scripts/interop/libtorrent.sh):

    libtorrent_client.py seed|leech|magnet IP:PORT plain|forced TORRENT-OR-MAGNET SAVE_PATH
    libtorrent_client.py make FILE ANNOUNCE_URL OUT.torrent

One session listening on IP:PORT (TCP only: uTP off), no DHT, LSD, UPnP or NAT-PMP; the torrent
announces to its tracker, so the session meets only the peers our tracker lists. `forced`
requires MSE encryption both ways. Prints `complete` once the torrent is seeding (for a seed:
once its file is checked), then keeps serving until killed. `make` writes libtorrent's own
torrent of FILE (libtorrent's default piece length and format) and exits.
It does not decide success: the matrix compares the bytes.
"""
import os
import sys
import time

import libtorrent as lt

# The session settings every libtorrent of this project uses (bench/lt_common.py).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
import lt_common  # noqa: E402


def make(path, url, out):
    fs = lt.file_storage()
    lt.add_files(fs, path)
    t = lt.create_torrent(fs)
    t.add_tracker(url)
    lt.set_piece_hashes(t, os.path.dirname(os.path.abspath(path)))
    with open(out, "wb") as f:
        f.write(lt.bencode(t.generate()))
    print("libtorrent %s made %s: piece length %d" % (lt.__version__, out, t.piece_length()))


def run(mode, listen, enc, what, save_path):
    ip, port = listen.rsplit(":", 1)
    cat = lt.alert.category_t
    ses = lt_common.make_session(int(port), alerts=cat.error_notification | cat.peer_notification
                                 | cat.status_notification, ip=ip,
                                 forced_encryption=(enc == "forced"))
    if mode == "magnet":
        atp = lt.parse_magnet_uri(what)
    else:
        atp = lt.add_torrent_params()
        atp.ti = lt.torrent_info(what)
    atp.save_path = save_path
    handle = ses.add_torrent(atp)
    print("libtorrent %s: %s %s on %s, encryption %s" % (lt.__version__, mode, what, listen, enc), flush=True)
    said = None
    done = False
    while True:
        for alert in ses.pop_alerts():
            print("alert %s: %s" % (type(alert).__name__, alert.message()), flush=True)
        s = handle.status()
        line = "progress %5.1f%% state %s peers %d" % (s.progress * 100, s.state, s.num_peers)
        if line != said:
            print(line, flush=True)
            said = line
        if s.is_seeding and not done:
            print("complete", flush=True)
            done = True
        time.sleep(0.05)


def main():
    if sys.argv[1] == "make":
        make(*sys.argv[2:5])
    else:
        run(*sys.argv[1:6])


if __name__ == "__main__":
    main()
