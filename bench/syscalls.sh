#!/usr/bin/env bash
# Counts the system calls of Belfry's L4 relay per proxied connection: `strace -c` attached to the
# I/O thread of `bin/belfry run` (io_threads = 1, access log off) while a Python client makes
# COUNT [500] sequential connections through it (each sends `GET / HTTP/1.0` and reads to the end)
# to a Python backend that answers 140 bytes and closes, after WARM [3000] connections to warm up.
# Sequential, so nothing is batched: every connection pays its own epoll waits. The counts are
# deterministic up to the epoll waits (which depend on whether two events arrive in one wait).
#
#   bench/syscalls.sh                          # the jar bin/belfry builds
#   BELFRY_JAR=/tmp/other.jar bench/syscalls.sh
#   BELFRY_JAVA_OPTS=-Dbelfry.transport=nio bench/syscalls.sh
#
# Needs strace and python3. Ports PORT_BASE [19611] to PORT_BASE+2 on 127.0.0.1. Every process it
# starts is stopped by PID on exit and its temporary directory removed.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${COUNT:-500}
WARM=${WARM:-3000}
PORT_BASE=${PORT_BASE:-19611}
BACKEND_PORT=$PORT_BASE PROXY_PORT=$((PORT_BASE + 1)) ADMIN_PORT=$((PORT_BASE + 2))
command -v strace >/dev/null || { echo "syscalls.sh: strace is needed (apt-get install strace)" >&2; exit 1; }
WORK=$(mktemp -d)
backend_pid="" proxy_pid="" strace_pid=""
cleanup() {
    for pid in $strace_pid $proxy_pid $backend_pid; do kill "$pid" 2>/dev/null || true; done
    for pid in $strace_pid $proxy_pid $backend_pid; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

cat >"$WORK/backend.py" <<'PY'
import socket, sys
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(sys.argv[1])))
srv.listen(512)
answer = (b"HTTP/1.0 200 OK\r\nContent-Length: 102\r\n\r\n" + b"x" * 102)[:140]
while True:
    c, _ = srv.accept()
    try:
        c.recv(4096)
        c.sendall(answer)
    finally:
        c.close()
PY
cat >"$WORK/client.py" <<'PY'
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
total = 0
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    while (d := s.recv(4096)):
        total += len(d)
    s.close()
if total != 140 * n:
    sys.exit(f"read {total} bytes, expected {140 * n}")
PY
cat >"$WORK/belfry.toml" <<CONF
io_threads = 1

[admin]
listen = "127.0.0.1:$ADMIN_PORT"

[log]
level = "warn"

[[listeners]]
name = "syscalls"
listen = "127.0.0.1:$PROXY_PORT"
cluster = "backend"

[[clusters]]
name = "backend"
balancer = "round-robin"

[[clusters.backends]]
address = "127.0.0.1:$BACKEND_PORT"
CONF

python3 "$WORK/backend.py" "$BACKEND_PORT" & backend_pid=$!
bin/belfry run --config "$WORK/belfry.toml" >"$WORK/belfry.log" 2>&1 & proxy_pid=$!
for _ in $(seq 150); do
    (echo >"/dev/tcp/127.0.0.1/$PROXY_PORT") 2>/dev/null && break
    kill -0 "$proxy_pid" 2>/dev/null || { cat "$WORK/belfry.log" >&2; exit 1; }
    sleep 0.2
done
python3 "$WORK/client.py" "$PROXY_PORT" "$WARM"
io_thread=""
for task in /proc/"$proxy_pid"/task/*; do
    case "$(cat "$task/comm")" in belfry-io-1*) io_thread=${task##*/} ;; esac
done
[ -n "$io_thread" ] || { echo "syscalls.sh: no belfry-io-1 thread in process $proxy_pid" >&2; exit 1; }
strace -c -p "$io_thread" -o "$WORK/strace.txt" 2>/dev/null & strace_pid=$!
sleep 1
python3 "$WORK/client.py" "$PROXY_PORT" "$COUNT"
sleep 0.5
kill -INT "$strace_pid"; wait "$strace_pid" 2>/dev/null || true; strace_pid=""
echo "system calls of Belfry's I/O thread per proxied connection ($COUNT sequential connections):"
awk -v n="$COUNT" '$NF ~ /^[a-z_0-9]+$/ && $NF != "total" && $NF != "syscall" && $NF != "futex" && $NF != "mprotect" {
    calls = $4; printf "  %-14s %6.2f\n", $NF, calls / n; sum += calls }
    END { printf "  %-14s %6.2f  (futex and mprotect, the JVM'"'"'s, left out)\n", "total", sum / n }' "$WORK/strace.txt"
