"""Shared set-up of the libtorrent reference sessions used by bench/swarm.sh."""
import libtorrent as lt


def make_session(port, high_performance=False):
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
        "alert_mask": lt.alert.category_t.error_notification,
    })
    return lt.session(settings)


def add(session, torrent, save_path):
    atp = lt.add_torrent_params()
    atp.ti = lt.torrent_info(torrent)
    atp.save_path = save_path
    atp.trackers = []
    return session.add_torrent(atp)
