#!/usr/bin/env bash
# Compares Belfry's HTTP server and client with their peers on loopback, side by side in one run.
#
# Server: Belfry's HttpServer, a plain Netty handler (the floor), Armeria and Vert.x (see
# belfry-bench-http), each started alone in its own JVM with one event loop and the same JVM
# options, answering GET /text (13 bytes of text) and GET /json ({"message":"Hello, World!"},
# serialized per request). Cases, each warmed up before it is measured:
#   h1-64   wrk -t1 -c64, HTTP/1.1 keep-alive
#   h1-256  wrk -t1 -c256
#   h2c     h2load -c16 -m32 (h2c by prior knowledge, 512 streams in flight)
# For each: requests/s, p50/p99 latency, the server's CPU microseconds per request (utime+stime of
# the whole JVM from /proc/PID/stat over the window, divided by the requests) and the bytes its JVM
# allocated per request (every thread's allocation counter, over the same window).
#
# Client: Belfry's HttpClient, Armeria's WebClient, the JDK HttpClient, OkHttp and the Vert.x web
# client, each in its own JVM with 64 requests in flight against nginx (one worker, GET /text),
# over HTTP/1.1 (up to 64 keep-alive connections) and h2c (one connection by prior knowledge; not
# the JDK's client, which only upgrades from HTTP/1.1, which nginx does not offer): requests/s, the
# client JVM's CPU and allocation per request.
#
# Every round runs every server case and every client once, in an order rotated each round; the
# tables of each round are printed, then the median over the rounds of each value and of each
# ratio (Belfry to plain Netty, to the best peer). The machine is shared: only ratios measured in
# the same run mean anything, and the load average is printed with them.
#
#   bench/http-compare.sh                          # about 25 minutes
#   DURATION=5 WARMUP=3 ROUNDS=1 bench/http-compare.sh
#   ONLY="belfry netty" PART=server CASES=h2c bench/http-compare.sh
#   BELFRY_JFR=/tmp/server.jfr ONLY=belfry PART=server bench/http-compare.sh   # profile Belfry
#
# Environment (defaults in brackets): DURATION [10] and WARMUP [5] seconds per measurement;
# ROUNDS [3]; PART [server client]; ONLY [netty belfry armeria vertx: the servers];
# CLIENTS [belfry armeria jdk okhttp vertx]; CASES [h1-64 h1-256 h2c]; PATHS [text json];
# CLIENT_PROTOCOLS [h1 h2c]; IN_FLIGHT [64: the clients' requests in flight];
# JAVA_OPTS ['-XX:+UseSerialGC -Xms256m', bin/belfry's defaults, for every JVM alike];
# LEAK_DETECTION [disabled: Netty's buffer leak detection level, io.netty.leakDetection.level, for
# every JVM alike. Vert.x turns it off by itself unless the property is set, while the others keep
# Netty's default (simple, which records a stack trace for one buffer in 128): without the property
# the servers would not do the same work. `simple` measures every server with Netty's default];
# TRANSPORT [epoll: Belfry's and the plain Netty server's transport; Armeria picks epoll itself and
# Vert.x is told to prefer its native one]; BELFRY_JFR [unset: a file to record a JFR profile of
# Belfry's server (PART=server) or client (PART=client) into]; PORT_BASE [19480]: ports PORT_BASE
# to PORT_BASE+3 on 127.0.0.1; PIN [unset: no pinning; S:L, e.g. 1:0, runs each server JVM on
# CPU S and wrk or h2load on CPU L with taskset (PART=client: nginx on S, each client JVM on L), so
# that the two never share or swap a core: on a 2-core machine this takes the scheduler's placement
# out of the figures]; INTERLEAVE [0: each
# server is started, measured in every case and stopped before the next; 1: all servers run at once,
# each on two ports of its own from PORT_BASE+10, and each round measures every case and path on
# each server in turn, so that the windows compared lie seconds apart, not minutes: on a shared
# machine whose speed drifts, this is the mode for many short rounds, e.g. ROUNDS=15 DURATION=4
# WARMUP=2]; INITIAL_WARMUP [10: with INTERLEAVE=1, seconds of load per path and protocol on each
# server after they all started, before the first round].
#
# Installs wrk, nghttp2-client (h2load) and nginx-light with apt-get if missing (needs root) and
# builds belfry-bench-http with the Maven wrapper. Every process it starts is stopped by PID on exit
# and its temporary directory removed. All load goes to 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

DURATION=${DURATION:-10}
WARMUP=${WARMUP:-5}
ROUNDS=${ROUNDS:-3}
PART=${PART:-server client}
ONLY=${ONLY:-netty belfry armeria vertx}
CLIENTS=${CLIENTS:-belfry armeria jdk okhttp vertx}
CASES=${CASES:-h1-64 h1-256 h2c}
PATHS=${PATHS:-text json}
CLIENT_PROTOCOLS=${CLIENT_PROTOCOLS:-h1 h2c}
IN_FLIGHT=${IN_FLIGHT:-64}
JAVA_OPTS=${JAVA_OPTS:--XX:+UseSerialGC -Xms256m}
LEAK_DETECTION=${LEAK_DETECTION:-disabled}
TRANSPORT=${TRANSPORT:-epoll}
PORT_BASE=${PORT_BASE:-19480}
PIN=${PIN:-}
INTERLEAVE=${INTERLEAVE:-0}
INITIAL_WARMUP=${INITIAL_WARMUP:-10}
SERVER_CPU=()
LOAD_CPU=()
if [ -n "$PIN" ]; then
    [[ "$PIN" =~ ^[0-9]+:[0-9]+$ ]] || { echo "PIN must be SERVER_CPU:LOAD_CPU, e.g. 1:0 (got '$PIN')" >&2; exit 1; }
    command -v taskset >/dev/null || { echo "PIN needs taskset (util-linux)" >&2; exit 1; }
    SERVER_CPU=(taskset -c "${PIN%%:*}")
    LOAD_CPU=(taskset -c "${PIN##*:}")
fi
SERVER_PORT=$PORT_BASE
STATS_PORT=$((PORT_BASE + 1))
NGINX_H1_PORT=$((PORT_BASE + 2))
NGINX_H2_PORT=$((PORT_BASE + 3))

log() { printf '[http-compare %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "$*"; exit 1; }
part() { [[ " $PART " == *" $1 "* ]]; }

# --- tools ---------------------------------------------------------------------------------------
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v h2load >/dev/null || missing+=(nghttp2-client)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v python3 >/dev/null || missing+=(python3)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || die "missing ${missing[*]}: install them (apt-get install ${missing[*]}) or run as root"
    log "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

# A JDK >= 21, found as bin/belfry finds one (JAVA_HOME if new enough, else the newest installed).
java_home() {
    local best="" best_major=0 c v
    for c in "${JAVA_HOME:-}" /usr/lib/jvm/* /opt/java/* /opt/jdk*; do
        [ -n "$c" ] && [ -x "$c/bin/java" ] && [ -f "$c/release" ] || continue
        v=$(sed -n 's/^JAVA_VERSION="\([^"]*\)".*/\1/p' "$c/release"); v=${v#1.}; v=${v%%[.+-]*}
        [ -n "$v" ] || continue
        if [ "$c" = "${JAVA_HOME:-}" ] && [ "$v" -ge 21 ]; then echo "$c"; return; fi
        if [ "$v" -ge 21 ] && [ "$v" -gt "$best_major" ]; then best=$c; best_major=$v; fi
    done
    [ -n "$best" ] && echo "$best"
}
JHOME=$(java_home) || die "no JDK 21 or newer found (JAVA_HOME or /usr/lib/jvm)"
JAVA=$JHOME/bin/java
JMAJOR=$(sed -n 's/^JAVA_VERSION="\([^"]*\)".*/\1/p' "$JHOME/release"); JMAJOR=${JMAJOR%%[.+-]*}
JVM_OPTS=(--enable-native-access=ALL-UNNAMED)
# JDK 24+ stops Netty from using sun.misc.Unsafe unless allowed; JDK 21 rejects the flag.
[ "$JMAJOR" -ge 24 ] && JVM_OPTS+=(--sun-misc-unsafe-memory-access=allow)
# shellcheck disable=SC2206
JVM_OPTS+=($JAVA_OPTS -Dio.netty.leakDetection.level="$LEAK_DETECTION" -Dbelfry.transport="$TRANSPORT")

WORK=$(mktemp -d /tmp/belfry-http-compare.XXXXXX)
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

log "building belfry-bench-http"
# Every module of the reactor writes its own class path (a relative outputFile is the module's);
# the benchmark module's is the one wanted.
./mvnw -B -q -pl belfry-bench-http -am package dependency:build-classpath -Dmdep.outputFile=target/bench-classpath.txt \
    -DskipTests -Dspotless.check.skip=true -Dmaven.javadoc.skip=true -Dmaven.source.skip=true >"$WORK/build.log" 2>&1 \
    || { tail -n 30 "$WORK/build.log" >&2; die "build failed"; }
cp belfry-bench-http/target/bench-classpath.txt "$WORK/cp.txt"
grep -q okhttp-jvm "$WORK/cp.txt" && grep -q armeria "$WORK/cp.txt" || die "the class path of belfry-bench-http misses a peer: $(cat "$WORK/cp.txt")"
# Copies of every jar, so neither a rebuild during the run nor another build writing to the local
# Maven repository can change what later JVMs load.
mkdir -p "$WORK/lib"
CP=$(tr ':' '\n' <"$WORK/cp.txt" | while read -r jar; do
    dest="$WORK/lib/$(printf '%s' "$jar" | md5sum | cut -c1-8)-${jar##*/}"
    cp "$jar" "$dest" && printf '%s:' "$dest"
done)
cp belfry-bench-http/target/belfry-bench-http-0.1.0-SNAPSHOT.jar "$WORK/lib/"
CP="$WORK/lib/belfry-bench-http-0.1.0-SNAPSHOT.jar:${CP%:}"

wait_port() {
    for _ in $(seq 1 300); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    tail -n 20 "$WORK"/*.log >&2 2>/dev/null || true
    die "nothing listens on 127.0.0.1:$1"
}
# Stops process $1 (SIGTERM, then SIGKILL after 5 s) and waits for it.
stop() {
    kill -TERM "$1" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    local kept=() p
    for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || kept+=("$p"); done
    PIDS=("${kept[@]}")
}
# "rotate N a b c": the words after N, starting at word N mod count.
rotate() {
    local n=$1; shift
    local all=("$@") i
    for ((i = 0; i < ${#all[@]}; i++)); do printf '%s ' "${all[$(((i + n) % ${#all[@]}))]}"; done
}

CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() { awk '{ sub(/^.*\) /, ""); split($0, f, " "); print f[12] + f[13] }' "/proc/$1/stat"; }
# The server JVM's allocated bytes so far (its stats port answers one line: bytes cpu_ns).
allocated() { local line; read -r line <"/dev/tcp/127.0.0.1/$STATS_PORT"; echo "${line%% *}"; }
to_us() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) print n; else if (v ~ /ms$/) print n * 1000; else if (v ~ /m$/) print n * 60e6; else if (v ~ /s$/) print n * 1e6; else print n }'; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# results.tsv: round part case path impl rps p50_us p99_us cpu_us alloc_bytes errors load1
RESULTS=$WORK/results.tsv
: >"$RESULTS"

# One measured window of server $1 (pid $2): case $3, path $4, round $5.
measure_server() {
    local impl=$1 pid=$2 kase=$3 path=$4 round=$5
    local url="http://127.0.0.1:$SERVER_PORT/$path" out="$WORK/$kase.$path.$impl.out"
    local load=()
    case $kase in
        h1-*) load=("${LOAD_CPU[@]}" wrk -t1 -c"${kase#h1-}" --latency) ;;
        h2c) load=("${LOAD_CPU[@]}" h2load -c16 -m32 -t1) ;;
        *) die "unknown case $kase" ;;
    esac
    if [ "$kase" = h2c ]; then
        "${LOAD_CPU[@]}" h2load -c16 -m32 -t1 -D "$WARMUP" "$url" >/dev/null 2>&1 || true
    else
        "${load[@]}" -d"${WARMUP}s" "$url" >/dev/null 2>&1 || true
    fi
    local cpu0 alloc0 cpu1 alloc1
    cpu0=$(cpu_ticks "$pid"); alloc0=$(allocated)
    if [ "$kase" = h2c ]; then
        "${load[@]}" -D "$DURATION" --log-file="$WORK/h2load.log" "$url" >"$out" 2>&1 || true
    else
        "${load[@]}" -d"${DURATION}s" "$url" >"$out" 2>&1 || true
    fi
    cpu1=$(cpu_ticks "$pid"); alloc1=$(allocated)
    local requests rps p50 p99 errors
    if [ "$kase" = h2c ]; then
        requests=$(awk '/^requests:/ {print $8}' "$out")
        errors=$(awk '/^requests:/ {print $10 + $12 + $14}' "$out")
        rps=$(awk '/^finished in/ {gsub(/,/, ""); printf "%.0f", $4}' "$out")
        # h2load's log: start time, status, microseconds to the end of the response.
        read -r p50 p99 < <(cut -f3 "$WORK/h2load.log" | sort -n | awk '{ v[NR] = $1 } END {
            if (NR == 0) { print "- -"; exit } printf "%d %d\n", v[int(NR * 0.5) + 1], v[int(NR * 0.99) + 1] }')
        rm -f "$WORK/h2load.log"
    else
        requests=$(awk '/requests in/ {print $1}' "$out")
        errors=$(awk '/Socket errors/ {gsub(/,/, ""); e = $4 + $6 + $8 + $10} /Non-2xx/ {e += $NF} END {print e + 0}' "$out")
        rps=$(awk '/Requests\/sec/ {printf "%.0f", $2}' "$out")
        p50=$(to_us "$(awk '$1 == "50%" {print $2}' "$out")")
        p99=$(to_us "$(awk '$1 == "99%" {print $2}' "$out")")
    fi
    if [ -z "$requests" ] || [ "$requests" -le 0 ]; then
        log "no requests for $impl $kase /$path:"; cat "$out" >&2; requests=1; rps=0; p50=-; p99=-
    fi
    local cpu alloc
    cpu=$(awk -v t=$((cpu1 - cpu0)) -v hz="$CLK_TCK" -v n="$requests" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }')
    alloc=$(awk -v a="$alloc1" -v b="$alloc0" -v n="$requests" 'BEGIN { printf "%.0f", (a - b) / n }')
    printf '%s\tserver\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$kase" "$path" "$impl" "$rps" "$p50" "$p99" "$cpu" "$alloc" "$errors" "$(loadavg | cut -d' ' -f1)" >>"$RESULTS"
    log "server $impl $kase /$path: $rps req/s, p50 ${p50}us, p99 ${p99}us, cpu ${cpu}us/req, ${alloc} B/req, $errors errors (load $(loadavg))"
}

# Starts server $1 on SERVER_PORT and STATS_PORT, checks that it answers every path over HTTP/1.1
# and h2c, and sets STARTED to its PID.
start_server() {
    local impl=$1 jfr=() path
    if [ "$impl" = belfry ] && [ -n "${BELFRY_JFR:-}" ]; then
        jfr=("-XX:StartFlightRecording=filename=$BELFRY_JFR,settings=profile,dumponexit=true")
    fi
    "${SERVER_CPU[@]}" "$JAVA" "${JVM_OPTS[@]}" "${jfr[@]}" -cp "$CP" dev.belfry.bench.http.PeerServer "$impl" "$SERVER_PORT" "$STATS_PORT" \
        >"$WORK/server.$impl.log" 2>&1 &
    STARTED=$!
    PIDS+=("$STARTED")
    wait_port "$SERVER_PORT"
    wait_port "$STATS_PORT"
    for path in $PATHS; do
        curl -fsS "http://127.0.0.1:$SERVER_PORT/$path" >"$WORK/check" 2>&1 || die "$impl does not answer /$path: $(cat "$WORK/check")"
        curl -fsS --http2-prior-knowledge "http://127.0.0.1:$SERVER_PORT/$path" >"$WORK/check" 2>&1 \
            || die "$impl does not answer /$path over h2c: $(cat "$WORK/check")"
    done
}

run_servers() {
    local round=$1 impl kase path
    for impl in $(rotate $((round - 1)) $ONLY); do
        start_server "$impl"
        for kase in $CASES; do
            for path in $PATHS; do measure_server "$impl" "$STARTED" "$kase" "$path" "$round"; done
        done
        stop "$STARTED"
    done
}

# INTERLEAVE=1: every server runs for the whole part, each on its own two ports, and each round
# measures every case and path on every server in turn (the servers' order rotated per round), so
# that the windows compared are seconds apart rather than minutes.
declare -A SERVER_PID=() SERVER_PORTS=()
start_all_servers() {
    local i=0 impl
    for impl in $ONLY; do
        SERVER_PORT=$((PORT_BASE + 10 + 2 * i))
        STATS_PORT=$((SERVER_PORT + 1))
        start_server "$impl"
        SERVER_PID[$impl]=$STARTED
        SERVER_PORTS[$impl]="$SERVER_PORT $STATS_PORT"
        i=$((i + 1))
    done
    # The JIT's first minutes, before any round: every path under HTTP/1.1 and (if measured) h2c load.
    log "warming every server up: ${INITIAL_WARMUP}s per path and protocol"
    for impl in $ONLY; do
        read -r SERVER_PORT STATS_PORT <<<"${SERVER_PORTS[$impl]}"
        for path in $PATHS; do
            "${LOAD_CPU[@]}" wrk -t1 -c64 -d"${INITIAL_WARMUP}s" "http://127.0.0.1:$SERVER_PORT/$path" >/dev/null 2>&1 || true
            if [[ " $CASES " == *" h2c "* ]]; then
                "${LOAD_CPU[@]}" h2load -c16 -m32 -t1 -D "$INITIAL_WARMUP" "http://127.0.0.1:$SERVER_PORT/$path" >/dev/null 2>&1 || true
            fi
        done
    done
}
run_servers_interleaved() {
    local round=$1 impl kase path
    for kase in $CASES; do
        for path in $PATHS; do
            for impl in $(rotate $((round - 1)) $ONLY); do
                read -r SERVER_PORT STATS_PORT <<<"${SERVER_PORTS[$impl]}"
                measure_server "$impl" "${SERVER_PID[$impl]}" "$kase" "$path" "$round"
            done
        done
    done
}

start_nginx() {
    mkdir -p "$WORK/nginx"
    cat >"$WORK/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
master_process off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    default_type text/plain;
    client_body_temp_path $WORK/nginx;
    proxy_temp_path $WORK/nginx;
    fastcgi_temp_path $WORK/nginx;
    uwsgi_temp_path $WORK/nginx;
    scgi_temp_path $WORK/nginx;
    server {
        listen 127.0.0.1:$NGINX_H1_PORT backlog=4096;
        location = /text { return 200 "Hello, World!"; }
    }
    # h2c by prior knowledge: nginx 1.22 speaks HTTP/2 on a cleartext port marked http2 (and only
    # HTTP/2 there: it does not upgrade from HTTP/1.1).
    server {
        listen 127.0.0.1:$NGINX_H2_PORT http2 backlog=4096;
        location = /text { return 200 "Hello, World!"; }
    }
}
CONF
    "${SERVER_CPU[@]}" "$NGINX" -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" >"$WORK/nginx.log" 2>&1 &
    NGINX_PID=$!
    PIDS+=("$NGINX_PID")
    wait_port "$NGINX_H1_PORT"
    wait_port "$NGINX_H2_PORT"
    curl -fsS "http://127.0.0.1:$NGINX_H1_PORT/text" >/dev/null || die "nginx does not answer"
    curl -fsS --http2-prior-knowledge "http://127.0.0.1:$NGINX_H2_PORT/text" >/dev/null || die "nginx does not answer h2c"
}

run_clients() {
    local round=$1 proto impl port out jfr pid line nginx0 nginx1
    for proto in $CLIENT_PROTOCOLS; do
        port=$NGINX_H1_PORT
        [ "$proto" = h2c ] && port=$NGINX_H2_PORT
        for impl in $(rotate $((round - 1)) $CLIENTS); do
            # The JDK's client has no h2c by prior knowledge, and nginx does not upgrade to h2c.
            [ "$proto" = h2c ] && [ "$impl" = jdk ] && continue
            jfr=()
            if [ "$impl" = belfry ] && [ -n "${BELFRY_JFR:-}" ]; then
                jfr=("-XX:StartFlightRecording=filename=$BELFRY_JFR,settings=profile,dumponexit=true")
            fi
            out="$WORK/client.$proto.$impl.out"
            nginx0=$(cpu_ticks "$NGINX_PID")
            "${LOAD_CPU[@]}" "$JAVA" "${JVM_OPTS[@]}" "${jfr[@]}" -cp "$CP" dev.belfry.bench.http.LoadClient "$impl" "$proto" \
                "http://127.0.0.1:$port/text" "$IN_FLIGHT" "$WARMUP" "$DURATION" >"$out" 2>&1 &
            pid=$!
            PIDS+=("$pid")
            wait "$pid" || log "client $impl $proto exited with $?"
            stop "$pid"
            nginx1=$(cpu_ticks "$NGINX_PID")
            line=$(grep -a '^RESULT ' "$out" || true)
            if [ -z "$line" ]; then
                log "client $impl $proto printed no result:"; tail -n 20 "$out" >&2
                continue
            fi
            # RESULT impl protocol requests rps cpu_us alloc_bytes errors
            read -r _ _ _ requests rps cpu alloc errors <<<"$line"
            printf '%s\tclient\t%s\ttext\t%s\t%s\t-\t-\t%s\t%s\t%s\t%s\n' "$round" "$proto" "$impl" "$rps" "$cpu" "$alloc" "$errors" "$(loadavg | cut -d' ' -f1)" >>"$RESULTS"
            log "client $impl $proto: $rps req/s, cpu ${cpu}us/req, ${alloc} B/req, $errors errors, nginx busy $(awk -v t=$((nginx1 - nginx0)) -v hz="$CLK_TCK" -v d=$((WARMUP + DURATION)) 'BEGIN { printf "%.0f", t / hz / d * 100 }')% (load $(loadavg))"
            grep -av '^RESULT ' "$out" | head -n 3 >&2 || true
        done
    done
}

log "JDK $("$JAVA" -version 2>&1 | head -1); JVM options: ${JVM_OPTS[*]}; ${DURATION}s measured after ${WARMUP}s warm-up; $ROUNDS round(s); pinning: ${PIN:-none}; load $(loadavg)"
part client && start_nginx
if part server && [ "$INTERLEAVE" = 1 ]; then start_all_servers; fi
for ((round = 1; round <= ROUNDS; round++)); do
    log "round $round of $ROUNDS"
    if part server; then
        if [ "$INTERLEAVE" = 1 ]; then run_servers_interleaved "$round"; else run_servers "$round"; fi
    fi
    part client && run_clients "$round"
done

# --- report --------------------------------------------------------------------------------------
echo
echo "## Belfry HTTP vs its peers, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "Machine: $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), Linux $(uname -r), shared: load average $(loadavg) at the end (1-minute load at each measurement in the results). $([ -n "$PIN" ] && echo "Servers and nginx on CPU ${PIN%%:*}; wrk, h2load and the client JVMs on CPU ${PIN##*:}." || echo "Load generator, server and nginx share the cores.")"
echo "JDK: $("$JAVA" -version 2>&1 | head -1); every JVM: ${JVM_OPTS[*]}; pinning (server:load CPU): ${PIN:-none}."
echo "Peers: Netty $(tr ':' '\n' <"$WORK/cp.txt" | sed -n 's#.*/netty-codec-http-\([^/]*\)\.jar#\1#p' | head -1), Armeria $(tr ':' '\n' <"$WORK/cp.txt" | sed -n 's#.*/armeria-\([0-9][^/]*\)\.jar#\1#p' | head -1), Vert.x $(tr ':' '\n' <"$WORK/cp.txt" | sed -n 's#.*/vertx-core-\([0-9][^/]*\)\.jar#\1#p' | head -1), OkHttp $(tr ':' '\n' <"$WORK/cp.txt" | sed -n 's#.*/okhttp-jvm-\([0-9][^/]*\)\.jar#\1#p' | head -1); nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///'); $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2); h2load $(h2load --version | awk '{print $2}')."
echo "Each cell: one ${DURATION}s window after a ${WARMUP}s warm-up, in each of $ROUNDS round(s)."
python3 - "$RESULTS" "$ROUNDS" <<'PY'
import collections, statistics, sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1]) if line.strip()]
rounds = int(sys.argv[2])
PEERS = {"server": ["armeria", "vertx"], "client": ["armeria", "jdk", "okhttp", "vertx"]}
def num(v):
    try: return float(v)
    except ValueError: return None
data = collections.defaultdict(dict)  # (part, case, path) -> impl -> [row per round]
for r in rows:
    rnd, part, case, path, impl = r[0], r[1], r[2], r[3], r[4]
    data[(part, case, path)].setdefault(impl, []).append(dict(round=int(rnd), rps=num(r[5]), p50=num(r[6]), p99=num(r[7]), cpu=num(r[8]), alloc=num(r[9]), errors=r[10], load=r[11]))
def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None
def fmt(v, digits=0):
    return "-" if v is None else (f"{v:.{digits}f}" if digits else f"{v:.0f}")
def ratios(part, impls, rnd):
    """Per round: impl -> (rps/netty, cpu/netty, rps/best peer, cpu/best peer)."""
    at = {i: next((x for x in impls[i] if x["round"] == rnd), None) for i in impls}
    peers = [at[p] for p in PEERS[part] if at.get(p) and at[p]["rps"]]
    best_rps = max((p["rps"] for p in peers), default=None)
    best_cpu = min((p["cpu"] for p in peers if p["cpu"]), default=None)
    netty = at.get("netty")
    out = {}
    for i, x in at.items():
        if not x or not x["rps"]: continue
        div = lambda a, b: a / b if a is not None and b else None
        out[i] = (div(x["rps"], netty and netty["rps"]), div(x["cpu"], netty and netty["cpu"]), div(x["rps"], best_rps), div(x["cpu"], best_cpu))
    return out
for part in ("server", "client"):
    keys = [k for k in data if k[0] == part]
    if not keys: continue
    order = {"netty": 0, "belfry": 1, "armeria": 2, "vertx": 3, "jdk": 4, "okhttp": 5}
    print()
    if part == "server":
        print(f"### Server: median over {rounds} round(s)")
        print()
        print("| case | path | server | requests/s | p50 (us) | p99 (us) | CPU (us/request) | allocated (B/request) | req/s vs Netty | CPU vs Netty | req/s vs best peer | CPU vs best peer | errors |")
        print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    else:
        print(f"### Client: median over {rounds} round(s), against nginx, GET /text")
        print()
        print("| protocol | client | requests/s | CPU (us/request) | allocated (B/request) | req/s vs best peer | CPU vs best peer | errors |")
        print("|---|---|---:|---:|---:|---:|---:|---:|")
    wins = []
    for key in sorted(keys, key=lambda k: ({"h1-64": 0, "h1-256": 1, "h2c": 2, "h1": 0}.get(k[1], 9), k[2])):
        impls = data[key]
        per_round = [ratios(part, impls, rnd) for rnd in range(1, rounds + 1)]
        mine = [pr["belfry"] for pr in per_round if "belfry" in pr and pr["belfry"][2] is not None]
        if mine:
            wins.append((key, sum(1 for r in mine if r[2] > 1), sum(1 for r in mine if r[3] is not None and r[3] < 1), len(mine)))
        for impl in sorted(impls, key=lambda i: order.get(i, 9)):
            xs = impls[impl]
            rs = [pr[impl] for pr in per_round if impl in pr]
            m = [med([r[j] for r in rs]) for j in range(4)]
            errors = sum(int(x["errors"]) for x in xs if x["errors"].isdigit())
            if part == "server":
                print(f"| {key[1]} | /{key[2]} | {impl} | {fmt(med([x['rps'] for x in xs]))} | {fmt(med([x['p50'] for x in xs]))} | {fmt(med([x['p99'] for x in xs]))} | {fmt(med([x['cpu'] for x in xs]), 1)} | {fmt(med([x['alloc'] for x in xs]))} | {fmt(m[0], 2)} | {fmt(m[1], 2)} | {fmt(m[2], 2)} | {fmt(m[3], 2)} | {errors} |")
            else:
                print(f"| {key[1]} | {impl} | {fmt(med([x['rps'] for x in xs]))} | {fmt(med([x['cpu'] for x in xs]), 1)} | {fmt(med([x['alloc'] for x in xs]))} | {fmt(m[2], 2)} | {fmt(m[3], 2)} | {errors} |")
    if wins:
        print()
        print(f"{part.capitalize()}: rounds in which Belfry beat the best peer (more requests/s; less CPU per request):")
        print()
        print("| case | requests/s | CPU per request |")
        print("|---|---:|---:|")
        for key, faster, cheaper, n in wins:
            label = f"{key[1]} /{key[2]}" if part == "server" else key[1]
            print(f"| {label} | {faster} of {n} | {cheaper} of {n} |")
print()
print("Ratios are the median over the rounds of each round's ratio; the best peer is, per round, the")
print("highest requests/s and the lowest CPU/request among " + ", ".join(sorted(set(PEERS['server'] + PEERS['client']))) + " (servers: Armeria and Vert.x).")
print()
print("### Every measurement")
print()
print("| round | part | case | path | impl | requests/s | p50 (us) | p99 (us) | CPU (us/request) | allocated (B/request) | errors | load (1 min) |")
print("|---:|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
for r in rows:
    print("| " + " | ".join(r) + " |")
PY
