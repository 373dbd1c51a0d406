"""lab/mininet/mnlab.py: what swarm.py and flood.py share: the link options (with the loud
NETEM UNAVAILABLE banner where the kernel has no sch_netem), the command line common to both,
and a Run that starts bittorrent-sim on Mininet hosts, waits for log lines with a deadline and
always tears the network down (net.stop()), on errors, Ctrl+C and SIGTERM alike.

It holds no topology and no experiment: those are swarm.py's and flood.py's. It needs
Mininet's Python package (Debian: /usr/bin/python3 with the `mininet` package) only for the
Run, so a topology file can import it under `mn --custom` too.
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

BANNER = '=' * 78
_netem = None


def netem_available():
    """Whether the kernel has sch_netem: tries `tc qdisc add ... netem` on a throwaway veth
    pair inside a new, unnamed network namespace (`unshare --net`), which vanishes with the
    probe: nothing is added to the machine's own namespace. Asked once per process."""
    global _netem
    if _netem is None:
        probe = ('ip link add mnprobe0 type veth peer name mnprobe1 && '
                 'tc qdisc add dev mnprobe0 root netem delay 1ms')
        try:
            done = subprocess.run(['unshare', '--net', 'sh', '-c', probe],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  timeout=10, check=False)
            _netem = done.returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            _netem = False
    return _netem


def loud(*lines):
    """Prints LINES between two rules on stderr, where no one misses them."""
    sys.stderr.write('\n%s\n%s\n%s\n\n' % (BANNER, '\n'.join(lines), BANNER))
    sys.stderr.flush()


def link_options(bw=None, delay=None, jitter=None, loss=None):
    """The TCLink options of every host's link: bw (Mbit/s, an htb qdisc, needs no netem),
    delay and jitter ('20ms'), loss (percent). Where the kernel has no sch_netem, delay, jitter
    and loss are dropped with the NETEM UNAVAILABLE banner (TCLink would only print tc errors
    and leave the link unshaped). Returns (options, description); empty options: a plain Link."""
    opts = {}
    if bw not in (None, 0, '0', 'none'):
        opts['bw'] = float(bw)
    wants = {k: v for k, v in (('delay', delay), ('jitter', jitter), ('loss', loss))
             if v not in (None, 0, '0', '0ms', '0%')}
    if 'delay' not in wants:
        wants.pop('jitter', None)  # netem's jitter is a variation of the delay
    if 'loss' in wants:
        wants['loss'] = float(str(wants['loss']).rstrip('%'))
    if wants and not netem_available():
        loud('NETEM UNAVAILABLE: running without delay/loss',
             'This kernel has no sch_netem (tc qdisc ... netem fails), so the asked %s'
             % ', '.join('%s %s' % kv for kv in sorted(wants.items())),
             'cannot be put on the links. The hosts are joined without them%s.'
             % (' (the bw limit, an htb qdisc, stays)' if opts else ''),
             'For delay and loss on such a kernel use lab/lab.sh (its user-space emulator).')
        wants = {}
    opts.update(wants)
    if not opts:
        return {}, 'plain links (no bw, delay or loss)'
    from mininet.link import TCLink  # pylint: disable=import-outside-toplevel
    text = ', '.join('%s %s' % (k, opts[k]) for k in ('bw', 'delay', 'jitter', 'loss') if k in opts)
    opts['cls'] = TCLink
    return opts, 'TCLink on both ends of every host link: ' + text


def common_arguments(parser):
    """The options swarm.py and flood.py share."""
    parser.add_argument('--bin', help='the bittorrent-sim binary '
                        '[$CARGO_TARGET_DIR or target, /debug/bittorrent-sim]')
    parser.add_argument('--workdir', help='files and logs, kept [a new /tmp/btmn.*]')
    parser.add_argument('--prefix', default='', help='prefix of the host and switch names '
                        '(at most 7 characters), so that runs do not collide [none: h1, s1]')
    parser.add_argument('--bw', default='none',
                        help='Mbit/s of each link end (an htb qdisc), or none [none]')
    # TCLink shapes both ends of a host's link, so host to host a packet meets two: 10 ms and
    # 0.5 % per end are 20 ms and about 1 % one way, as lab/lab.sh's defaults.
    parser.add_argument('--delay', default='10ms', help='delay of each link end [10ms]')
    parser.add_argument('--jitter', default='2ms', help='jitter of each link end [2ms]')
    parser.add_argument('--loss', default='0.5', help='loss percent of each link end [0.5]')
    parser.add_argument('--timeout', type=float, default=300, help='seconds for the run [300]')
    parser.add_argument('--cli', action='store_true',
                        help="after the checks, Mininet's CLI until exit or Ctrl+D")


def check_prefix(parser, prefix):
    if not re.fullmatch(r'[A-Za-z][A-Za-z0-9]{0,6}|', prefix):
        parser.error('--prefix %r: a letter, then at most 6 letters or digits' % prefix)


def find_binary(given):
    """The bittorrent-sim binary: --bin, else target/debug/ of this checkout (run.sh builds it)."""
    if not given:
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        target = os.environ.get('CARGO_TARGET_DIR', os.path.join(root, 'target'))
        given = os.path.join(root, target, 'debug', 'bittorrent-sim')
    if not (os.path.isfile(given) and os.access(given, os.X_OK)):
        sys.exit('mininet lab: no binary at %s: run cargo build first, or give --bin PATH' % given)
    return os.path.abspath(given)


class Failed(Exception):
    """A check of the run failed; the message says which."""


def _raise_exit(signum, _frame):
    print('mininet lab: %s, tearing down' % signal.Signals(signum).name, file=sys.stderr)
    raise SystemExit(128 + signum)


class Run:
    """One Mininet network and the processes started on its hosts. Use as a context manager:
    on leaving it, every process is ended (SIGTERM, SIGKILL 5 s later) and net.stop() removes
    the hosts, links and switch, whatever happened (SIGTERM and SIGHUP are turned into an
    exception so that this still runs)."""

    def __init__(self, topo, args):
        self.topo = topo
        self.args = args
        self.bin = find_binary(args.bin)
        self.workdir = os.path.abspath(args.workdir or tempfile.mkdtemp(prefix='btmn.'))
        self.logs = os.path.join(self.workdir, 'logs')
        os.makedirs(self.logs, exist_ok=True)
        self.deadline = time.monotonic() + args.timeout
        self.procs = []
        self.net = None

    def __enter__(self):
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, _raise_exit)
        from mininet.net import Mininet  # pylint: disable=import-outside-toplevel
        from mininet.nodelib import LinuxBridge  # pylint: disable=import-outside-toplevel
        # The summary reads the programs' info lines.
        if os.environ.get('RUST_LOG') not in ('debug', 'trace'):
            os.environ['RUST_LOG'] = 'info'
        self.net = Mininet(topo=None, switch=LinuxBridge, controller=None,
                           autoSetMacs=True, build=False, waitConnected=False)
        try:
            self.net.buildFromTopo(self.topo)
            self.net.start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *_exc):
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # finish the tear-down
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        until = time.monotonic() + 5
        for proc in self.procs:
            try:
                proc.wait(max(0.1, until - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self.net is not None:
            self.net.stop()
            self.net = None
            print('== torn down: hosts, links and switch of this run deleted, its processes ended')
        return False

    def host(self, name):
        return self.net.get(self.topo.prefix + name)

    def start(self, host, log, *argv, cwd=None):
        """Starts bittorrent-sim ARGV on host HOST (h1...), output to logs/LOG; returns the
        Popen."""
        out = open(os.path.join(self.logs, log), 'wb')  # pylint: disable=consider-using-with
        proc = self.host(host).popen([self.bin] + [str(a) for a in argv], stdin=subprocess.DEVNULL,
                                     stdout=out, stderr=subprocess.STDOUT, cwd=cwd)
        out.close()
        self.procs.append(proc)
        return proc

    def left(self):
        return self.deadline - time.monotonic()

    def wait_for(self, log, pattern, seconds, what, proc=None):
        """Polls logs/LOG until a line matches PATTERN; Failed when PROC ends first or time is
        up. Returns the line."""
        path = os.path.join(self.logs, log)
        until = min(time.monotonic() + seconds, self.deadline)
        regex = re.compile(pattern)
        while True:
            line = self.line(log, regex)
            if line is not None:
                return line
            if proc is not None and proc.poll() is not None:
                raise Failed('%s ended (status %s) before %r; last lines of %s:\n%s'
                             % (what, proc.returncode, pattern, path, tail(path)))
            if time.monotonic() > until:
                raise Failed('timed out waiting for %s (%r in %s):\n%s'
                             % (what, pattern, path, tail(path)))
            time.sleep(0.1)

    def line(self, log, regex):
        """The first line of logs/LOG matching REGEX, or None."""
        try:
            with open(os.path.join(self.logs, log), encoding='utf-8', errors='replace') as f:
                for line in f:
                    if regex.search(line):
                        return line.rstrip('\n')
        except FileNotFoundError:
            pass
        return None

    def tcp_exchange(self, host, addr, port, text):
        """One TCP exchange with a line server from host HOST: sends TEXT, returns the reply."""
        script = 'exec 3<>/dev/tcp/%s/%d || exit 1; printf %%s "$1" >&3; cat <&3' % (addr, port)
        proc = self.host(host).popen(['timeout', '10', 'bash', '-c', script, '_', text],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)
        out, _ = proc.communicate(timeout=15)
        return out.decode('utf-8', 'replace')

    def probe_ms(self, host, addr, port):
        """Milliseconds for a TCP connect plus one request and its reply (two round trips)."""
        script = ('s=${EPOCHREALTIME//[^0-9]/}; exec 3<>/dev/tcp/%s/%d || exit 1; '
                  'printf "HELP\\n" >&3; IFS= read -r _ <&3; e=${EPOCHREALTIME//[^0-9]/}; '
                  'printf "QUIT\\n" >&3; echo $(((e - s) / 1000))' % (addr, port))
        proc = self.host(host).popen(['timeout', '10', 'bash', '-c', script],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)
        out, _ = proc.communicate(timeout=15)
        return out.decode().strip() or '?'

    def tx_bytes(self, host):
        intf = self.host(host).defaultIntf()
        return self.host(host).cmd('cat /sys/class/net/%s/statistics/tx_bytes' % intf).strip()

    def cli(self):
        from mininet.cli import CLI  # pylint: disable=import-outside-toplevel
        print("== Mininet's CLI (exit or Ctrl+D tears the network down)")
        CLI(self.net)


def tail(path, lines=15):
    try:
        with open(path, encoding='utf-8', errors='replace') as f:
            return ''.join(f.readlines()[-lines:])
    except OSError:
        return '(no log)'


def verdict(failures, passed):
    """Prints each failure and the FAIL line, or the PASS line PASSED."""
    for failure in failures:
        print('FAIL: %s' % failure)
    if failures:
        print('== FAIL: %d check(s) failed' % len(failures))
    else:
        print('== PASS: %s' % passed)
    sys.stdout.flush()


def main(run_checks, parser):
    """Runs an experiment: RUN_CHECKS(args) prints its verdict() and returns the list of
    failures, or raises Failed. Exit status 0 (PASS), 1 (FAIL), 2 (usage), 77 (cannot run
    here: not root, or Mininet missing)."""
    args = parser.parse_args()
    check_prefix(parser, args.prefix)
    if os.geteuid() != 0:
        loud('mininet lab: cannot run here: Mininet needs root (try sudo %s)' % sys.argv[0])
        sys.exit(77)
    for tool in ('mnexec', 'brctl', 'tc', 'ip', 'unshare'):
        if shutil.which(tool) is None:
            loud('mininet lab: cannot run here: %s is missing (Debian packages mininet, '
                 'bridge-utils, iproute2, util-linux; scripts/setup.sh installs them)' % tool)
            sys.exit(77)
    try:
        import mininet  # noqa: F401 pylint: disable=import-outside-toplevel,unused-import
    except ImportError:
        loud('mininet lab: cannot run here: no mininet module in %s (use /usr/bin/python3 with '
             "Debian's mininet package)" % sys.executable)
        sys.exit(77)
    from mininet.log import setLogLevel  # pylint: disable=import-outside-toplevel
    setLogLevel('warning')
    try:
        failures = run_checks(args)
    except Failed as failed:
        failures = [str(failed)]
        verdict(failures, '')
    except KeyboardInterrupt:
        print('mininet lab: interrupted', file=sys.stderr)
        sys.exit(130)
    sys.exit(1 if failures else 0)


def new_parser(description):
    parser = argparse.ArgumentParser(description=description)
    common_arguments(parser)
    return parser
