#!/usr/bin/python3
"""lab/mininet/swarm.py: the tracker swarm in Mininet: N hosts on one Linux bridge switch.

As a topology for Mininet's own command line (the CLI, `xterm h1`, `h2 bittorrent-sim ...`):

    sudo mn --custom lab/mininet/swarm.py --topo swarm,5 --switch lxbr --controller none
    sudo mn --custom lab/mininet/swarm.py --topo swarm,5,delay=50ms,loss=2 --switch lxbr \\
        --controller none

Host hI has 10.0.0.I/24. Each host's link is a TCLink (delay, jitter, loss, bw on both of its
ends) where the kernel has sch_netem; where it has not, delay, jitter and loss are left out
and a NETEM UNAVAILABLE banner says so (bw, an htb qdisc, stays).

As a script, an end-to-end run checked like `lab/lab.sh swarm`:

    sudo /usr/bin/python3 lab/mininet/swarm.py --peers 4 --size 1MiB

starts `bittorrent-sim tracker --remote` on h1, a seed on h2 and a downloading peer on h3 and
up, waits (with a deadline) until each completes, compares every copy with the original byte
for byte, asks the tracker (SWARMS, LIST) whom it lists, prints PASS or FAIL (exit 0 or 1) and
removes the network on every exit. It does not build the binary (lab/mininet/run.sh does).
"""

import inspect
import os
import re
import sys

try:
    from mininet.topo import Topo
except ImportError:  # mnlab.main says loudly that Mininet is missing
    Topo = object

sys.dont_write_bytecode = True  # no __pycache__ in the checkout, written as root
sys.path.insert(0, os.path.dirname(os.path.abspath(inspect.currentframe().f_code.co_filename)))
import mnlab  # noqa: E402 pylint: disable=wrong-import-position

TRACKER_PORT = 6000
PEER_PORT = 7001


class SwarmTopo(Topo):
    """N hosts h1..hN (10.0.0.1..N/24) on one switch s1; optional bw/delay/jitter/loss."""

    # pylint: disable=arguments-differ,too-many-arguments
    def build(self, n=5, bw=None, delay='10ms', jitter='2ms', loss=0.5, prefix=''):
        self.prefix = prefix
        opts, self.links_text = mnlab.link_options(bw, delay, jitter, loss)
        switch = self.addSwitch(prefix + 's1')
        for i in range(1, int(n) + 1):
            host = self.addHost(prefix + 'h%d' % i, ip='10.0.0.%d/24' % i)
            self.addLink(host, switch, **opts)


topos = {'swarm': SwarmTopo}


def size_bytes(text):
    match = re.fullmatch(r'(\d+)(B|KiB|MiB|GiB)', text)
    if not match:
        raise ValueError('%s: give a unit (B, KiB, MiB, GiB), e.g. 4MiB' % text)
    return int(match.group(1)) << {'B': 0, 'KiB': 10, 'MiB': 20, 'GiB': 30}[match.group(2)]


def ip(i):
    return '10.0.0.%d' % i


def run_swarm(args):
    """The experiment; returns the failures (empty: PASS)."""
    hosts = args.peers + 1
    topo = SwarmTopo(n=hosts, bw=args.bw, delay=args.delay, jitter=args.jitter,
                     loss=args.loss, prefix=args.prefix)
    with mnlab.Run(topo, args) as run:
        return experiment(run, args, topo, hosts)


def experiment(run, args, topo, hosts):  # pylint: disable=too-many-locals
    failures = []
    seed_dir = os.path.join(run.workdir, 'seed')
    os.makedirs(seed_dir, exist_ok=True)
    data = os.path.join(seed_dir, 'lab-file.bin')
    size = size_bytes(args.size)
    with open(data, 'wb') as f:
        f.write(os.urandom(size))
    torrent = os.path.join(run.workdir, 'lab-file.torrent')
    out = mnlab.subprocess.run([run.bin, 'create', data, '--piece-length', args.piece_length,
                                '--tracker', '%s:%d' % (ip(1), TRACKER_PORT), '-o', torrent],
                               capture_output=True, text=True, check=False)
    match = re.search(r'info-hash ([0-9a-f]{40})', out.stdout)
    if not match:
        raise mnlab.Failed('create printed no info-hash: %s%s' % (out.stdout, out.stderr))
    info_hash = match.group(1)
    print('== mininet lab: %d hosts %sh1..%sh%d (10.0.0.1-%d/24) on Linux bridge %ss1; %s'
          % (hosts, args.prefix, args.prefix, hosts, hosts, args.prefix, topo.links_text))
    print('   h1: tracker; h2: seed; h3-h%d: peers; file %s (%d bytes), info-hash %s'
          % (hosts, args.size, size, info_hash))
    print('   files and logs: %s' % run.workdir)

    tracker = run.start('h1', 'tracker.log', 'tracker', '--remote', '--bind', ip(1), '--port',
                        TRACKER_PORT, '--cleanup-interval', '10s', '--torrent', torrent)
    run.wait_for('tracker.log', 'tracker listening on', 20, 'the tracker', tracker)
    print('== h2 -> tracker: TCP connect + one request = %s ms (two round trips)'
          % run.probe_ms('h2', ip(1), TRACKER_PORT))

    timers = ['--ping-interval', '2s', '--report-interval', '2s', '--round-interval', '0',
              '--min-peers', '1', '--parallel', '4']
    peers = {}
    for i in range(2, hosts + 1):
        if i == 2:
            source = ['--seed', data, '--piece-length', args.piece_length]
        else:
            source = ['--torrent', torrent, '--dir', os.path.join(run.workdir, 'h%d' % i)]
        peers[i] = run.start('h%d' % i, 'h%d.log' % i, 'peer', '--port', PEER_PORT, '--bind',
                             ip(i), '--tracker', '%s:%d' % (ip(1), TRACKER_PORT), *source,
                             *timers)
        if i == 2:  # the seed first, so that every other peer finds a holder at once
            run.wait_for('h2.log', 'listening on', 20, 'the seed', peers[2])

    print('== waiting for %d peers to complete (at most %ds in all)' % (hosts - 2, args.timeout))
    complete = re.compile(r'download complete: .* verified')
    for i in range(3, hosts + 1):
        run.wait_for('h%d.log' % i, complete.pattern, run.left(), 'the peer on h%d' % i,
                     peers[i])
        print('   h%d %s: complete' % (i, ip(i)))
        for what, proc in (('the tracker', tracker), ('the seed', peers[2])):
            if proc.poll() is not None:
                raise mnlab.Failed('%s ended (see %s)' % (what, run.logs))

    print('== comparing every copy with the original')
    with open(data, 'rb') as f:
        original = f.read()
    for i in range(3, hosts + 1):
        copy = os.path.join(run.workdir, 'h%d' % i, 'lab-file.bin')
        try:
            with open(copy, 'rb') as f:
                same = f.read() == original
        except OSError:
            same = False
        print('   h%d: %s %s' % (i, copy, 'identical' if same else 'DIFFERS'))
        if not same:
            failures.append('h%d: %s differs from the original' % (i, copy))

    # Every peer under its own address; a peer dropped for a late ping is back at its next one.
    print('== asking the tracker (from h2): SWARMS, then LIST %s 1' % info_hash)
    expected = [ip(i) for i in range(2, hosts + 1)]
    for _ in range(20):
        swarms = run.tcp_exchange('h2', ip(1), TRACKER_PORT, 'SWARMS\nQUIT\n')
        listing = run.tcp_exchange('h2', ip(1), TRACKER_PORT, 'LIST %s 1\nQUIT\n' % info_hash)
        got = sorted({line.split()[1].rsplit(':', 1)[0] for line in listing.splitlines()
                      if line.startswith('PEER ')}, key=lambda a: int(a.rsplit('.', 1)[1]))
        if got == expected or run.left() < 1:
            break
        mnlab.time.sleep(0.5)
    for line in swarms.splitlines() + listing.splitlines():
        if line.startswith(('SWARM ', 'PEER ')):
            print('   ' + line)
    if not any(line.startswith('SWARM %s ' % info_hash) for line in swarms.splitlines()):
        failures.append("the tracker's SWARMS does not list %s" % info_hash)
    if got == expected:
        print('   the tracker lists all %d peers, each under its own address' % len(expected))
    else:
        failures.append('the tracker lists %s, expected %s' % (got, expected))
    print('   eth0 tx bytes: %s' % ', '.join('h%d %s' % (i, run.tx_bytes('h%d' % i))
                                            for i in range(1, hosts + 1)))
    mnlab.verdict(failures, 'all %d peers complete with identical copies; the tracker lists '
                  'every peer under its own address' % (hosts - 2))
    if args.cli:
        run.cli()
    return failures


def parser():
    p = mnlab.new_parser('The tracker swarm on Mininet hosts, checked end to end.')
    p.add_argument('--peers', type=int, default=4,
                   help='peers, the seed included (one host each, plus h1 for the tracker) [4]')
    p.add_argument('--size', default='1MiB', help='size of the shared file (B, KiB, MiB) [1MiB]')
    p.add_argument('--piece-length', default='64KiB', help='piece length [64KiB]')
    return p


def checked(args, p):
    if not 2 <= args.peers <= 99:
        p.error('--peers %d: 2 to 99 (a seed and at least one downloader)' % args.peers)
    for opt in ('size', 'piece_length'):
        try:
            size_bytes(getattr(args, opt))
        except ValueError as err:
            p.error('--%s %s' % (opt.replace('_', '-'), err))
    return run_swarm(args)


if __name__ == '__main__':
    PARSER = parser()
    mnlab.main(lambda args: checked(args, PARSER), PARSER)
