"""The libtorrent side of every experiment: one session set-up shared by the benchmarks
(bench/lt_seed.py, bench/lt_leech.py, run by bench/swarm.sh and bench/memory.sh) and the
interoperability tests (tests/interop_*.rs, which run their scripts with this directory on
PYTHONPATH) and the interop matrix's libtorrent client (scripts/interop/libtorrent_client.py).

Sessions listen on loopback (or the address given: the matrix's namespaces). DHT, local peer discovery, UPnP and NAT-PMP are off, so the
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


def make_session(port=0, high_performance=False, alerts=None, ip="127.0.0.1", forced_encryption=False):
    """A session on IP:PORT (0: any free port). `high_performance` starts from
    libtorrent's high_performance_seed() preset instead of its defaults; `alerts` is the alert
    mask (default: errors only); `forced_encryption` accepts and makes MSE connections only,
    RC4 only."""
    settings = lt.high_performance_seed() if high_performance else lt.default_settings()
    settings.update({
        "listen_interfaces": "%s:%d" % (ip, port),
        "outgoing_interfaces": ip,
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
    if forced_encryption:
        settings.update({
            "out_enc_policy": int(lt.enc_policy.pe_forced),
            "in_enc_policy": int(lt.enc_policy.pe_forced),
            "allowed_enc_level": int(lt.enc_level.pe_rc4),
            "prefer_rc4": True,
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
