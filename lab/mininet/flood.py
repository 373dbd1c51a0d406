#!/usr/bin/python3
"""lab/mininet/flood.py: the flooding assignment's topology in Mininet: peers 1-5 on h1-h5
(10.0.0.1-5, UDP ports 5001-5005), client 1 on h6 and client 2 on h7, all on one Linux bridge
switch. Who floods to whom is the peers' command lines (neighbours 1-2, 1-3, 2-5, 3-5, 4-5),
as in the assignment and `lab/lab.sh flood`; the switch joins every host.

As a topology for Mininet's own command line:

    sudo mn --custom lab/mininet/flood.py --topo flood --switch lxbr --controller none

(options as swarm.py's: `--topo flood,delay=20ms,loss=1`; without sch_netem in the kernel
delay and loss are left out under a loud NETEM UNAVAILABLE banner).

As a script, an end-to-end run checked like `lab/lab.sh flood`:

    sudo /usr/bin/python3 lab/mininet/flood.py

writes the sample chunks and key-values files (`flood sample`), starts the five peers, then
client 1 (asks peer 1 for 5,6,7) and client 2 (asks peer 4 for 1,3,4,5,9) at once, and checks
their logs: client 1 got 5, 6 and 7; client 2 got 1, 3, 5 and 9 and logged `0.0.0.0:0 - 4`;
each line names a peer that holds the chunk; every received chunk equals its source. PASS or
FAIL, exit 0 or 1; the network is removed on every exit. It does not build the binary.
"""

import inspect
import os
import re
import sys
import time

try:
    from mininet.topo import Topo
except ImportError:  # mnlab.main says loudly that Mininet is missing
    Topo = object

sys.dont_write_bytecode = True  # no __pycache__ in the checkout, written as root
sys.path.insert(0, os.path.dirname(os.path.abspath(inspect.currentframe().f_code.co_filename)))
import mnlab  # noqa: E402 pylint: disable=wrong-import-position

# The assignment's sample (src/flood/sample.rs): who neighbours whom, who holds what.
NEIGHBOURS = {1: [2, 3], 2: [1, 5], 3: [1, 5], 4: [5], 5: [2, 3, 4]}
HOLDS = {1: {5, 6, 7, 8}, 2: {1, 2}, 3: {3, 6, 7, 8}, 4: {6, 7, 8}, 5: {9, 10}}
# Client number: (host, contact peer, wanted, expected received, expected not found).
CLIENTS = {1: (6, 1, '5,6,7', [5, 6, 7], []), 2: (7, 4, '1,3,4,5,9', [1, 3, 5, 9], [4])}


class FloodTopo(Topo):
    """h1-h5 (the peers) and h6, h7 (the clients), 10.0.0.I/24, on one switch s1."""

    # pylint: disable=arguments-differ,too-many-arguments
    def build(self, bw=None, delay='10ms', jitter='2ms', loss=0.5, prefix=''):
        self.prefix = prefix
        opts, self.links_text = mnlab.link_options(bw, delay, jitter, loss)
        switch = self.addSwitch(prefix + 's1')
        for i in range(1, 8):
            host = self.addHost(prefix + 'h%d' % i, ip='10.0.0.%d/24' % i)
            self.addLink(host, switch, **opts)


topos = {'flood': FloodTopo}


def ip(i):
    return '10.0.0.%d' % i


def run_flood(args):
    topo = FloodTopo(bw=args.bw, delay=args.delay, jitter=args.jitter, loss=args.loss,
                     prefix=args.prefix)
    with mnlab.Run(topo, args) as run:
        return experiment(run, args, topo)


def experiment(run, args, topo):
    flood_dir = os.path.join(run.workdir, 'flood')
    os.makedirs(flood_dir, exist_ok=True)
    mnlab.subprocess.run([run.bin, 'flood', 'sample', flood_dir], check=True,
                         stdout=mnlab.subprocess.DEVNULL)
    print('== mininet lab: 7 hosts %sh1..%sh7 (10.0.0.1-7/24) on Linux bridge %ss1; %s'
          % (args.prefix, args.prefix, args.prefix, topo.links_text))
    print('   h1-h5: peers (links 1-2, 1-3, 2-5, 3-5, 4-5); h6: client 1 -> peer 1 wants 5,6,7;'
          ' h7: client 2 -> peer 4 wants 1,3,4,5,9')
    print('   files and logs: %s' % run.workdir)
    peers = {}
    for n in range(1, 6):
        neighbours = ['%s:%d' % (ip(i), 5000 + i) for i in NEIGHBOURS[n]]
        peers[n] = run.start('h%d' % n, 'peer%d.log' % n, 'flood', 'peer',
                             '%s:%d' % (ip(n), 5000 + n), 'key-values-files_peer%d' % n,
                             *neighbours, cwd=flood_dir)
    for n in range(1, 6):
        run.wait_for('peer%d.log' % n, 'listening on', 20, 'peer %d' % n, peers[n])

    clients = {}
    for c, (host, contact, wanted, _, _) in CLIENTS.items():
        clients[c] = (time.monotonic(), run.start(
            'h%d' % host, 'client%d.log' % c, 'flood', 'client',
            '%s:%d' % (ip(contact), 5000 + contact), wanted, '--bind', ip(host),
            '--timeout', args.client_timeout, cwd=flood_dir))
    print('== waiting for both clients (each at most --client-timeout %s)' % args.client_timeout)
    failures = []
    until = time.monotonic() + float(args.client_timeout.rstrip('s')) + 30
    for c, (started, proc) in clients.items():
        while proc.poll() is None:
            if time.monotonic() > min(until, run.deadline):
                raise mnlab.Failed('client %d did not finish in time' % c)
            time.sleep(0.1)
        print('   client %d (h%d): done after %d ms, status %d'
              % (c, CLIENTS[c][0], (time.monotonic() - started) * 1000, proc.returncode))
        if proc.returncode != 0:
            failures.append('client %d exited with status %d' % (c, proc.returncode))

    for c, (host, _, _, want, absent) in CLIENTS.items():
        log = 'output-%s.log' % ip(host)
        print('== %s' % os.path.join(flood_dir, log))
        failures += check_log(flood_dir, ip(host), want, absent)
    print('   eth0 tx bytes: %s' % ', '.join('h%d %s' % (i, run.tx_bytes('h%d' % i))
                                            for i in range(1, 8)))
    mnlab.verdict(failures, 'client 1 got 5,6,7; client 2 got 1,3,5,9 and logged '
                  '0.0.0.0:0 - 4; every chunk equals its source')
    if args.cli:
        run.cli()
    return failures


def check_log(flood_dir, client_ip, want, absent):
    """As scripts/flood-demo.sh checks a client's output log; returns the failures."""
    log = 'output-%s.log' % client_ip
    try:
        with open(os.path.join(flood_dir, log), encoding='utf-8') as f:
            lines = f.read().splitlines()
    except OSError:
        return ['%s missing' % log]
    failures, got = [], []
    for line in lines:
        print('   ' + line)
        match = re.fullmatch(r'([0-9.]+):([0-9]+) - ([0-9]+)', line)
        if not match:
            failures.append("%s: bad line '%s'" % (log, line))
            continue
        addr, port, chunk = match.group(1), int(match.group(2)), int(match.group(3))
        if (addr, port) == ('0.0.0.0', 0):
            if chunk not in absent:
                failures.append('%s: chunk %d logged as not found' % (log, chunk))
            continue
        peer = port - 5000
        if addr != ip(peer) or chunk not in HOLDS.get(peer, ()):
            failures.append('%s: %s:%d does not hold chunk %d' % (log, addr, port, chunk))
        got.append(chunk)
        name = 'BigBuckBunny_%d.m4s' % chunk
        if not same_file(os.path.join(flood_dir, 'chunks-%s' % client_ip, name),
                         os.path.join(flood_dir, name)):
            failures.append('chunks-%s/%s differs from its source' % (client_ip, name))
    if sorted(got) != want:
        failures.append('%s: received %s, expected %s' % (log, sorted(got), want))
    if absent and (not lines or lines[-1] != '0.0.0.0:0 - %s' % ','.join(map(str, absent))):
        failures.append("%s: last line should be '0.0.0.0:0 - %s'" % (log, absent[0]))
    return failures


def same_file(a, b):
    try:
        with open(a, 'rb') as fa, open(b, 'rb') as fb:
            return fa.read() == fb.read()
    except OSError:
        return False


def parser():
    p = mnlab.new_parser("The flooding assignment's 5 peers and 2 clients on Mininet hosts, "
                         'checked end to end.')
    p.add_argument('--client-timeout', default='5s',
                   help='the clients\' --timeout, in seconds: 5s (client 2 always waits it out '
                   'for chunk 4, which nobody has) [5s]')
    return p


if __name__ == '__main__':
    PARSER = parser()

    def checked(args):
        if not re.fullmatch(r'[0-9]+(\.[0-9]+)?s', args.client_timeout):
            PARSER.error('--client-timeout %s: seconds, e.g. 5s' % args.client_timeout)
        return run_flood(args)
    mnlab.main(checked, PARSER)
