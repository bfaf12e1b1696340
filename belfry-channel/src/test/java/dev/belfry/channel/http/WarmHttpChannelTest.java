package dev.belfry.channel.http;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.belfry.channel.AddressSource;
import dev.belfry.channel.ChannelRegistry;
import dev.belfry.channel.NoMemberReadyException;
import dev.belfry.channel.PoolLog;
import dev.belfry.channel.PoolState;
import dev.belfry.channel.PoolStatus;
import dev.belfry.channel.WarmPool;
import dev.belfry.channel.diag.ChannelDiagnostics;
import dev.belfry.channel.metrics.ChannelMetrics;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.http.client.Protocol;
import dev.belfry.test.NoNettyLeaks;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The HTTP channel over three belfry-http servers on loopback, on the system clock: start-up and
 * spread (h2c and HTTP/1.1 members), a server failing its health path, a server killed mid-run,
 * degraded mode, fail-fast, retries of requests that were never sent, and the channel on the
 * diagnostics page and in the metrics. The pool engine's states are {@code WarmPoolTest}'s; these
 * tests check that the HTTP members drive it. Each test is bounded and closes its channel and
 * servers.
 */
@ExtendWith(NoNettyLeaks.class)
@Timeout(60)
class WarmHttpChannelTest {
    private static final Duration PROBE_EVERY = Duration.ofMillis(150);

    private final List<Backend> backends = new ArrayList<>();
    private final List<String> warnings = new CopyOnWriteArrayList<>();
    private final ExecutorService callers = Executors.newVirtualThreadPerTaskExecutor();
    private Duration probeEvery = PROBE_EVERY;
    private @Nullable WarmHttpChannel channel;

    @AfterEach
    void closeEverything() {
        callers.shutdownNow();
        if (channel != null) {
            channel.close();
        }
        for (Backend backend : backends) {
            backend.close();
        }
    }

    private List<InetSocketAddress> startBackends(int count) {
        List<InetSocketAddress> addresses = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Backend backend = Backend.start(String.valueOf((char) ('a' + i)));
            backends.add(backend);
            addresses.add(backend.address());
        }
        return addresses;
    }

    private WarmHttpChannel start(
            AddressSource<InetSocketAddress> source,
            Consumer<WarmHttpChannel.Builder> options,
            Consumer<WarmPool.Builder<InetSocketAddress, ?, ?>> poolOptions) {
        WarmHttpChannel.Builder builder = WarmHttpChannel.builder("users", source)
                .healthChecks(probeEvery, Duration.ofSeconds(2))
                .pool(pool -> {
                    pool.backoff(Duration.ofMillis(50), 1.5, 0.5, Duration.ofSeconds(1))
                            .log(new PoolLog() {
                                @Override
                                public void warn(String message) {
                                    warnings.add(message);
                                }

                                @Override
                                public void info(String message) {}
                            });
                    poolOptions.accept(pool);
                });
        options.accept(builder);
        channel = builder.build();
        return channel;
    }

    private WarmHttpChannel startReady(Protocol protocol) throws Exception {
        WarmHttpChannel users = start(AddressSource.of(startBackends(3)), b -> b.protocol(protocol), pool -> {});
        users.whenReady().toCompletableFuture().get(10, SECONDS);
        return users;
    }

    /** One GET through the channel: the name of the backend that answered. */
    private static String who(WarmHttpChannel users) {
        HttpResponse response = users.call(HttpRequest.get("/who")).join();
        String text = response.body().collectUtf8(1024).join();
        assertThat(response.status()).isEqualTo(200);
        return text;
    }

    private static PoolStatus status(WarmHttpChannel users) {
        return users.status().join();
    }

    private static long servingOn(WarmHttpChannel users, Backend backend) {
        String address = backend.address().toString();
        return status(users).memberList().stream()
                .filter(m -> m.address().equals(address) && m.serving())
                .count();
    }

    @ParameterizedTest
    @EnumSource(Protocol.class)
    void isHealthyBeforeTheFirstCallAndSpreadsCallsOverAllThree(Protocol protocol) throws Exception {
        WarmHttpChannel users = startReady(protocol);

        // Warm: three members connected and probed before any call was made.
        PoolStatus warm = status(users);
        assertThat(warm.healthy()).isGreaterThanOrEqualTo(2);
        assertThat(backends).allSatisfy(b -> assertThat(b.calls.get()).isZero());
        await().atMost(Duration.ofSeconds(5)).until(() -> status(users).healthy() == 3);

        Map<String, Integer> answered = new ConcurrentHashMap<>();
        for (int i = 0; i < 90; i++) {
            answered.merge(who(users), 1, Integer::sum);
        }
        assertThat(answered).containsOnlyKeys("a", "b", "c");
        // Peak-EWMA prefers the fastest member, so the shares differ; every member takes some.
        assertThat(answered.values()).allSatisfy(n -> assertThat(n).isPositive());
        assertThat(backends.stream().mapToInt(b -> b.calls.get()).sum()).isEqualTo(90);
    }

    @Test
    void aServerAnsweringFast5xxGetsAlmostNoCallsThoughItAnswersFastest() throws Exception {
        WarmHttpChannel users = startReady(Protocol.H2C);
        Backend overloaded = backends.get(0);
        overloaded.overloaded.set(true);
        int refused = 0;
        for (int i = 0; i < 60; i++) {
            // The others answer 2 ms late; a 503 comes at once, but counts as the failure penalty.
            HttpResponse response = users.call(HttpRequest.get("/who")).join();
            response.body().discard();
            if (response.status() == 503) {
                refused++;
            }
        }
        assertThat(overloaded.calls.get()).isBetween(1, 3);
        assertThat(refused).isEqualTo(overloaded.calls.get());
    }

    @Test
    void aServerFailingItsHealthPathIsEvictedAndGetsNoMoreCalls() throws Exception {
        WarmHttpChannel users = startReady(Protocol.H2C);
        await().atMost(Duration.ofSeconds(5)).until(() -> status(users).healthy() == 3);
        Backend sick = backends.get(1);

        sick.ready.set(false);
        await().atMost(Duration.ofSeconds(5)).until(() -> servingOn(users, sick) == 0);
        int before = sick.calls.get();
        for (int i = 0; i < 60; i++) {
            assertThat(who(users)).isIn("a", "c");
        }
        assertThat(sick.calls.get()).isEqualTo(before);
        // Its replacements connect, fail their first probe and never serve; the error says why.
        String address = sick.address().toString();
        await().atMost(Duration.ofSeconds(5))
                .until(() -> status(users).addresses().stream()
                        .filter(a -> a.address().equals(address))
                        .flatMap(a -> a.errors().stream())
                        .anyMatch(e -> e.message().contains("health check GET /ready answered 503, expected 200")));
    }

    @ParameterizedTest
    @EnumSource(Protocol.class)
    void aServerKilledMidRunFailsNoIdempotentCall(Protocol protocol) throws Exception {
        WarmHttpChannel users = startReady(protocol);
        await().atMost(Duration.ofSeconds(5)).until(() -> status(users).healthy() == 3);
        Backend victim = backends.get(2);
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicInteger succeeded = new AtomicInteger();
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        List<Future<?>> loops = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            loops.add(callers.submit(() -> {
                while (running.get()) {
                    try {
                        who(users);
                        succeeded.incrementAndGet();
                    } catch (RuntimeException e) {
                        failures.add(e);
                    }
                }
            }));
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> victim.calls.get() >= 50);
        victim.kill();
        int atKill = succeeded.get();
        await().atMost(Duration.ofSeconds(10)).until(() -> succeeded.get() >= atKill + 400);
        running.set(false);
        for (Future<?> loop : loops) {
            loop.get(10, SECONDS);
        }

        assertThat(failures).isEmpty();
        await().atMost(Duration.ofSeconds(5)).until(() -> servingOn(users, victim) == 0);
        int gone = victim.calls.get();
        for (int i = 0; i < 30; i++) {
            assertThat(who(users)).isIn("a", "b");
        }
        assertThat(victim.calls.get()).isEqualTo(gone);
    }

    @Test
    void aRequestThatNeverReachedAServerIsRetriedOnAnotherMemberEvenIfNotIdempotent() throws Exception {
        // Probes far apart, so the pool has not noticed the dead server when the calls find it.
        probeEvery = Duration.ofSeconds(30);
        WarmHttpChannel users = start(AddressSource.of(startBackends(3)), b -> {}, pool -> {});
        users.whenReady().toCompletableFuture().get(10, SECONDS);
        await().atMost(Duration.ofSeconds(5)).until(() -> status(users).healthy() == 3);
        Backend victim = backends.get(0);
        victim.kill();

        int answered = 0;
        for (int i = 0; i < 30; i++) {
            HttpResponse response = users.call(
                            HttpRequest.post("/orders", dev.belfry.http.Body.of("{\"n\":" + i + "}")))
                    .get(10, SECONDS);
            assertThat(response.body().collectUtf8(1024).join()).isIn("b", "c");
            answered++;
        }
        assertThat(answered).isEqualTo(30);
        assertThat(backends.get(1).calls.get() + backends.get(2).calls.get()).isEqualTo(30);
        // A call did reach the dead member: its connect failed, which the pool recorded, and was
        // sent again elsewhere.
        String address = victim.address().toString();
        assertThat(status(users).addresses().stream()
                        .filter(a -> a.address().equals(address))
                        .flatMap(a -> a.errors().stream())
                        .anyMatch(e -> e.message().contains("Connection refused")))
                .as("a connect to the killed server failed")
                .isTrue();
    }

    @Test
    void degradedModeServesFromConnectedUnhealthyMembers() throws Exception {
        WarmHttpChannel users = startReady(Protocol.H2C);
        List<PoolState> states = new CopyOnWriteArrayList<>();
        users.onStateChange(states::add);

        backends.forEach(b -> b.ready.set(false));
        await().atMost(Duration.ofSeconds(10)).until(() -> states.contains(PoolState.DEGRADED));
        // Every backend reports itself unready, yet calls are answered: better than failing them all.
        for (int i = 0; i < 20; i++) {
            assertThat(who(users)).isIn("a", "b", "c");
        }
        assertThat(status(users).state()).isEqualTo(PoolState.DEGRADED);

        backends.forEach(b -> b.ready.set(true));
        await().atMost(Duration.ofSeconds(10)).until(() -> status(users).state() == PoolState.HEALTHY);
        assertThat(states).containsSubsequence(PoolState.HEALTHY, PoolState.DEGRADED, PoolState.HEALTHY);
    }

    private static final String DURATION = "http_client_request_duration_seconds";

    private static String scrape(PrometheusRegistry registry) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrometheusTextFormatWriter.create().write(out, registry.scrape());
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void aCallWithNoMemberReadyFailsFastNamingTheChannelAndItsLastError() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort(); // closed again: nothing listens there
        }
        PrometheusRegistry registry = new PrometheusRegistry();
        WarmHttpChannel users = start(
                AddressSource.of(List.of(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))),
                b -> b.metrics(registry),
                pool -> pool.failFastWait(Duration.ofMillis(300)));

        assertThatThrownBy(() -> users.call(HttpRequest.get("/who")).get(5, SECONDS))
                .hasCauseInstanceOf(NoMemberReadyException.class)
                .cause()
                .hasMessageStartingWith("no member of pool 'users' was ready within 300 ms; last error: ")
                .hasMessageContaining("Connection refused");
        assertThat(users.whenReady().toCompletableFuture()).isNotDone();
        assertThat(scrape(registry))
                .contains(DURATION + "_count{channel=\"users\",method=\"GET\",status=\"error\"} 1\n");
    }

    @Test
    void showsOnTheDiagnosticsPageAndInTheMetrics() throws Exception {
        ChannelRegistry channels = new ChannelRegistry();
        PrometheusRegistry registry = new PrometheusRegistry();
        try (ChannelMetrics ignored = ChannelMetrics.register(channels, registry)) {
            WarmHttpChannel users = start(
                    AddressSource.of(startBackends(3)), b -> b.metrics(registry), pool -> pool.registry(channels));
            users.whenReady().toCompletableFuture().get(10, SECONDS);
            await().atMost(Duration.ofSeconds(5)).until(() -> status(users).healthy() == 3);

            HttpResponse page = ChannelDiagnostics.of(channels)
                    .call(HttpRequest.get(ChannelDiagnostics.PATH + "?format=json"))
                    .get(5, SECONDS);
            String json = page.body().collectUtf8(1 << 20).join();
            assertThat(json).contains("\"name\":\"users\"").contains("\"state\":\"healthy\"");
            for (Backend backend : backends) {
                assertThat(json).contains(backend.address().toString());
            }

            for (int i = 0; i < 5; i++) {
                who(users);
            }
            // A response nobody reads is not over yet: it is counted once its discarded body ends.
            HttpResponse unread = users.call(HttpRequest.get("/who")).get(5, SECONDS);
            assertThat(scrape(registry))
                    .contains(DURATION + "_count{channel=\"users\",method=\"GET\",status=\"200\"} 5\n");
            unread.close();
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> scrape(registry)
                            .contains(DURATION + "_count{channel=\"users\",method=\"GET\",status=\"200\"} 6\n"));
            assertThat(scrape(registry))
                    .contains("client_channels_target{channel=\"users\"} 3.0\n")
                    .contains("client_channels_healthy{channel=\"users\"} 3.0\n")
                    .contains("client_channels_up{channel=\"users\"} 1.0\n");
        }
    }

    @Test
    void theAuthorityIsTheHostOfCallsAndProbes() throws Exception {
        List<String> hosts = new CopyOnWriteArrayList<>();
        try (var server = dev.belfry.http.server.HttpServer.builder(request -> {
                    hosts.add(request.path() + " " + request.header("host"));
                    return java.util.concurrent.CompletableFuture.completedFuture(HttpResponse.text("ok"));
                })
                .ioThreads(1)
                .start()) {
            WarmHttpChannel users = start(
                    AddressSource.of(List.of(server.localAddress())),
                    b -> b.authority("users.internal:8080"),
                    pool -> pool.want(1).healthyMin(1));
            users.whenReady().toCompletableFuture().get(10, SECONDS);
            HttpResponse response = users.call(HttpRequest.get("/who")).get(5, SECONDS);
            response.close();
            assertThat(hosts).contains("/ready users.internal:8080", "/who users.internal:8080");
            users.close();
        }
    }

    @Test
    void aBuilderRejectsBadAndRepeatedSettings() {
        AddressSource<InetSocketAddress> none = AddressSource.of(List.of());
        assertThatThrownBy(() -> WarmHttpChannel.builder("users", none).healthCheck("ready", 200))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("health check path must start with '/', was 'ready'");
        assertThatThrownBy(() -> WarmHttpChannel.builder("users", none).healthCheck("/ready", 42))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("expected status must be 100 to 599, was 42");
        assertThatThrownBy(() -> WarmHttpChannel.builder("users", none)
                        .protocol(Protocol.H2C)
                        .protocol(Protocol.HTTP_1_1))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("protocol was already set");
        assertThatThrownBy(() -> WarmHttpChannel.builder(" ", none))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("name must not be blank");
    }

    @Test
    void aClosedChannelRefusesCalls() throws IOException {
        WarmHttpChannel users = start(
                AddressSource.of(startBackends(1)),
                b -> {},
                pool -> pool.want(1).healthyMin(1));
        users.close();
        assertThatThrownBy(() -> users.call(HttpRequest.get("/who")).join())
                .hasCauseInstanceOf(dev.belfry.ServiceClosedException.class)
                .hasMessageContaining("channel 'users' is closed");
        assertThat(users.tryCall(HttpRequest.get("/who"))).isNull();
        assertThat(users.readiness()).isEqualTo(dev.belfry.Readiness.CLOSED);
    }
}
