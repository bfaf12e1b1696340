package dev.belfry.examples.degradation;

import com.zaxxer.hikari.HikariDataSource;
import dev.belfry.breaker.CircuitState;
import dev.belfry.examples.users.Main;
import dev.belfry.examples.users.UsersApi;
import dev.belfry.examples.users.UsersService;
import dev.belfry.examples.users.grpc.ListUsersRequest;
import dev.belfry.examples.users.grpc.UserServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.NettyChannelBuilder;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;

/**
 * The degradation scenario: the users service under steady load while its database is stopped for
 * a while and started again.
 *
 * <p>Load: {@code rate} requests a second, in turn a cached read ({@code GET /api/v1/users/{id}} of
 * an id read before), an uncached read ({@code GET /api/v1/users?limit=5}, a query each time) and a
 * gRPC {@code ListUsers} of 3 users (a query each time). A monitor polls {@code /ready}, gRPC
 * health, the circuit breaker, the connection pool and the requests in flight every 50 ms.
 *
 * <p>{@code bin/belfry-example degradation [outage-seconds [rate]]} (20 s, 100 a second) prints
 * the figures. This is a harness, not a service: it reads real time and parks its threads.
 */
public final class Degradation {
    private static final String TOKEN = "degradation";
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    private Degradation() {}

    /** What one request saw. */
    record Sample(long startNanos, Kind kind, boolean ok, boolean stale, long latencyNanos) {}

    /** The three kinds of request in the load. */
    enum Kind {
        CACHED_HTTP("cached GET /api/v1/users/{id}"),
        UNCACHED_HTTP("uncached GET /api/v1/users"),
        GRPC_LIST("gRPC ListUsers");

        final String label;

        Kind(String label) {
            this.label = label;
        }
    }

    /**
     * What the scenario measured; times are from the start of the load in nanoseconds, {@code -1}
     * when the event never happened.
     */
    public record Figures(
            List<Sample> samples,
            long stoppedAt,
            long resumedAt,
            long endedAt,
            long circuitOpenAt,
            long notReadyAt,
            long grpcNotServingAt,
            long readyAgainAt,
            long grpcServingAgainAt,
            long recoveredAt,
            int maxInFlightDuringOutage,
            int maxAwaitingConnection,
            long circuitOpenings) {

        /** The samples of {@code kind} that started in {@code [from, to)}. */
        List<Sample> of(Kind kind, long from, long to) {
            return samples.stream()
                    .filter(s -> s.kind() == kind && s.startNanos() >= from && s.startNanos() < to)
                    .toList();
        }

        /** The samples of {@code kind} that started while the database was down. */
        public List<Sample> duringOutage(Kind kind) {
            return of(kind, stoppedAt, resumedAt);
        }

        /** The share of {@code samples} that failed. */
        public static double errorRate(List<Sample> samples) {
            return samples.isEmpty() ? 0 : samples.stream().filter(s -> !s.ok()).count() / (double) samples.size();
        }

        /** The {@code quantile} (0 to 1) latency of {@code samples}. */
        public static Duration latency(List<Sample> samples, double quantile) {
            if (samples.isEmpty()) {
                return Duration.ZERO;
            }
            long[] sorted =
                    samples.stream().mapToLong(Sample::latencyNanos).sorted().toArray();
            int index = (int) Math.min(sorted.length - 1, Math.ceil(quantile * sorted.length) - 1);
            return Duration.ofNanos(sorted[Math.max(0, index)]);
        }

        /** The figures as a table, for the docs. */
        public String table() {
            StringBuilder out = new StringBuilder();
            out.append(String.format(
                    Locale.ROOT,
                    "%-32s %-8s %6s %7s %9s %9s %9s%n",
                    "request",
                    "phase",
                    "count",
                    "errors",
                    "p50 ms",
                    "p99 ms",
                    "max ms"));
            long[][] phases = {{0, stoppedAt}, {stoppedAt, resumedAt}, {resumedAt, endedAt}};
            String[] names = {"before", "outage", "after"};
            for (Kind kind : Kind.values()) {
                for (int i = 0; i < phases.length; i++) {
                    List<Sample> in = of(kind, phases[i][0], phases[i][1]);
                    out.append(String.format(
                            Locale.ROOT,
                            "%-32s %-8s %6d %6.1f%% %9.1f %9.1f %9.1f%n",
                            kind.label,
                            names[i],
                            in.size(),
                            100 * errorRate(in),
                            millis(latency(in, 0.5)),
                            millis(latency(in, 0.99)),
                            millis(latency(in, 1))));
                }
            }
            long stale = duringOutage(Kind.CACHED_HTTP).stream()
                    .filter(Sample::stale)
                    .count();
            out.append(String.format(
                    Locale.ROOT,
                    "database down for %.1f s; cached reads during it answered from memory (stale): %d%n",
                    seconds(resumedAt - stoppedAt),
                    stale));
            out.append(String.format(
                    Locale.ROOT,
                    "after the stop: circuit open %s, /ready 503 %s, gRPC health NOT_SERVING %s (times it opened: %d)%n",
                    after(circuitOpenAt, stoppedAt),
                    after(notReadyAt, stoppedAt),
                    after(grpcNotServingAt, stoppedAt),
                    circuitOpenings));
            out.append(String.format(
                    Locale.ROOT,
                    "after the restart: /ready 200 %s, gRPC SERVING %s, every request succeeding %s%n",
                    after(readyAgainAt, resumedAt),
                    after(grpcServingAgainAt, resumedAt),
                    after(recoveredAt, resumedAt)));
            out.append(String.format(
                    Locale.ROOT,
                    "most requests in flight during the outage: %d; most threads waiting for a connection: %d%n",
                    maxInFlightDuringOutage,
                    maxAwaitingConnection));
            return out.toString();
        }

        private static String after(long at, long from) {
            return at < 0 ? "never" : String.format(Locale.ROOT, "+%.2f s", seconds(at - from));
        }

        private static double seconds(long nanos) {
            return nanos / 1e9;
        }

        private static double millis(Duration duration) {
            return duration.toNanos() / 1e6;
        }
    }

    public static void main(String[] args) throws Exception {
        Duration outage = Duration.ofSeconds(args.length > 0 ? Long.parseLong(args[0]) : 20);
        int rate = args.length > 1 ? Integer.parseInt(args[1]) : 100;
        System.out.printf(
                Locale.ROOT,
                "degradation: %d requests/s; database stopped after 5 s for %d s, then started again%n",
                rate,
                outage.toSeconds());
        Figures figures = run(rate, Duration.ofSeconds(5), outage, Duration.ofSeconds(20));
        System.out.print(figures.table());
    }

    /**
     * Runs the scenario: {@code before} of steady load, the database stopped for {@code outage},
     * then load until the service has recovered and {@code before} more (at most {@code
     * maxRecovery}).
     */
    public static Figures run(int rate, Duration before, Duration outage, Duration maxRecovery) throws Exception {
        try (RestartableDatabase database = RestartableDatabase.start();
                HikariDataSource pool = Main.pool(database.jdbcUrl());
                UsersService service = UsersService.builder(pool)
                        .writeToken(TOKEN)
                        .rateLimit(100_000, Duration.ofSeconds(1))
                        .start();
                HttpClient http = HttpClient.newBuilder()
                        .version(HttpClient.Version.HTTP_1_1)
                        .connectTimeout(Duration.ofSeconds(2))
                        .build()) {
            ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", service.grpcPort())
                    .usePlaintext()
                    .build();
            try {
                return run(rate, before, outage, maxRecovery, database, pool, service, http, channel);
            } finally {
                channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
            }
        }
    }

    @SuppressWarnings("MethodLength") // one scenario, read top to bottom
    private static Figures run(
            int rate,
            Duration before,
            Duration outage,
            Duration maxRecovery,
            RestartableDatabase database,
            HikariDataSource pool,
            UsersService service,
            HttpClient http,
            ManagedChannel channel)
            throws Exception {
        String base = "http://127.0.0.1:" + service.port();
        var created = http.send(
                HttpRequest.newBuilder(URI.create(base + "/api/v1/users"))
                        .header("authorization", "Bearer " + TOKEN)
                        .header("content-type", "application/json")
                        .POST(BodyPublishers.ofString("{\"name\":\"Hot\",\"email\":\"hot@example.com\"}"))
                        .build(),
                BodyHandlers.ofString());
        if (created.statusCode() != 201) {
            throw new IllegalStateException("could not create the user to read: " + created.body());
        }
        String hot = created.headers().firstValue("location").orElseThrow();
        URI cached = URI.create(base + hot);
        URI uncached = URI.create(base + "/api/v1/users?limit=5");
        URI ready = URI.create(base + "/ready");
        UserServiceGrpc.UserServiceStub grpc = UserServiceGrpc.newStub(channel);
        HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(channel);
        UsersApi api = service.api();

        ConcurrentLinkedQueue<Sample> samples = new ConcurrentLinkedQueue<>();
        AtomicInteger inFlight = new AtomicInteger();
        long t0 = System.nanoTime();
        long stopAt = before.toNanos();
        long deadline = stopAt + outage.toNanos() + maxRecovery.toNanos();
        AtomicLongArray events = new AtomicLongArray(
                new long[] {-1, -1, -1, -1, -1}); // circuit, notReady, grpcNot, readyAgain, grpcAgain
        AtomicLong stopped = new AtomicLong(-1);
        AtomicLong resumed = new AtomicLong(-1);
        AtomicInteger maxInFlight = new AtomicInteger();
        AtomicInteger maxAwaiting = new AtomicInteger();
        long openingsBefore = api.circuitOpenings();

        // The monitor: a platform thread polling every 50 ms.
        Thread monitor = Thread.ofPlatform().name("degradation-monitor").start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                long now = System.nanoTime() - t0;
                boolean down = stopped.get() >= 0 && resumed.get() < 0;
                if (down) {
                    maxInFlight.accumulateAndGet(inFlight.get(), Math::max);
                    if (events.get(0) < 0 && api.circuit() == CircuitState.OPEN) {
                        events.set(0, now);
                    }
                }
                var poolBean = pool.getHikariPoolMXBean();
                if (poolBean != null) {
                    maxAwaiting.accumulateAndGet(poolBean.getThreadsAwaitingConnection(), Math::max);
                }
                int readyStatus = status(http, ready);
                ServingStatus serving = serving(health);
                if (down) {
                    if (events.get(1) < 0 && readyStatus == 503) {
                        events.set(1, now);
                    }
                    if (events.get(2) < 0 && serving == ServingStatus.NOT_SERVING) {
                        events.set(2, now);
                    }
                } else if (resumed.get() >= 0) {
                    if (events.get(3) < 0 && readyStatus == 200) {
                        events.set(3, now);
                    }
                    if (events.get(4) < 0 && serving == ServingStatus.SERVING) {
                        events.set(4, now);
                    }
                }
                LockSupport.parkNanos(POLL_NANOS);
            }
        });

        // The database's outage, on its own thread so the load keeps its pace while PostgreSQL
        // stops and starts. The outage counts from the server being gone to its accepting again.
        Thread controller = Thread.ofPlatform().name("degradation-database").start(() -> {
            try {
                LockSupport.parkNanos(stopAt);
                database.stop();
                stopped.set(System.nanoTime() - t0);
                LockSupport.parkNanos(outage.toNanos());
                database.resume();
                resumed.set(System.nanoTime() - t0);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });

        long interval = 1_000_000_000L / rate;
        long next = 0;
        int i = 0;
        long end = deadline;
        try {
            while (true) {
                long now = System.nanoTime() - t0;
                if (resumed.get() >= 0 && events.get(3) >= 0 && events.get(4) >= 0) {
                    long recovered = recoveredAt(List.copyOf(samples), resumed.get(), events);
                    if (recovered >= 0 && now - recovered >= before.toNanos() && end == deadline) {
                        end = now;
                    }
                }
                if (now >= end) {
                    break;
                }
                if (now < next) {
                    LockSupport.parkNanos(Math.min(next - now, POLL_NANOS));
                    continue;
                }
                next += interval;
                Kind kind = Kind.values()[i++ % 3];
                long start = System.nanoTime();
                inFlight.incrementAndGet();
                switch (kind) {
                    case CACHED_HTTP, UNCACHED_HTTP ->
                        http.sendAsync(
                                        HttpRequest.newBuilder(kind == Kind.CACHED_HTTP ? cached : uncached)
                                                .timeout(Duration.ofSeconds(15))
                                                .build(),
                                        BodyHandlers.discarding())
                                .whenComplete((response, failure) -> {
                                    inFlight.decrementAndGet();
                                    boolean ok = failure == null && response.statusCode() == 200;
                                    boolean stale = ok
                                            && response.headers()
                                                    .firstValue(UsersApi.STALE_HEADER)
                                                    .isPresent();
                                    samples.add(new Sample(start - t0, kind, ok, stale, System.nanoTime() - start));
                                });
                    case GRPC_LIST ->
                        grpc.withDeadlineAfter(15, TimeUnit.SECONDS)
                                .listUsers(
                                        ListUsersRequest.newBuilder()
                                                .setLimit(3)
                                                .build(),
                                        new io.grpc.stub.StreamObserver<>() {
                                            @Override
                                            public void onNext(dev.belfry.examples.users.grpc.User user) {}

                                            @Override
                                            public void onError(Throwable t) {
                                                inFlight.decrementAndGet();
                                                samples.add(new Sample(
                                                        start - t0, kind, false, false, System.nanoTime() - start));
                                            }

                                            @Override
                                            public void onCompleted() {
                                                inFlight.decrementAndGet();
                                                samples.add(new Sample(
                                                        start - t0, kind, true, false, System.nanoTime() - start));
                                            }
                                        });
                }
            }
        } finally {
            monitor.interrupt();
            monitor.join(5_000);
            controller.join(60_000);
            database.resume(); // if the scenario failed while it was down
        }
        // Requests still in flight end within their 15 s timeouts; wait for them.
        long waitUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (inFlight.get() > 0 && System.nanoTime() < waitUntil) {
            LockSupport.parkNanos(POLL_NANOS);
        }
        List<Sample> all = new ArrayList<>(samples);
        return new Figures(
                all,
                stopped.get(),
                resumed.get(),
                end,
                events.get(0),
                events.get(1),
                events.get(2),
                events.get(3),
                events.get(4),
                recoveredAt(all, resumed.get(), events),
                maxInFlight.get(),
                maxAwaiting.get(),
                api.circuitOpenings() - openingsBefore);
    }

    /**
     * When the service had recovered: {@code /ready} 200 and gRPC {@code SERVING} again, and every
     * request started after that moment succeeded. {@code -1} if not yet.
     */
    private static long recoveredAt(List<Sample> samples, long resumed, AtomicLongArray events) {
        if (events.get(3) < 0 || events.get(4) < 0) {
            return -1;
        }
        long lastFailureEnd = resumed;
        for (Sample sample : samples) {
            if (!sample.ok() && sample.startNanos() >= resumed) {
                lastFailureEnd = Math.max(lastFailureEnd, sample.startNanos() + sample.latencyNanos());
            }
        }
        return Math.max(lastFailureEnd, Math.max(events.get(3), events.get(4)));
    }

    private static int status(HttpClient http, URI uri) {
        try {
            return http.send(
                            HttpRequest.newBuilder(uri)
                                    .timeout(Duration.ofSeconds(2))
                                    .build(),
                            BodyHandlers.discarding())
                    .statusCode();
        } catch (java.io.IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private static ServingStatus serving(HealthGrpc.HealthBlockingStub health) {
        try {
            return health.withDeadlineAfter(2, TimeUnit.SECONDS)
                    .check(HealthCheckRequest.getDefaultInstance())
                    .getStatus();
        } catch (io.grpc.StatusRuntimeException e) {
            return e.getStatus().getCode() == Status.Code.UNAVAILABLE
                    ? ServingStatus.NOT_SERVING
                    : ServingStatus.UNKNOWN;
        }
    }
}
