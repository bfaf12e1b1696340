#!/usr/bin/env bash
# Compares Belfry's warm gRPC channel (WarmGrpcChannel) with grpc-java's own channels, in one run.
#
# Three grpc-java servers (the test Echo service plus grpc.health.v1) listen on 127.0.0.1, .2 and .3,
# one port, in the benchmark's main JVM, beside belfry-netty's loopback DNS server. Each client runs
# alone in a JVM of its own, so its process CPU time is its own:
#   belfry       WarmGrpcChannel over the three addresses (defaults: 3 members, p2c + Peak-EWMA,
#                health by Watch, 9 s interval)
#   belfry_hedged  the same with hedging on (.hedging(95): a backup call on another member once a
#                unary idempotent call is slower than the method's recent 95th percentile); not in
#                the default CLIENTS, ask for it
#   round_robin  grpc-java's round_robin with client-side health checking (service config
#                healthCheckConfig, grpc-services on the class path): the best grpc-java offers
#   pick_first   grpc-java's default
# The static clients get the three addresses as a list (a static name resolver for grpc-java).
# Scenarios, each on a channel of its own, the disturbed server always 127.0.0.1 (pick_first's):
#   throughput   unary calls, IN_FLIGHT outstanding: calls/s, client CPU µs/call, p50/p99
#   slow         one server answers 20 ms late: p50/p99, first in a closed loop (IN_FLIGHT calls
#                outstanding, which saturates a small machine), then on a new channel in an open
#                loop at SLOW_RATE calls/s (calls sent on a schedule, latency from each call's due
#                time): p50/p99/p99.9, calls per server, backups; the goal is judged on the latter
#   kill         one server shut down at once mid-window: failed calls
#   not_serving  one server's health set NOT_SERVING under load: ms until it got its last call
#   startup      build -> first success; first-call latency 0.5 s after build
#   dns          the DNS answer moves from .1,.2 to .2,.3 (TTL DNS_TTL): ms until .3 takes calls
#                (grpc-java's dns:/// resolver reads the same server through the JDK's resolver SPI)
#
#   bench/channel-compare.sh                    # 3 rounds, about 10 minutes
#   DURATION=10 ROUNDS=5 bench/channel-compare.sh
#   CLIENTS=belfry,round_robin SCENARIOS=throughput,slow ROUNDS=1 bench/channel-compare.sh
#
# Environment (defaults in brackets): DURATION [5] seconds measured per scenario; WARMUP [10] seconds
# of load before the throughput window, long enough for the JIT to finish compiling the call path on
# a loaded machine (the other scenarios warm 1 s and come after it); ROUNDS [3]: each client runs
# every scenario once per round, and the last table is the median over the rounds (its ratio
# column the median of the rounds' own Belfry / round_robin ratios); IN_FLIGHT [64];
# SLOW_RATE [2000] calls/s offered in the slow scenario's open loop, a fixed rate so that every
# client gets the same load (a few times below what one client drives on 2 CPUs);
# RATE_MAX_IN_FLIGHT [1000] calls outstanding at most in that loop (a call due beyond it is not sent
# and counts as failed); DNS_TTL [2] seconds (Belfry's TTL floor is lowered to 1 s for it; the default floor is 10 s);
# CLIENTS [belfry,round_robin,pick_first]; SCENARIOS [throughput,slow,kill,not_serving,startup,dns];
# CLIENT_OPTS [-Xms256m -Xmx1g]: JVM options of every client; NO_BUILD [unset: set to 1 to reuse
# the last build].
#
# Builds belfry-grpc and its test classes with the Maven wrapper (tests skipped). Every process
# it starts is stopped by PID on exit; the client JVMs are children of the benchmark JVM, which
# ends them. Each client JVM's log is kept in belfry-grpc/target/channel-compare/, with a thread
# dump (hang-PID.json) of a client whose first call neither succeeded nor failed within 20 s; a
# client JVM still running after 120 s + 20 x (DURATION + WARMUP) is ended and its round's
# figures are left out. Everything runs on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-5}
WARMUP=${WARMUP:-10}
ROUNDS=${ROUNDS:-3}
IN_FLIGHT=${IN_FLIGHT:-64}
SLOW_RATE=${SLOW_RATE:-2000}
RATE_MAX_IN_FLIGHT=${RATE_MAX_IN_FLIGHT:-1000}
DNS_TTL=${DNS_TTL:-2}
CLIENTS=${CLIENTS:-belfry,round_robin,pick_first}
SCENARIOS=${SCENARIOS:-throughput,slow,kill,not_serving,startup,dns}
CLIENT_OPTS=${CLIENT_OPTS:--Xms256m -Xmx1g}
min_version=21

die() { printf 'channel-compare: %s\n' "$*" >&2; exit 1; }

# The major version of the JDK at $1 (a JDK home), or nothing.
jdk_major() {
  local home=$1 version
  [ -x "$home/bin/java" ] || return 0
  if [ -f "$home/release" ]; then
    version=$(sed -n 's/^JAVA_VERSION="\([^"]*\)".*/\1/p' "$home/release")
  else
    version=$("$home/bin/java" -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n 1)
  fi
  version=${version#1.}
  printf '%s\n' "${version%%[.+-]*}"
}

# JAVA_HOME if it is new enough, else the newest JDK on PATH or under /usr/lib/jvm.
find_java_home() {
  local best="" best_major=0 candidate major
  if [ -n "${JAVA_HOME:-}" ]; then
    major=$(jdk_major "$JAVA_HOME")
    if [ -n "$major" ] && [ "$major" -ge "$min_version" ]; then
      printf '%s\n' "$JAVA_HOME"
      return 0
    fi
  fi
  local candidates=()
  if command -v java >/dev/null 2>&1; then
    candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")")
  fi
  for candidate in /usr/lib/jvm/* /opt/java/* /opt/jdk*; do
    [ -d "$candidate" ] && candidates+=("$candidate")
  done
  for candidate in "${candidates[@]}"; do
    major=$(jdk_major "$candidate")
    if [ -n "$major" ] && [ "$major" -ge "$min_version" ] && [ "$major" -gt "$best_major" ]; then
      best=$candidate
      best_major=$major
    fi
  done
  [ -n "$best" ] && printf '%s\n' "$best"
}

java_home=$(find_java_home) || true
[ -n "${java_home:-}" ] || die "no JDK $min_version or newer found (looked at JAVA_HOME, java on PATH and /usr/lib/jvm)"
major=$(jdk_major "$java_home")

classpath_file=belfry-grpc/target/bench.classpath
if [ -z "${NO_BUILD:-}" ] || [ ! -f "$classpath_file" ]; then
  echo "channel-compare: building belfry-grpc and its test classes (tests skipped)" >&2
  ./mvnw -B -q -pl belfry-grpc -am package dependency:build-classpath -DskipTests \
    -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test >&2
fi
classpath="$PWD/belfry-grpc/target/test-classes:$PWD/belfry-grpc/target/classes:$(cat "$classpath_file")"

opts=(-Xms256m -Xmx512m --enable-native-access=ALL-UNNAMED)
# JDK 24+ keeps Netty off sun.misc.Unsafe unless allowed; JDK 21 refuses the flag.
[ "$major" -ge 24 ] && opts+=(--sun-misc-unsafe-memory-access=allow)

# The benchmark's working directory: client logs and thread dumps land here.
mkdir -p belfry-grpc/target/channel-compare
cd belfry-grpc/target/channel-compare
"$java_home/bin/java" "${opts[@]}" -cp "$classpath" \
  -Dduration="$DURATION" -Dwarmup="$WARMUP" -Drounds="$ROUNDS" -DinFlight="$IN_FLIGHT" \
  -DslowRate="$SLOW_RATE" -DrateMaxInFlight="$RATE_MAX_IN_FLIGHT" \
  -DdnsTtl="$DNS_TTL" -Dclients="$CLIENTS" -Dscenarios="$SCENARIOS" -DclientOpts="$CLIENT_OPTS" \
  -Dwork=. \
  dev.belfry.grpc.bench.ChannelCompare &
bench=$!
trap 'kill -TERM "$bench" 2>/dev/null || true; wait "$bench" 2>/dev/null || true' EXIT INT TERM
status=0
wait "$bench" || status=$?
trap - EXIT INT TERM
exit "$status"
