"""A bundle-timing receiver for benchmarks/live_rate.py --mode bundle (a separate process).

oscdump cannot judge bundles (liblo prints a bundle with its timetag, not its
arrival), so this stdlib + python-osc receiver stamps each datagram on
arrival and writes `arrival_unix timetag_unix address` lines. A bundle is on
time when it arrives before its timetag (a scheduling receiver such as scsynth
then plays it exactly then); tests/test_live_peers.py has scsynth itself judge.

    python benchmarks/live_receiver.py PORT OUT.tsv [--realtime]   (stops on SIGTERM)
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import time

from pythonosc.osc_bundle import OscBundle


def main() -> None:
    port, out = int(sys.argv[1]), sys.argv[2]
    if "--realtime" in sys.argv:
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
        except OSError:
            pass
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.bind(("127.0.0.1", port))
    rows = []  # (arrival, datagram): parsed after the run, so receiving stays cheap
    running = [True]
    signal.signal(signal.SIGTERM, lambda *_: running.__setitem__(0, False))
    sock.settimeout(0.2)
    while running[0]:
        try:
            data = sock.recv(65536)
        except socket.timeout:
            continue
        except InterruptedError:
            continue
        rows.append((time.time(), data))
    with open(out, "w") as f:
        for t, data in rows:
            if OscBundle.dgram_is_bundle(data):
                b = OscBundle(data)
                addr = next(iter(b)).address
                f.write(f"{t:.6f}\t{b.timestamp:.6f}\t{addr}\n")


if __name__ == "__main__":
    main()
