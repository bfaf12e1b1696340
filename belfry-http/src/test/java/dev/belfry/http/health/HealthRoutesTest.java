package dev.belfry.http.health;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.belfry.health.registry.CheckResult;
import dev.belfry.health.registry.Dependency;
import dev.belfry.health.registry.DependencyCheck;
import dev.belfry.health.registry.HealthRegistry;
import dev.belfry.http.HttpResponse;
import dev.belfry.http.router.Router;
import dev.belfry.http.server.HttpServer;
import dev.belfry.test.ManualClock;
import dev.belfry.test.NoNettyLeaks;
import dev.belfry.test.VerifyAfterEach;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** The health routes on a real server over loopback; the registry and the liveness timer on a manual clock. */
@ExtendWith({NoNettyLeaks.class, VerifyAfterEach.class})
@Timeout(60)
class HealthRoutesTest {
    private static final Instant NOW = Instant.parse("2026-12-06T18:00:00Z");

    private final ManualClock clock = new ManualClock();
    private final ManualClock routesClock = new ManualClock();
    private final HttpClient client = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    private @Nullable HttpServer server;
    private @Nullable HealthRegistry registry;

    /** A check answering with whatever the test set last, after the latency the test set. */
    private final class Scripted implements DependencyCheck {
        volatile CheckResult next = CheckResult.healthy();
        volatile Duration latency = Duration.ZERO;

        @Override
        public CompletionStage<CheckResult> check() {
            CompletableFuture<CheckResult> result = new CompletableFuture<>();
            if (latency.isZero()) {
                result.complete(next);
            } else {
                CheckResult answer = next;
                clock.schedule(latency, () -> result.complete(answer));
            }
            return result;
        }
    }

    private final Scripted db = new Scripted();
    private final Scripted cache = new Scripted();

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
        if (registry != null) {
            registry.close();
        }
        client.close();
    }

    private HealthRegistry registry() {
        registry = HealthRegistry.builder()
                .clock(clock)
                .dependency(Dependency.required("database", db).withFall(1))
                .dependency(Dependency.optional("cache", cache).withFall(1))
                .build();
        return registry;
    }

    private String base(HealthRoutes.Builder routes) {
        Router app = routes.build()
                .addTo(Router.builder())
                .get("/hello", request -> CompletableFuture.completedFuture(HttpResponse.text("hi")))
                .build();
        server = HttpServer.builder(app).ioThreads(1).start();
        return "http://127.0.0.1:" + server.port();
    }

    private String base(HealthRegistry health) {
        return base(HealthRoutes.builder(health).version("1.4.2").clock(clock).wallClock(InstantSource.fixed(NOW)));
    }

    private String get(String uri) throws Exception {
        var response = client.send(
                java.net.http.HttpRequest.newBuilder(URI.create(uri)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        return response.statusCode() + " " + response.body();
    }

    @Test
    void healthReportsEveryDependencyInTheSeedsShape() throws Exception {
        HealthRegistry health = registry();
        db.latency = Duration.ofMillis(12);
        cache.next = CheckResult.unhealthy("connection refused");
        clock.runDue();
        clock.advanceMillis(12); // the database answers after 12 ms
        clock.advanceMillis(3000); // in their status for 3000 ms (database) and 3012 ms (cache)
        String base = base(health);

        assertThat(get(base + "/health"))
                .isEqualTo("200 {\"status\":\"degraded\",\"version\":\"1.4.2\",\"draining\":false,\"dependencies\":["
                        + "{\"name\":\"database\",\"status\":\"healthy\",\"required\":true,\"latency_ms\":12,"
                        + "\"message\":null,\"since\":\"2026-12-06T17:59:57Z\"},"
                        + "{\"name\":\"cache\",\"status\":\"unhealthy\",\"required\":false,\"latency_ms\":0,"
                        + "\"message\":\"connection refused\",\"since\":\"2026-12-06T17:59:56.988Z\"}]}");
    }

    @Test
    void healthIs503WhileStartingAndWhenARequiredDependencyIsDown() throws Exception {
        HealthRegistry health = registry();
        String base = base(health);

        assertThat(get(base + "/health"))
                .startsWith("503 {\"status\":\"unknown\"")
                .contains("{\"name\":\"database\",\"status\":\"unknown\",\"required\":true,\"latency_ms\":null,");
        clock.runDue();
        assertThat(get(base + "/health")).startsWith("200 {\"status\":\"healthy\"");
        db.next = CheckResult.unhealthy("too many connections");
        clock.advance(Dependency.DEFAULT_INTERVAL);
        assertThat(get(base + "/health"))
                .startsWith("503 {\"status\":\"unhealthy\"")
                .contains("\"message\":\"too many connections\"");
    }

    @Test
    void readyFollowsTheRequiredDependenciesAndDraining() throws Exception {
        HealthRegistry health = registry();
        String base = base(health);

        assertThat(get(base + "/ready")).isEqualTo("503 not ready: database unknown\n");
        cache.next = CheckResult.unhealthy("connection refused");
        clock.runDue();
        assertThat(get(base + "/ready"))
                .as("an optional dependency does not matter")
                .isEqualTo("200 ready\n");

        db.next = CheckResult.unhealthy("too many connections");
        clock.advance(Dependency.DEFAULT_INTERVAL);
        assertThat(get(base + "/ready")).isEqualTo("503 not ready: database unhealthy (too many connections)\n");

        health.drain();
        assertThat(get(base + "/ready"))
                .isEqualTo("503 not ready: draining, database unhealthy (too many connections)\n");
        db.next = CheckResult.healthy();
        clock.advance(Dependency.DEFAULT_INTERVAL);
        clock.advance(Dependency.DEFAULT_INTERVAL); // rise 2
        assertThat(get(base + "/ready")).isEqualTo("503 not ready: draining\n");
        health.cancelDrain();
        assertThat(get(base + "/ready")).isEqualTo("200 ready\n");
    }

    @Test
    void liveAnswersWhileTheProcessAnswersByDefault() throws Exception {
        HealthRegistry health = registry();
        health.drain(); // neither draining nor dependencies matter to liveness
        String base = base(health);

        assertThat(get(base + "/live")).isEqualTo("200 alive\n");
        var response = client.send(
                java.net.http.HttpRequest.newBuilder(URI.create(base + "/live")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(response.headers().firstValue("cache-control")).hasValue("no-store");
    }

    @Test
    void liveAsksTheProbeAndAnswers503WhenItFailsThrowsOrTimesOut() throws Exception {
        AtomicReference<@Nullable CompletableFuture<CheckResult>> next = new AtomicReference<>();
        LivenessProbe probe = () -> {
            CompletableFuture<CheckResult> current = next.get();
            if (current == null) {
                throw new IllegalStateException("worker pool wedged");
            }
            return current;
        };
        String base = base(HealthRoutes.builder(registry())
                .clock(routesClock)
                .liveness(probe)
                .livenessTimeout(Duration.ofMillis(500)));

        next.set(CompletableFuture.completedFuture(CheckResult.healthy("3 workers")));
        assertThat(get(base + "/live")).isEqualTo("200 alive: 3 workers\n");
        next.set(CompletableFuture.completedFuture(CheckResult.unhealthy("heap 98% after full GC")));
        assertThat(get(base + "/live")).isEqualTo("503 not alive: heap 98% after full GC\n");
        next.set(null);
        assertThat(get(base + "/live")).isEqualTo("503 not alive: worker pool wedged\n");
        assertThat(routesClock.pendingTasks())
                .as("answered probes cancel their timers")
                .isZero();

        CompletableFuture<CheckResult> hanging = new CompletableFuture<>();
        next.set(hanging);
        var response = client.sendAsync(
                java.net.http.HttpRequest.newBuilder(URI.create(base + "/live")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        // The probe is asked on the server's event loop; its timer is on the manual clock.
        await().atMost(Duration.ofSeconds(10)).until(() -> routesClock.pendingTasks() == 1);
        routesClock.advance(Duration.ofMillis(499));
        assertThat(response).isNotDone();
        routesClock.advance(Duration.ofMillis(1));
        var answered = response.get(10, TimeUnit.SECONDS);
        assertThat(answered.statusCode() + " " + answered.body())
                .isEqualTo("503 not alive: the liveness probe timed out after 500 ms\n");
        assertThat(hanging).as("the probe is abandoned").isCancelled();
    }

    @Test
    void aClientThatLeavesWhileTheLivenessProbeRunsAbandonsItAndItsTimer() throws Exception {
        CompletableFuture<CheckResult> hanging = new CompletableFuture<>();
        String base = base(HealthRoutes.builder(registry()).clock(routesClock).liveness(() -> hanging));
        int port = Integer.parseInt(base.substring(base.lastIndexOf(':') + 1));

        try (java.net.Socket socket = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), port)) {
            socket.getOutputStream()
                    .write("GET /live HTTP/1.1\r\nHost: x\r\n\r\n"
                            .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            await().atMost(Duration.ofSeconds(10)).until(() -> routesClock.pendingTasks() == 1);
        }

        await().atMost(Duration.ofSeconds(10)).until(hanging::isCancelled);
        assertThat(routesClock.pendingTasks())
                .as("the timeout timer is cancelled too")
                .isZero();
    }

    @Test
    void theRoutesNestUnderAPrefixAndAnswerHead() throws Exception {
        HealthRegistry health = registry();
        clock.runDue();
        Router app = Router.builder()
                .nest("/admin", HealthRoutes.builder(health).build().router())
                .build();
        server = HttpServer.builder(app).ioThreads(1).start();
        String base = "http://127.0.0.1:" + server.port();

        assertThat(get(base + "/admin/ready")).isEqualTo("200 ready\n");
        assertThat(get(base + "/admin/health")).startsWith("200 {\"status\":\"healthy\",\"version\":\"unknown\"");
        assertThat(get(base + "/ready")).startsWith("404 ");
        var head = client.send(
                java.net.http.HttpRequest.newBuilder(URI.create(base + "/admin/live"))
                        .method("HEAD", java.net.http.HttpRequest.BodyPublishers.noBody())
                        .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.body()).isEmpty();
    }
}
