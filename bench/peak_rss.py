#!/usr/bin/python3
"""peak_rss.py OUT CMD [ARG...]: runs CMD and writes its peak resident set size to OUT.

The peak comes from the kernel (wait4's ru_maxrss, in KiB): every page the process ever had
resident at once, sampled by nobody, so short spikes count too. SIGTERM and SIGINT are passed
on to CMD, so a seeder that runs until killed is measured the same way as a leecher that exits.
Exits with CMD's status (128 + signal when CMD was killed by one).
"""
import os
import signal
import subprocess
import sys


def main():
    if len(sys.argv) < 3:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        return 2
    out, command = sys.argv[1], sys.argv[2:]
    child = subprocess.Popen(command)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: child.send_signal(signum))
    _, status, usage = os.wait4(child.pid, 0)  # retried by Python when a signal interrupts it
    with open(out, "w") as f:
        f.write("%d\n" % usage.ru_maxrss)
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


if __name__ == "__main__":
    sys.exit(main())
