#!/usr/bin/python3
"""A minimal client of deluged's RPC for the interop matrix (scripts/interop/deluge.sh):

    deluge_rpc.py CONFIG_DIR PORT wait                     exit 0 once the daemon answers
    deluge_rpc.py CONFIG_DIR PORT config JSON              core.set_config(JSON)
    deluge_rpc.py CONFIG_DIR PORT add TORRENT SAVE_PATH    core.add_torrent_file
    deluge_rpc.py CONFIG_DIR PORT magnet URI SAVE_PATH     core.add_torrent_magnet
    deluge_rpc.py CONFIG_DIR PORT status                   prints `progress STATE` per torrent

Why not deluge-console: Debian 12's deluge 2.0.3 console hangs under Python 3.11 (its logging
wrapper raises in findCaller and its gettext set-up fails), while the daemon itself works. This
speaks the daemon's wire format directly: TLS, then messages of a header `!BI` (protocol version
1, body length) and a zlib-compressed rencoded body; a request is [[id, method, args, kwargs]],
a reply (1, id, result) or an error (2, id, ...). It logs in as `localclient` with the password
from CONFIG_DIR/auth. It does not follow events nor keep a session between calls.
"""
import base64
import json
import socket
import ssl
import struct
import sys
import zlib

import rencode


def call(sock, request_id, method, *args, **kwargs):
    body = zlib.compress(rencode.dumps([[request_id, method, list(args), kwargs]]))
    sock.sendall(struct.pack("!BI", 1, len(body)) + body)
    while True:
        header = recv_exact(sock, 5)
        _version, length = struct.unpack("!BI", header)
        reply = rencode.loads(zlib.decompress(recv_exact(sock, length)), decode_utf8=True)
        if reply[0] == 3:  # an event: not ours to answer
            continue
        if reply[0] == 2:
            raise SystemExit("deluged refused %s: %s" % (method, reply[2:]))
        return reply[2]


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise SystemExit("deluged closed the connection")
        data += chunk
    return data


def main():
    config_dir, port, command = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    user, password = open(config_dir + "/auth").readline().strip().split(":")[:2]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock = context.wrap_socket(raw)
    call(sock, 1, "daemon.login", user, password, client_version="2.0.3")
    if command == "config":
        call(sock, 2, "core.set_config", json.loads(sys.argv[4]))
    elif command == "add":
        dump = base64.b64encode(open(sys.argv[4], "rb").read()).decode()
        name = sys.argv[4].rsplit("/", 1)[-1]
        print(call(sock, 2, "core.add_torrent_file", name, dump, {"download_location": sys.argv[5]}))
    elif command == "magnet":
        print(call(sock, 2, "core.add_torrent_magnet", sys.argv[4], {"download_location": sys.argv[5]}))
    elif command == "status":
        for tid, s in call(sock, 2, "core.get_torrents_status", {}, ["progress", "state"]).items():
            print("%s %s %s" % (tid, s["progress"], s["state"]))


if __name__ == "__main__":
    main()
