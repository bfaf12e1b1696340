package dev.belfry.proxy.it;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Active TCP health checks through the whole proxy: a backend goes down, then comes back. */
@Timeout(value = 60, unit = SECONDS)
class HealthCheckTest {
    @RegisterExtension
    final Fixture fixture = new Fixture();

    @Test
    void aStoppedBackendTurnsUnhealthyGetsNoConnectsAndComesBackWhenRestarted() throws Exception {
        LineBackend a = fixture.backend("a");
        LineBackend b = fixture.backend("b");
        InProcessProxy proxy = fixture.proxy("""
                io_threads = 1
                [admin]
                listen = "127.0.0.1:0"
                [[listeners]]
                name = "web"
                listen = "127.0.0.1:0"
                cluster = "app"
                [[clusters]]
                name = "app"
                balancer = "round-robin"
                connect_timeout = "1s"
                [clusters.health_check]
                kind = "tcp"
                interval = "100ms"
                timeout = "100ms"
                rise = 1
                fall = 1
                [[clusters.backends]]
                address = "%s"
                [[clusters.backends]]
                address = "%s"
                """.formatted(a.hostPort(), b.hostPort()));
        AdminClient admin = proxy.admin();
        InetSocketAddress web = proxy.listener("web");
        assertThat(admin.state(a.hostPort())).isEqualTo("healthy");
        assertThat(admin.state(b.hostPort())).isEqualTo("healthy");
        assertThat(spread(web, 6)).containsEntry("a", 3).containsEntry("b", 3);

        b.stop();
        awaitState(admin, b, "unhealthy");
        AdminClient.Backend down = admin.backend(b.hostPort());
        assertThat(down.healthy()).isFalse();
        assertThat(admin.get("/metrics").body())
                .contains("belfry_backend_healthy{backend=\"" + b.hostPort() + "\",cluster=\"app\"} 0.0");
        // Out of rotation: every connection goes to a, and the proxy does not even try b.
        assertThat(spread(web, 10)).containsExactly(Map.entry("a", 10));
        assertThat(admin.backend(b.hostPort()).connectFailures()).isEqualTo(down.connectFailures());
        assertThat(admin.get("/ready").status()).isEqualTo(200);

        b.restart();
        awaitState(admin, b, "healthy");
        int before = b.accepted();
        Map<String, Integer> back = spread(web, 10);
        assertThat(back.getOrDefault("b", 0)).isBetween(4, 6);
        assertThat(back.getOrDefault("a", 0) + back.getOrDefault("b", 0)).isEqualTo(10);
        // The health checks connect too: count at least the relayed connections.
        assertThat(b.accepted() - before).isGreaterThanOrEqualTo(back.get("b"));
    }

    @Test
    void aBackendBackInRotationRampsUpOverTheSlowStartInsteadOfTakingItsShareAtOnce() throws Exception {
        LineBackend a = fixture.backend("a");
        LineBackend b = fixture.backend("b");
        long started = System.nanoTime();
        InProcessProxy proxy = fixture.proxy("""
                io_threads = 1
                [admin]
                listen = "127.0.0.1:0"
                [[listeners]]
                name = "web"
                listen = "127.0.0.1:0"
                cluster = "app"
                [[clusters]]
                name = "app"
                balancer = "weighted-random"
                connect_timeout = "1s"
                slow_start = "3s"
                [clusters.health_check]
                kind = "tcp"
                interval = "100ms"
                timeout = "100ms"
                rise = 1
                fall = 1
                [[clusters.backends]]
                address = "%s"
                [[clusters.backends]]
                address = "%s"
                """.formatted(a.hostPort(), b.hostPort()));
        AdminClient admin = proxy.admin();
        InetSocketAddress web = proxy.listener("web");
        b.stop();
        awaitState(admin, b, "unhealthy");
        // Let a's own slow start (it joined at start-up) run out, so it has its full share.
        long left = Duration.ofMillis(3_200).toNanos() - (System.nanoTime() - started);
        if (left > 0) {
            Thread.sleep(Duration.ofNanos(left));
        }

        b.restart();
        awaitState(admin, b, "healthy");
        Map<String, Integer> back = spread(web, 100);
        // Equal weights would give b half. Just back, it has a tenth of its share, growing over
        // 3 s: about 10 to 20 % of these connections.
        assertThat(back.getOrDefault("b", 0)).isBetween(1, 35);
        assertThat(back.getOrDefault("a", 0) + back.getOrDefault("b", 0)).isEqualTo(100);
    }

    private static void awaitState(AdminClient admin, LineBackend backend, String state) {
        await().atMost(10, SECONDS)
                .pollInterval(Duration.ofMillis(20))
                .until(() -> admin.state(backend.hostPort()).equals(state));
    }

    /** {@code n} short connections, each answered completely; how many each backend answered. */
    private static Map<String, Integer> spread(InetSocketAddress web, int n) throws Exception {
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < n; i++) {
            String line = "r" + i;
            String backend = Clients.backendOf(Clients.exchange(web, line), line);
            assertThat(backend).as("a complete answer to " + line).isNotNull();
            counts.merge(backend, 1, Integer::sum);
        }
        return counts;
    }
}
