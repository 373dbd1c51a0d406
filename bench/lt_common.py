"""The libtorrent side of every experiment: one session set-up shared by the benchmarks
(bench/lt_seed.py, bench/lt_leech.py, run by bench/swarm.sh and bench/memory.sh) and the
interoperability tests (tests/interop_libtorrent.rs, tests/interop_trackers.rs, which run their
scripts with this directory on PYTHONPATH).

Sessions listen on loopback only. DHT, local peer discovery, UPnP and NAT-PMP are off, so the
only peers a session finds are those given to `connect_peer` or listed by the torrent's tracker.
uTP is off too: our peer speaks TCP only, and libtorrent tries uTP first on an outgoing
connection, which costs a ~5 s time-out before it falls back to TCP. Encryption is left at its
default (`pe_enabled`): libtorrent first sends an encrypted handshake (MSE) offering RC4 and
plaintext, and our peer (`--encryption allow`) answers it, selecting plaintext.
tests/interop_encryption.rs forces RC4 instead.

This module only builds sessions and adds torrents; the scripts decide what to print and when
to exit.
"""
import libtorrent as lt


def make_session(port=0, high_performance=False, alerts=None):
    """A session on 127.0.0.1:PORT (0: any free port). `high_performance` starts from
    libtorrent's high_performance_seed() preset instead of its defaults; `alerts` is the alert
    mask (default: errors only)."""
    settings = lt.high_performance_seed() if high_performance else lt.default_settings()
    settings.update({
        "listen_interfaces": "127.0.0.1:%d" % port,
        "outgoing_interfaces": "127.0.0.1",
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_incoming_utp": False,
        "enable_outgoing_utp": False,
        "enable_incoming_tcp": True,
        "enable_outgoing_tcp": True,
        "allow_multiple_connections_per_ip": True,
        "alert_mask": lt.alert.category_t.error_notification if alerts is None else alerts,
    })
    return lt.session(settings)


def add(session, torrent, save_path, announce=False, seed_mode=False):
    """Adds TORRENT, its data in SAVE_PATH. With `announce` the session announces to the
    torrent's trackers (otherwise it has none and only meets the peers it is given);
    `seed_mode` trusts the file on disk and checks each piece when it is first requested."""
    atp = lt.add_torrent_params()
    atp.ti = lt.torrent_info(torrent)
    atp.save_path = save_path
    if not announce:
        atp.trackers = []
    if seed_mode:
        atp.flags |= lt.torrent_flags.seed_mode
    return session.add_torrent(atp)
