#!/usr/bin/env bash
# Early L4 comparison: the same small-response HTTP backend (nginx, one worker) reached directly,
# through HAProxy (mode tcp, nbthread 1) and through Belfry's L4 engine (one I/O thread), driven by
# wrk with keep-alive connections. Reports requests/s, p50/p99 latency, the proxy's CPU time per
# request (utime+stime from /proc/PID/stat, before/after the measured run) and its RSS.
#
#   bench/l4-compare.sh                    # defaults: 64 connections, 10 s, 3 s warm-up
#   CONNECTIONS=128 DURATION=20 bench/l4-compare.sh
#
# Needs root for apt-get if haproxy, wrk or nginx are missing. Every process it starts is killed
# by PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

CONNECTIONS=${CONNECTIONS:-64}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-3}
WRK_THREADS=${WRK_THREADS:-1}
BACKEND_PORT=${BACKEND_PORT:-19080}
HAPROXY_PORT=${HAPROXY_PORT:-19081}
BELFRY_PORT=${BELFRY_PORT:-19082}

missing=()
command -v haproxy >/dev/null || missing+=(haproxy)
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

# A JDK >= 21: JAVA_HOME if new enough, else the newest under /usr/lib/jvm.
java_version() { "$1" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}'; }
JAVA=""
for candidate in ${JAVA_HOME:+$JAVA_HOME/bin/java} $(ls -d /usr/lib/jvm/*/bin/java 2>/dev/null | sort -rV) "$(command -v java || true)"; do
    [ -x "$candidate" ] || continue
    v=$(java_version "$candidate")
    if [ "${v%%.*}" -ge 21 ] 2>/dev/null; then JAVA=$candidate; JAVA_MAJOR=${v%%.*}; break; fi
done
[ -n "$JAVA" ] || { echo "no JDK >= 21 found (set JAVA_HOME)" >&2; exit 1; }
JAVA_FLAGS=(--enable-native-access=ALL-UNNAMED -Xms256m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=4)
[ "$JAVA_MAJOR" -ge 24 ] && JAVA_FLAGS+=(--sun-misc-unsafe-memory-access=allow)

JAR=belfry-proxy/target/belfry.jar
if [ ! -f "$JAR" ]; then
    ./mvnw -B -q package -pl belfry-proxy -am -DskipTests
fi

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

wait_port() {
    for _ in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "nothing listens on port $1" >&2
    return 1
}

# The backend: nginx, one worker, a 100-byte file, keep-alive without a request limit.
mkdir -p "$WORK/www" "$WORK/nginx"
head -c 100 /dev/zero | tr '\0' 'x' > "$WORK/www/index.html"
cat > "$WORK/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
master_process off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 10000000;
    keepalive_timeout 120s;
    client_body_temp_path $WORK/nginx;
    proxy_temp_path $WORK/nginx;
    fastcgi_temp_path $WORK/nginx;
    uwsgi_temp_path $WORK/nginx;
    scgi_temp_path $WORK/nginx;
    server {
        listen 127.0.0.1:$BACKEND_PORT;
        root $WORK/www;
    }
}
CONF
"$NGINX" -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" &
PIDS+=($!); BACKEND_PID=$!

cat > "$WORK/haproxy.cfg" <<CONF
global
    nbthread 1
    maxconn 4096
defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend fe
    bind 127.0.0.1:$HAPROXY_PORT
    default_backend be
backend be
    server s1 127.0.0.1:$BACKEND_PORT
CONF
haproxy -f "$WORK/haproxy.cfg" -db >"$WORK/haproxy.log" 2>&1 &
PIDS+=($!); HAPROXY_PID=$!

"$JAVA" "${JAVA_FLAGS[@]}" -cp "$JAR" dev.belfry.proxy.l4.L4Main \
    --listen "127.0.0.1:$BELFRY_PORT" --backend "127.0.0.1:$BACKEND_PORT" --io-threads 1 >"$WORK/belfry.log" 2>&1 &
PIDS+=($!); BELFRY_PID=$!

wait_port "$BACKEND_PORT"; wait_port "$HAPROXY_PORT"; wait_port "$BELFRY_PORT"

CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
# wrk prints latencies as 123.45us / 1.23ms / 1.02s: convert to microseconds.
to_us() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) print n; else if (v ~ /ms$/) print n * 1000; else if (v ~ /s$/) print n * 1000000; else print n }'; }

ROWS=()
measure() {
    local name=$1 port=$2 pid=$3
    local url="http://127.0.0.1:$port/index.html"
    wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" "$url" >/dev/null
    local before=0
    [ "$pid" != "-" ] && before=$(cpu_ticks "$pid")
    wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "$url" >"$WORK/$name.wrk"
    local after=0
    [ "$pid" != "-" ] && after=$(cpu_ticks "$pid")
    local rps requests p50 p99 errors
    rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/$name.wrk")
    requests=$(awk '/requests in/ {print $1}' "$WORK/$name.wrk")
    p50=$(to_us "$(awk '$1 == "50%" {print $2}' "$WORK/$name.wrk")")
    p99=$(to_us "$(awk '$1 == "99%" {print $2}' "$WORK/$name.wrk")")
    errors=$(awk '/Non-2xx|Socket errors/' "$WORK/$name.wrk" | tr -s ' ' | paste -sd';' -)
    local cpu="-" rss="-"
    if [ "$pid" != "-" ]; then
        cpu=$(awk -v t=$((after - before)) -v hz="$CLK_TCK" -v n="$requests" 'BEGIN { printf "%.2f", t / hz * 1e6 / n }')
        rss=$(( $(rss_kib "$pid") / 1024 ))
    fi
    ROWS+=("| $name | $rps | $p50 | $p99 | $cpu | $rss | ${errors:-} |")
}

measure direct "$BACKEND_PORT" -
measure haproxy "$HAPROXY_PORT" "$HAPROXY_PID"
measure belfry "$BELFRY_PORT" "$BELFRY_PID"

echo
echo "keep-alive HTTP/1.1, 100-byte responses, $CONNECTIONS connections, ${DURATION}s after ${WARMUP}s warm-up, wrk -t$WRK_THREADS; $(nproc) cores shared by wrk, nginx and the proxy"
echo "belfry: $("$JAVA" -version 2>&1 | head -1), one I/O thread ($(grep -o 'transport [a-z_]*' "$WORK/belfry.log" || echo default transport)); haproxy: $(haproxy -v | head -1 | awk '{print $3}'), nbthread 1"
echo
echo "| path | requests/s | p50 (us) | p99 (us) | proxy CPU us/request | proxy RSS (MiB) | errors |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
