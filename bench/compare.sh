#!/usr/bin/env bash
# Compares Belfry's L4 proxy with HAProxy and nginx stream on loopback, in one run.
#
# The same HTTP backend (nginx, one worker, a 100-byte and a 256 KiB file) is reached directly,
# through HAProxy (mode tcp, nbthread 1), through nginx stream (one worker), through Belfry
# (bin/belfry run, io_threads = 1) and through `floor`: bench/floor/FloorRelay.java, a bare relay on
# Netty's epoll event loop with no Netty channels (no limits, timeouts, balancing or log; not a
# proxy), which shows what a new connection costs a JVM relay below Belfry's channel-based one.
# Scenarios, each warmed up before it is measured:
#   keepalive  wrk -t1 -c64, keep-alive connections, 100-byte responses
#   close      wrk -t1 -c64 -H 'Connection: close': the backend closes after each response and wrk
#              opens a new connection for the next request (counted: new TCP connections/request)
#   bulk       wrk -t1 -c16, keep-alive, 256 KiB responses (MiB/s too)
#   idle       RSS of each proxy holding IDLE_CONNECTIONS idle client connections (each with its
#              backend connection)
#   cold       the first COLD_DURATION seconds of the close load on a Belfry just started (a fresh
#              JVM: nothing compiled yet), with no warm-up; HAProxy gets the same window. In every
#              round a second Belfry, with the same settings, is started for it on its own ports
#              and stopped after it, so the main one stays warm for the other scenarios
# For each: requests/s, p50/p99 latency, the proxy's CPU microseconds per request (utime+stime of
# the whole process from /proc/PID/stat across the measured window, divided by the requests) and
# its RSS (VmRSS) after the run; then ratios to HAProxy.
#
#   bench/compare.sh                       # about 4 minutes
#   DURATION=20 WARMUP=10 bench/compare.sh
#   ONLY="haproxy belfry" SCENARIOS="keepalive" bench/compare.sh
#   BELFRY_JFR=/tmp/belfry.jfr bench/compare.sh   # also record a JFR profile of Belfry
#   ROUNDS=3 SCENARIOS="cold keepalive close bulk" bench/compare.sh   # + medians over 3 rounds
#
# Belfry runs as shipped unless asked otherwise: `bin/belfry run` with no BELFRY_JAVA_OPTS (the
# launcher's own JVM defaults) and the default log level (info: one access-log line per connection,
# written to a file here). BELFRY_JAVA_OPTS and BELFRY_LOG_LEVEL change that.
#
# Environment (defaults in brackets): DURATION [10] and WARMUP [5] seconds per measurement;
# COLD_DURATION [10] seconds of the cold window;
# KEEPALIVE_CONNECTIONS [64], CLOSE_CONNECTIONS [64], BULK_CONNECTIONS [16];
# IDLE_CONNECTIONS [10000, or fewer if the hard file-descriptor limit cannot hold two per
# connection in the proxy]; SCENARIOS [cold keepalive close bulk idle]; ROUNDS [1: measure the load
# scenarios this many times in a row, print each round's tables and then, for more than one, the
# median over the rounds of each ratio to HAProxy]; MEDIAN_FROM [1: the first round the medians
# count; 2 leaves out the round in which Belfry's JIT is still compiling]; ONLY [direct haproxy nginx
# belfry floor]; BELFRY_JAR [unset: the jar bin/belfry builds; a path runs that jar instead, never
# building]; BELFRY_JAVA_OPTS [empty: as shipped; the options of earlier runs were
# '-Xms256m -Xmx256m -XX:+UseSerialGC']; BELFRY_LOG_LEVEL [unset: the default, info, logging every
# connection; warn turns the access log off]; BELFRY_JFR [unset: a file to
# record a JFR profile of Belfry into] and BELFRY_JFR_SETTINGS [extra JFR options, e.g.
# jdk.CPUTimeSample#enabled=true on JDK 25]; SYSCALLS [unset: if set, count each proxy's system
# calls per request with perf stat during the window; this costs CPU, so not for the CPU column];
# PERF_RECORD [unset: a directory; if set, record each proxy's on-CPU call stacks, kernel included,
# with perf record during each window into DIR/SCENARIO.TARGET.rN.data, for `perf report -i`]; PORT_BASE
# [19080]: ports PORT_BASE to PORT_BASE+6, PORT_BASE+821 to +823 (Belfry's admin ports) on 127.0.0.1;
# BELFRY2_JAVA_OPTS [empty]: the JVM options of `belfry2`, a second Belfry with the same jar and
# config, measured beside the first when ONLY names it (ONLY="haproxy belfry belfry2"), so that two
# sets of options are compared in one run; PIN [unset: no pinning; P:L, e.g. 1:0: every proxy
# runs on CPU P and wrk and the backend on CPU L, with taskset: the scheduler's placement of the
# processes on a 2-core machine is then the same for every proxy]; FLOOR_JAVA_HOME [unset: the
# JDK that runs Belfry]: the JDK that compiles and runs the floor relay.
#
# Installs haproxy, nginx-light, libnginx-mod-stream and wrk with apt-get if missing (needs root)
# and builds Belfry's jar if needed. Every process it starts is stopped by PID on exit and its
# temporary directory removed. All load goes to 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

DURATION=${DURATION:-10}
WARMUP=${WARMUP:-5}
KEEPALIVE_CONNECTIONS=${KEEPALIVE_CONNECTIONS:-64}
CLOSE_CONNECTIONS=${CLOSE_CONNECTIONS:-64}
BULK_CONNECTIONS=${BULK_CONNECTIONS:-16}
COLD_DURATION=${COLD_DURATION:-10}
SCENARIOS=${SCENARIOS:-cold keepalive close bulk idle}
ROUNDS=${ROUNDS:-1}
MEDIAN_FROM=${MEDIAN_FROM:-1}
ONLY=${ONLY:-direct haproxy nginx belfry floor}
PORT_BASE=${PORT_BASE:-19080}
BACKEND_PORT=$PORT_BASE
HAPROXY_PORT=$((PORT_BASE + 1))
BELFRY_PORT=$((PORT_BASE + 2))
NGINX_PORT=$((PORT_BASE + 3))
BELFRY_ADMIN_PORT=$((PORT_BASE + 821))
BELFRY_COLD_PORT=$((PORT_BASE + 4))
BELFRY_COLD_ADMIN_PORT=$((PORT_BASE + 822))
BELFRY2_PORT=$((PORT_BASE + 5))
BELFRY2_ADMIN_PORT=$((PORT_BASE + 823))
FLOOR_PORT=$((PORT_BASE + 6))
export BELFRY_JAVA_OPTS=${BELFRY_JAVA_OPTS-}
# PIN=P:L: every proxy on CPU P, wrk and the backend on CPU L (taskset), so that a proxy never
# shares or swaps a core with its load.
PROXY_CPU=()
LOAD_CPU=()
if [ -n "${PIN:-}" ]; then
    [[ $PIN =~ ^[0-9]+:[0-9]+$ ]] || { echo "PIN must be P:L, two CPU numbers, e.g. 1:0 (got '$PIN')" >&2; exit 2; }
    PROXY_CPU=(taskset -c "${PIN%%:*}")
    LOAD_CPU=(taskset -c "${PIN##*:}")
fi
BELFRY_LOG_LEVEL=${BELFRY_LOG_LEVEL-}

log() { printf '[compare %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "$*"; exit 1; }
wants() { [[ " $ONLY " == *" $1 "* ]]; }
scenario() { [[ " $SCENARIOS " == *" $1 "* ]]; }

# --- tools ---------------------------------------------------------------------------------------
NGINX_STREAM_MODULE=/usr/lib/nginx/modules/ngx_stream_module.so
missing=()
command -v haproxy >/dev/null || missing+=(haproxy)
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
[ -f "$NGINX_STREAM_MODULE" ] || missing+=(libnginx-mod-stream)
command -v ss >/dev/null || missing+=(iproute2)
command -v python3 >/dev/null || missing+=(python3)
if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || die "missing ${missing[*]}: install them (apt-get install ${missing[*]}) or run as root"
    log "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

# Build the jar now (bin/belfry would build it on first use too, but inside the measured setup).
bin/belfry --version >/dev/null || die "bin/belfry does not run"
# And its ahead-of-time cache (JDK 25+), which the launcher otherwise trains before its first run,
# while this script waits for the port.
bin/belfry aot-cache >&2 || die "bin/belfry aot-cache failed"

# Ten thousand idle connections need two descriptors each in the proxy (client and backend side).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
FD_LIMIT=$(ulimit -n)
if [ -z "${IDLE_CONNECTIONS:-}" ]; then
    IDLE_CONNECTIONS=10000
    if [ "$FD_LIMIT" != unlimited ] && [ $((FD_LIMIT - 200)) -lt $((2 * IDLE_CONNECTIONS)) ]; then
        IDLE_CONNECTIONS=$(((FD_LIMIT - 200) / 2 / 100 * 100))
        log "open-file limit is $FD_LIMIT (hard): idle test uses $IDLE_CONNECTIONS connections"
    fi
fi
# HAProxy wants 2 * maxconn + a few descriptors within the limit.
MAXCONN=$((IDLE_CONNECTIONS + 50))
# nginx starts closing idle connections ("worker_connections are not enough, reusing
# connections") well before worker_connections are all in use: give the backend room.
BACKEND_WORKER_CONNECTIONS=$((2 * MAXCONN))
[ "$FD_LIMIT" = unlimited ] || [ "$BACKEND_WORKER_CONNECTIONS" -le $((FD_LIMIT - 100)) ] || BACKEND_WORKER_CONNECTIONS=$((FD_LIMIT - 100))

# --- processes -----------------------------------------------------------------------------------
WORK=$(mktemp -d /tmp/belfry-compare.XXXXXX)
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_port() {
    for _ in $(seq 1 300); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    tail -n 5 "$WORK"/*.log "$WORK"/*/*.log >&2 2>/dev/null || true
    die "nothing listens on 127.0.0.1:$1 (the logs above are removed on exit)"
}

# Backend: nginx, one worker, keep-alive without a request limit, idle clients allowed to wait.
mkdir -p "$WORK/www" "$WORK/backend" "$WORK/stream"
head -c 100 /dev/zero | tr '\0' 'x' >"$WORK/www/small"
head -c $((256 * 1024)) /dev/urandom >"$WORK/www/bulk"
cat >"$WORK/backend/nginx.conf" <<CONF
worker_processes 1;
worker_rlimit_nofile $FD_LIMIT;
daemon off;
master_process off;
pid $WORK/backend/nginx.pid;
error_log $WORK/backend/error.log warn;
events { worker_connections $BACKEND_WORKER_CONNECTIONS; }
http {
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    client_header_timeout 300s;
    default_type application/octet-stream;
    client_body_temp_path $WORK/backend;
    proxy_temp_path $WORK/backend;
    fastcgi_temp_path $WORK/backend;
    uwsgi_temp_path $WORK/backend;
    scgi_temp_path $WORK/backend;
    server {
        listen 127.0.0.1:$BACKEND_PORT backlog=4096;
        root $WORK/www;
    }
}
CONF
"${LOAD_CPU[@]}" "$NGINX" -c "$WORK/backend/nginx.conf" -p "$WORK/backend" >"$WORK/backend/out.log" 2>&1 &
PIDS+=($!)

declare -A PORT PID
PORT[direct]=$BACKEND_PORT
PID[direct]=-

if wants haproxy; then
    cat >"$WORK/haproxy.cfg" <<CONF
global
    nbthread 1
    maxconn $MAXCONN
defaults
    mode tcp
    maxconn $MAXCONN
    timeout connect 5s
    timeout client 300s
    timeout server 300s
frontend fe
    bind 127.0.0.1:$HAPROXY_PORT
    default_backend be
backend be
    server s1 127.0.0.1:$BACKEND_PORT maxconn $MAXCONN
CONF
    "${PROXY_CPU[@]}" haproxy -f "$WORK/haproxy.cfg" -db >"$WORK/haproxy.log" 2>&1 &
    PIDS+=($!)
    PORT[haproxy]=$HAPROXY_PORT
    PID[haproxy]=$!
fi

if wants nginx; then
    # nginx stream counts client and upstream connections against worker_connections.
    cat >"$WORK/stream/nginx.conf" <<CONF
load_module $NGINX_STREAM_MODULE;
worker_processes 1;
worker_rlimit_nofile $FD_LIMIT;
daemon off;
master_process off;
pid $WORK/stream/nginx.pid;
error_log $WORK/stream/error.log warn;
events { worker_connections $((2 * MAXCONN)); }
stream {
    server {
        listen 127.0.0.1:$NGINX_PORT backlog=4096;
        proxy_pass 127.0.0.1:$BACKEND_PORT;
        proxy_timeout 300s;
    }
}
CONF
    "${PROXY_CPU[@]}" "$NGINX" -c "$WORK/stream/nginx.conf" -p "$WORK/stream" >"$WORK/stream/out.log" 2>&1 &
    PIDS+=($!)
    PORT[nginx]=$NGINX_PORT
    PID[nginx]=$!
fi

if wants belfry; then
    # As shipped, the log level is the default (info): one access-log line per connection, on
    # stderr, which goes to a file here. BELFRY_LOG_LEVEL=warn turns it off.
    BELFRY_LOG_TABLE=
    [ -z "$BELFRY_LOG_LEVEL" ] || BELFRY_LOG_TABLE=$(printf '\n[log]\nlevel = "%s"\n' "$BELFRY_LOG_LEVEL")
    cat >"$WORK/belfry.toml" <<CONF
io_threads = 1

[admin]
listen = "127.0.0.1:$BELFRY_ADMIN_PORT"
$BELFRY_LOG_TABLE
[[listeners]]
name = "bench"
listen = "127.0.0.1:$BELFRY_PORT"
cluster = "backend"
max_connections = $MAXCONN
idle_timeout = "5m"

[[clusters]]
name = "backend"
balancer = "round-robin"
max_connections_per_backend = $MAXCONN
drain_timeout = "0s"

[[clusters.backends]]
address = "127.0.0.1:$BACKEND_PORT"
CONF
    # The cold window's Belfry: the same config on ports of its own.
    sed -e "s/127.0.0.1:$BELFRY_PORT\"/127.0.0.1:$BELFRY_COLD_PORT\"/" \
        -e "s/127.0.0.1:$BELFRY_ADMIN_PORT\"/127.0.0.1:$BELFRY_COLD_ADMIN_PORT\"/" \
        "$WORK/belfry.toml" >"$WORK/belfry-cold.toml"
    PORT[belfry]=$BELFRY_PORT
    BELFRY_JFR_OPTS=
    if [ -n "${BELFRY_JFR:-}" ]; then
        BELFRY_JFR_OPTS="-XX:StartFlightRecording=filename=$BELFRY_JFR,settings=profile,dumponexit=true${BELFRY_JFR_SETTINGS:+,$BELFRY_JFR_SETTINGS}"
    fi
    # The main Belfry (with the JFR recording, if asked); its log goes to belfry.log.
    BELFRY_NO_BUILD=1 BELFRY_JAVA_OPTS="$BELFRY_JAVA_OPTS $BELFRY_JFR_OPTS" \
        "${PROXY_CPU[@]}" bin/belfry run --config "$WORK/belfry.toml" >"$WORK/belfry.log" 2>&1 &
    PID[belfry]=$!
    PIDS+=($!)
fi
# A second Belfry, the same jar and config on ports of its own, with BELFRY2_JAVA_OPTS: two sets of
# JVM options compared in one run.
if wants belfry2; then
    [ -f "$WORK/belfry.toml" ] || die "belfry2 needs belfry in ONLY too"
    sed -e "s/127.0.0.1:$BELFRY_PORT\"/127.0.0.1:$BELFRY2_PORT\"/" \
        -e "s/127.0.0.1:$BELFRY_ADMIN_PORT\"/127.0.0.1:$BELFRY2_ADMIN_PORT\"/" \
        "$WORK/belfry.toml" >"$WORK/belfry2.toml"
    PORT[belfry2]=$BELFRY2_PORT
    BELFRY_NO_BUILD=1 BELFRY_JAVA_OPTS="${BELFRY2_JAVA_OPTS:-}" \
        "${PROXY_CPU[@]}" bin/belfry run --config "$WORK/belfry2.toml" >"$WORK/belfry2.log" 2>&1 &
    PID[belfry2]=$!
    PIDS+=($!)
fi

# The floor: bench/floor/FloorRelay.java, a bare relay on Netty's epoll event loop with no Netty
# channels (not a proxy: no limits, timeouts, balancing or log), compiled against Belfry's jar and
# run on the JDK that runs Belfry, with the launcher's heap and collector.
if wants floor; then
    floor_jar=${BELFRY_JAR:-$ROOT/belfry-proxy/target/belfry.jar}
    floor_java=${FLOOR_JAVA_HOME:-}
    if [ -z "$floor_java" ] && [ -n "${PID[belfry]:-}" ]; then
        # Once Belfry listens, its launcher has become the JVM (same PID): take that JVM's JDK.
        wait_port "${PORT[belfry]}"
        belfry_exe=$(readlink -f "/proc/${PID[belfry]}/exe")
        [ "${belfry_exe##*/}" = java ] && floor_java=$(dirname "$(dirname "$belfry_exe")")
    fi
    [ -n "$floor_java" ] && [ -x "$floor_java/bin/javac" ] \
        || die "floor needs a JDK: name belfry in ONLY too, or set FLOOR_JAVA_HOME"
    mkdir -p "$WORK/floor"
    "$floor_java/bin/javac" -nowarn -d "$WORK/floor" -cp "$floor_jar" bench/floor/FloorRelay.java \
        || die "bench/floor/FloorRelay.java does not compile against $floor_jar"
    floor_opts=(-XX:+UseSerialGC -Xms256m --enable-native-access=ALL-UNNAMED)
    "$floor_java/bin/java" --sun-misc-unsafe-memory-access=allow -version >/dev/null 2>&1 \
        && floor_opts+=(--sun-misc-unsafe-memory-access=allow)
    "${PROXY_CPU[@]}" "$floor_java/bin/java" "${floor_opts[@]}" -cp "$WORK/floor:$floor_jar" \
        io.netty.channel.epoll.FloorRelay "$FLOOR_PORT" "$BACKEND_PORT" >"$WORK/floor.log" 2>&1 &
    PORT[floor]=$FLOOR_PORT
    PID[floor]=$!
    PIDS+=($!)
fi

TARGETS=()
for t in direct haproxy nginx belfry belfry2 floor; do
    if wants "$t"; then
        wait_port "${PORT[$t]}"
        TARGETS+=("$t")
    fi
done
wait_port "$BACKEND_PORT"
curl -fsS "http://127.0.0.1:$BACKEND_PORT/small" >/dev/null 2>&1 || (exec 3<>"/dev/tcp/127.0.0.1/$BACKEND_PORT") \
    || die "backend does not answer"

# --- measuring -----------------------------------------------------------------------------------
CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
sys_ticks() { awk '{print $15}' "/proc/$1/stat"; }
rss_mib() { awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
# Passive opens on this host (every accept()), to count the connections a scenario really opens.
passive_opens() { awk '/^Tcp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "PassiveOpens") c = i; h = 1 } else print $c }' /proc/net/snmp; }
# wrk prints 123.45us / 1.23ms / 1.02s and 1.5KB / 2.3MB / 1.1GB (binary units).
to_us() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) print n; else if (v ~ /ms$/) print n * 1000; else if (v ~ /m$/) print n * 60e6; else if (v ~ /s$/) print n * 1e6; else print n }'; }
to_mib() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /GB$/) print n * 1024; else if (v ~ /MB$/) print n; else if (v ~ /KB$/) print n / 1024; else print n / 1048576 }'; }
# Per-thread CPU ticks of a process, as "tid name ticks" lines (the name has no spaces).
thread_ticks() {
    local t comm
    for t in /proc/"$1"/task/*; do
        comm=$(tr ' ' '_' <"$t/comm" 2>/dev/null) || continue
        # Fields after "pid (comm) ": utime and stime are the 12th and 13th.
        awk -v tid="${t##*/}" -v c="$comm" '{ sub(/^.*\) /, ""); split($0, f, " "); print tid, c, f[12] + f[13] }' "$t/stat" 2>/dev/null || true
    done | LC_ALL=C sort -k1,1
}

declare -A RESULT
# One measured window for target $1 in scenario $2 ($3 = wrk arguments after the URL).
measure() {
    local name=$1 scen=$2 path=$3 conns=$4; shift 4
    local url="http://127.0.0.1:${PORT[$name]}/$path" pid=${PID[$name]}
    if [ "$scen" != cold ]; then
        "${LOAD_CPU[@]}" wrk -t1 -c"$conns" -d"${WARMUP}s" "$@" "$url" >/dev/null 2>&1 || true
        sleep 1
    fi
    local window=$DURATION
    [ "$scen" = cold ] && window=$COLD_DURATION
    local before=0 sys_before=0 opens_before
    [ "$pid" != - ] && before=$(cpu_ticks "$pid") && sys_before=$(sys_ticks "$pid")
    [[ $name == belfry* ]] && thread_ticks "$pid" >"$WORK/threads.before"
    opens_before=$(passive_opens)
    local perf_pid=
    if [ -n "${SYSCALLS:-}" ] && [ "$pid" != - ]; then
        perf stat -x, -e 'syscalls:sys_enter_*' -p "$pid" -o "$WORK/$scen.$name.perf" -- sleep "$window" 2>/dev/null &
        perf_pid=$!
        PIDS+=("$perf_pid")
    fi
    if [ -n "${PERF_RECORD:-}" ] && [ "$pid" != - ]; then
        mkdir -p "$PERF_RECORD"
        perf record -q -F 1999 -g -p "$pid" -o "$PERF_RECORD/$scen.$name.r$round.data" -- sleep "$window" >/dev/null 2>&1 &
        perf_pid=$!
        PIDS+=("$perf_pid")
    fi
    "${LOAD_CPU[@]}" wrk -t1 -c"$conns" -d"${window}s" --latency "$@" "$url" >"$WORK/$scen.$name.wrk" 2>&1 || true
    [ -n "$perf_pid" ] && { wait "$perf_pid" 2>/dev/null || true; }
    local after=0 sys_after=0 opens_after
    [ "$pid" != - ] && after=$(cpu_ticks "$pid") && sys_after=$(sys_ticks "$pid")
    opens_after=$(passive_opens)
    [[ $name == belfry* ]] && thread_ticks "$pid" >"$WORK/threads.after"
    local f="$WORK/$scen.$name.wrk" rps requests p50 p99 mibs errors cpu=- sys=- rss=- opens
    rps=$(awk '/Requests\/sec/ {printf "%.0f", $2}' "$f")
    requests=$(awk '/requests in/ {print $1}' "$f")
    if [ -z "$requests" ] || [ "$requests" -le 0 ]; then
        log "wrk failed for $name/$scen:"; cat "$f" >&2; requests=1; rps=0
    fi
    p50=$(to_us "$(awk '$1 == "50%" {print $2}' "$f")")
    p99=$(to_us "$(awk '$1 == "99%" {print $2}' "$f")")
    mibs=$(to_mib "$(awk '/Transfer\/sec/ {print $2}' "$f")")
    errors=$(awk '/Socket errors/ {gsub(/,/, ""); e = $4 + $6 + $8 + $10} /Non-2xx/ {e += $NF} END {print e + 0}' "$f")
    opens=$(awk -v a="$opens_after" -v b="$opens_before" -v n="$requests" 'BEGIN { printf "%.2f", (a - b) / n }')
    if [ "$pid" != - ]; then
        cpu=$(awk -v t=$((after - before)) -v hz="$CLK_TCK" -v n="$requests" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }')
        sys=$(awk -v t=$((sys_after - sys_before)) -v hz="$CLK_TCK" -v n="$requests" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }')
        rss=$(rss_mib "$pid")
    fi
    RESULT[$scen.$name]="$rps $p50 $p99 $cpu $rss $mibs $opens $errors $sys"
    if [ -f "$WORK/$scen.$name.perf" ]; then
        # Syscalls per request (perf counts over the same window), the most frequent first.
        RESULT[$scen.$name.syscalls]=$(awk -F, -v n="$requests" '$3 ~ /sys_enter_/ && $1 + 0 > 0 {
                sub(/.*sys_enter_/, "", $3); t += $1; c[$3] = $1 }
            END { printf "total=%.1f", t / n; for (k in c) if (c[k] / n >= 0.05) printf " %s=%.2f", k, c[k] / n }' "$WORK/$scen.$name.perf")
    fi
    if [[ $name == belfry* ]]; then
        # Where Belfry's CPU went, by thread (names without trailing numbers), in us/request.
        RESULT[$scen.$name.threads]=$(LC_ALL=C join -a2 -e0 -o '0,2.2,2.3,1.3' "$WORK/threads.before" "$WORK/threads.after" \
            | awk -v hz="$CLK_TCK" -v n="$requests" '{ name = $2; sub(/[-#]?[0-9]+$/, "", name); s[name] += $3 - $4 }
                END { for (k in s) if (s[k] > 0) printf "%s %.1f\n", k, s[k] / hz * 1e6 / n }' | sort -k2 -rn | awk '{printf "%s%s=%s", sep, $1, $2; sep = ", "}')
    fi
    log "$scen $name: $rps req/s, p50 ${p50}us, p99 ${p99}us, cpu ${cpu}us/req (sys $sys), rss ${rss}MiB, $mibs MiB/s, $opens accepts/req, $errors errors"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }

print_table() {
    local scen=$1 title=$2 t
    echo
    echo "### $title"
    echo
    echo "| path | requests/s | p50 (us) | p99 (us) | proxy CPU (us/request) | of which kernel | proxy RSS (MiB) | MiB/s | accepts/request | errors | req/s vs HAProxy | CPU/req vs HAProxy | p99 vs HAProxy |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    local base="${RESULT[$scen.haproxy]:-}"
    for t in "${TARGETS[@]}"; do
        local r=${RESULT[$scen.$t]:-}
        [ -n "$r" ] || continue
        # shellcheck disable=SC2086
        set -- $r
        local vs_rps=- vs_cpu=- vs_p99=-
        if [ -n "$base" ] && [ "$t" != direct ]; then
            local b
            read -r -a b <<<"$base"
            vs_rps=$(ratio "$1" "${b[0]}"); vs_cpu=$(ratio "$4" "${b[3]}"); vs_p99=$(ratio "$3" "${b[2]}")
            if [ "$t" != haproxy ] && [ "$vs_rps" != - ] && [ "${round:-1}" -ge "$MEDIAN_FROM" ]; then
                echo "$scen $t $vs_rps $vs_cpu $vs_p99" >>"$WORK/ratios"
            fi
        fi
        printf '| %s | %s | %s | %s | %s | %s | %s | %.1f | %s | %s | %s | %s | %s |\n' "$t" "$1" "$2" "$3" "$4" "$9" "$5" "$6" "$7" "$8" "$vs_rps" "$vs_cpu" "$vs_p99"
    done
    for t in "${TARGETS[@]}"; do
        [ -n "${RESULT[$scen.$t.syscalls]:-}" ] && printf '\n%s syscalls per request: %s\n' "$t" "${RESULT[$scen.$t.syscalls]}"
    done
    for t in belfry belfry2; do
        if [ -n "${RESULT[$scen.$t.threads]:-}" ]; then
            echo
            echo "$t CPU by thread (us/request): ${RESULT[$scen.$t.threads]}"
        fi
    done
}

# Belfry's live Java heap in KiB (GC.class_histogram runs a full GC first).
live_heap_kib() {
    local jcmd
    jcmd="$(dirname "$(readlink -f "/proc/$1/exe")")/jcmd"
    [ -x "$jcmd" ] || { echo -; return; }
    "$jcmd" "$1" GC.class_histogram 2>/dev/null | awk '$1 == "Total" {printf "%.0f", $3 / 1024; found = 1} END {if (!found) print "-"}'
}

established() { ss -Htn state established "( sport = :$1 )" 2>/dev/null | wc -l; }

# Holds IDLE_CONNECTIONS idle connections through proxy $1 and records its RSS before and with them.
measure_idle() {
    local name=$1 port=${PORT[$1]} pid=${PID[$1]}
    local base_rss idle_rss held=0 ready="$WORK/idle.$1.ready" backend_base
    base_rss=$(rss_mib "$pid")
    local base_heap=- idle_heap=-
    [[ $name == belfry* ]] && base_heap=$(live_heap_kib "$pid")
    backend_base=$(established "$BACKEND_PORT")
    python3 "$ROOT/bench/idle_connections.py" 127.0.0.1 "$port" "$IDLE_CONNECTIONS" "$ready" 2>"$WORK/idle.$1.err" &
    local client=$!
    PIDS+=("$client")
    for _ in $(seq 1 600); do [ -s "$ready" ] && break; sleep 0.1; done
    # Wait (bounded) until the proxy has opened the backend side of every connection.
    local last=-1 still=0
    for _ in $(seq 1 200); do
        held=$(($(established "$BACKEND_PORT") - backend_base))
        [ "$held" -ge "$IDLE_CONNECTIONS" ] && break
        # Or a second without change: report what got through.
        if [ "$held" -eq "$last" ]; then still=$((still + 1)); [ "$still" -ge 10 ] && break; else still=0; fi
        last=$held
        sleep 0.1
    done
    sleep 2
    idle_rss=$(rss_mib "$pid")
    [ -s "$WORK/idle.$1.err" ] && log "idle client: $(cat "$WORK/idle.$1.err")"
    held=$(($(established "$BACKEND_PORT") - backend_base))
    [[ $name == belfry* ]] && idle_heap=$(live_heap_kib "$pid")
    kill -TERM "$client" 2>/dev/null || true
    wait "$client" 2>/dev/null || true
    local per_conn
    per_conn=$(awk -v a="$idle_rss" -v b="$base_rss" -v n="$held" 'BEGIN { if (n > 0) printf "%.1f", (a - b) * 1024 / n; else print "-" }')
    local heap_per_conn
    heap_per_conn=$(awk -v a="$idle_heap" -v b="$base_heap" -v n="$held" 'BEGIN { if (a != "-" && b != "-" && n > 0) printf "%.2f", (a - b) / n; else print "-" }')
    RESULT[idle.$name]="$base_rss $idle_rss $per_conn $(cat "$ready" 2>/dev/null || echo 0) $held $heap_per_conn"
    log "idle $name: rss $base_rss -> $idle_rss MiB with $held backend connections held ($per_conn KiB/connection; live Java heap $base_heap -> $idle_heap KiB)"
    # Let the proxy close its backend side before the next one starts (bounded).
    for _ in $(seq 1 100); do
        [ $(($(established "$BACKEND_PORT") - backend_base)) -le 0 ] && break
        sleep 0.1
    done
}

BELFRY_JAVA=-
if wants belfry; then
    BELFRY_JAVA=$("$(readlink -f "/proc/${PID[belfry]}/exe")" -version 2>&1 | head -1 || echo -)
fi
log "targets: ${TARGETS[*]}; scenarios: $SCENARIOS; ${DURATION}s measured after ${WARMUP}s warm-up each"
# Idle first, while every proxy is fresh: afterwards Belfry's RSS is mostly heap already touched.
if scenario idle; then
    for t in "${TARGETS[@]}"; do [ "$t" = direct ] || measure_idle "$t"; done
fi
ROUND_TITLE=
for ((round = 1; round <= ROUNDS; round++)); do
    [ "$ROUNDS" -gt 1 ] && { ROUND_TITLE=" (round $round of $ROUNDS)"; log "round $round of $ROUNDS"; }
    if scenario cold; then
        # A second Belfry, just started, loaded at once and then stopped; then HAProxy's window.
        if wants belfry; then
            started=$(date +%s.%N)
            BELFRY_NO_BUILD=1 "${PROXY_CPU[@]}" bin/belfry run --config "$WORK/belfry-cold.toml" >>"$WORK/belfry-cold.log" 2>&1 &
            cold_pid=$!
            PIDS+=("$cold_pid")
            wait_port "$BELFRY_COLD_PORT"
            log "cold: a new belfry listening $(awk -v a="$(date +%s.%N)" -v b="$started" 'BEGIN { printf "%.2f", a - b }') s after its start"
            main_pid=${PID[belfry]}
            PID[belfry]=$cold_pid
            PORT[belfry]=$BELFRY_COLD_PORT
            measure belfry cold small "$CLOSE_CONNECTIONS" -H 'Connection: close'
            PID[belfry]=$main_pid
            PORT[belfry]=$BELFRY_PORT
            # SIGTERM: it drains (drain_timeout 0s) and exits; bounded.
            kill -TERM "$cold_pid" 2>/dev/null || true
            for _ in $(seq 1 100); do kill -0 "$cold_pid" 2>/dev/null || break; sleep 0.1; done
            kill -KILL "$cold_pid" 2>/dev/null || true
            wait "$cold_pid" 2>/dev/null || true
        fi
        for t in "${TARGETS[@]}"; do
            [[ $t == belfry* ]] || measure "$t" cold small "$CLOSE_CONNECTIONS" -H 'Connection: close'
        done
    fi
    if scenario keepalive; then
        for t in "${TARGETS[@]}"; do measure "$t" keepalive small "$KEEPALIVE_CONNECTIONS"; done
    fi
    if scenario close; then
        for t in "${TARGETS[@]}"; do measure "$t" close small "$CLOSE_CONNECTIONS" -H 'Connection: close'; done
    fi
    if scenario bulk; then
        for t in "${TARGETS[@]}"; do measure "$t" bulk bulk "$BULK_CONNECTIONS"; done
    fi
    {
        scenario cold && print_table cold "Cold start: the first ${COLD_DURATION}s of a new connection per request (as below) on a Belfry just started, no warm-up$ROUND_TITLE"
        scenario keepalive && print_table keepalive "Keep-alive: 100-byte responses, $KEEPALIVE_CONNECTIONS connections$ROUND_TITLE"
        scenario close && print_table close "New connection per request: 100-byte responses, $CLOSE_CONNECTIONS concurrent (wrk -H 'Connection: close'; accepts/request counts every accept on the host: 1 direct, 2 through a proxy)$ROUND_TITLE"
        scenario bulk && print_table bulk "Bulk: 256 KiB responses, $BULK_CONNECTIONS keep-alive connections$ROUND_TITLE"
        true
    } >"$WORK/report.$round"
done

# --- report --------------------------------------------------------------------------------------
echo
echo "## Belfry vs HAProxy vs nginx stream, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "Machine: $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), Linux $(uname -r); $( [ -n "${PIN:-}" ] && echo "each proxy on CPU ${PIN%%:*}, wrk and the backend on CPU ${PIN##*:}" || echo "wrk, the backend and the proxy share them")."
echo "Backend: nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///'), one worker. HAProxy $(haproxy -v | awk 'NR == 1 {print $3}'), mode tcp, nbthread 1."
echo "nginx stream: one worker. Belfry: bin/belfry run, io_threads = 1, transport: the default unless -Dbelfry.transport is in BELFRY_JAVA_OPTS, BELFRY_JAVA_OPTS='$BELFRY_JAVA_OPTS' (empty: as shipped)${PID[belfry2]:+; belfry2: the same with BELFRY_JAVA_OPTS='${BELFRY2_JAVA_OPTS:-}'}, log level ${BELFRY_LOG_LEVEL:-as shipped (info: a line per connection)}, $(BELFRY_JAVA_OPTS='' bin/belfry --version 2>/dev/null | head -1), on $BELFRY_JAVA."
[ -n "${PID[floor]:-}" ] && echo "floor: bench/floor/FloorRelay.java, a bare relay on Netty's epoll event loop without Netty channels (one I/O thread, no limits, timeouts, balancing or log: a cost floor, not a proxy), on $("$floor_java/bin/java" -version 2>&1 | head -1) with ${floor_opts[*]}."
echo "Each cell: one ${DURATION}s wrk -t1 window after a ${WARMUP}s warm-up of the same path, in each of $ROUNDS round(s). CPU = utime+stime of the whole proxy process over the window / requests."
for ((round = 1; round <= ROUNDS; round++)); do cat "$WORK/report.$round"; done
if [ "$ROUNDS" -gt 1 ] && [ -s "$WORK/ratios" ]; then
    echo
    echo "### Median of each ratio to HAProxy over rounds $MEDIAN_FROM to $ROUNDS"
    echo
    echo "| scenario | path | req/s vs HAProxy | CPU/req vs HAProxy | p99 vs HAProxy | rounds |"
    echo "|---|---|---:|---:|---:|---:|"
    sort -k1,1 -k2,2 "$WORK/ratios" | awk '
        function median(list,   a, n, i, j, t) {
            n = split(list, a, " ")
            for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
            return n % 2 ? a[(n + 1) / 2] : sprintf("%.2f", (a[n / 2] + a[n / 2 + 1]) / 2)
        }
        { k = $1 " " $2; if (!(k in rps)) order[++count] = k; rps[k] = rps[k] " " $3; cpu[k] = cpu[k] " " $4; p99[k] = p99[k] " " $5; n[k]++ }
        END { for (i = 1; i <= count; i++) { k = order[i]; split(k, f, " ")
            printf "| %s | %s | %s | %s | %s | %d |\n", f[1], f[2], median(rps[k]), median(cpu[k]), median(p99[k]), n[k] } }'
fi
if scenario idle; then
    echo
    echo "### Idle connections: $IDLE_CONNECTIONS client connections held open through each freshly started proxy (each with its backend connection), measured first"
    echo
    echo "| proxy | RSS before (MiB) | RSS with idle connections (MiB) | RSS KiB per connection | client connections opened | backend connections held | live Java heap KiB per connection |"
    echo "|---|---:|---:|---:|---:|---:|---:|"
    for t in "${TARGETS[@]}"; do
        [ -n "${RESULT[idle.$t]:-}" ] || continue
        # shellcheck disable=SC2086
        set -- ${RESULT[idle.$t]}
        echo "| $t | $1 | $2 | $3 | $4 | $5 | $6 |"
    done
fi
