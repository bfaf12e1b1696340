#!/usr/bin/env python3
"""Opens COUNT TCP connections to HOST:PORT, sends nothing, and holds them until killed.

    idle_connections.py HOST PORT COUNT READY_FILE

Writes the number of connections it holds to READY_FILE once all are open (or the number it got
before the first failure, then it exits 1). Used by bench/compare.sh to measure a proxy's memory
with many idle connections; the caller raises the file-descriptor limit (ulimit -n) first.
"""

import signal
import socket
import sys


def main() -> int:
    host, port, count, ready_file = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    held = []
    status = 0
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(10)
            s.connect((host, port))
            held.append(s)
    except OSError as e:
        print(f"idle_connections: opened {len(held)} of {count}: {e}", file=sys.stderr)
        status = 1
    with open(ready_file, "w") as f:
        f.write(f"{len(held)}\n")
    if status:
        return status
    # Hold the connections until SIGTERM (the default action would also do, but exit cleanly).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        signal.pause()


if __name__ == "__main__":
    sys.exit(main())
