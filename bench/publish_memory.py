#!/usr/bin/env python3
"""Resident memory of a tracker fed 20 valid ~8 MiB torrents by PUBLISH (issue 16.1).

Usage: bench/publish_memory.py BINARY [TRACKER OPTIONS...]
Starts `BINARY tracker --port 0 ...` on loopback, reads VmRSS from /proc before and after
publishing 20 distinct single-file torrents whose piece lists make each ~8 MiB, and prints
what the tracker answered and the RSS figures. Loopback only; the tracker is killed at the end.
"""
import hashlib, os, re, socket, subprocess, sys, time

def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))

def torrent(i):
    pieces = (8 * 1024 * 1024 - 400) // 20
    name = f"big{i:02}.bin".encode()
    info = b"d6:lengthi%de4:name%d:%s12:piece lengthi16384e6:pieces%d:" % (
        pieces * 16384, len(name), name, pieces * 20)
    info += bytes([i]) * (pieces * 20) + b"e"
    return b"d4:info" + info + b"e", hashlib.sha1(info).hexdigest()

def main():
    binary, extra = sys.argv[1], sys.argv[2:]
    proc = subprocess.Popen([binary, "tracker", "--bind", "127.0.0.1", "--port", "0", *extra],
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "RUST_LOG": "info"})
    try:
        port = None
        deadline = time.time() + 20
        while port is None and time.time() < deadline:
            m = re.search(r"listening on [\d.]+:(\d+)", proc.stderr.readline())
            port = m and int(m.group(1))
        before = rss_kib(proc.pid)
        answers = {}
        for i in range(20):
            body, h = torrent(i)
            with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
                s.sendall(b"PUBLISH %s %d\n" % (h.encode(), len(body)) + body + b"\n")
                reply = s.makefile().readline().strip()
            key = "OK published" if reply.startswith("OK published") else reply[:60]
            answers[key] = answers.get(key, 0) + 1
        time.sleep(0.5)
        after = rss_kib(proc.pid)
        for reply, n in answers.items():
            print(f"{n:3} x {reply}")
        print(f"RSS before {before/1024:.1f} MiB, after 20 PUBLISH {after/1024:.1f} MiB "
              f"({(after-before)/1024/max(1, answers.get('OK published', 0)):.1f} MiB per stored torrent)")
    finally:
        proc.kill()
        proc.wait()

main()
