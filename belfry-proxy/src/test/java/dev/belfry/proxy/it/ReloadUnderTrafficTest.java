package dev.belfry.proxy.it;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Reloads while clients open connections in a loop: backends added and removed, weights and the
 * balancer changed. No connection may fail or get a partial answer.
 */
@Timeout(value = 60, unit = SECONDS)
class ReloadUnderTrafficTest {
    private static final int CLIENTS = 8;
    private static final int ROUNDS = 4;

    @RegisterExtension
    final Fixture fixture = new Fixture();

    private final List<LineBackend> backends = new ArrayList<>();
    private final List<Thread> clients = new ArrayList<>();
    private final AtomicBoolean stop = new AtomicBoolean();

    // Before the fixture closes the proxy and backends: the clients stop first.
    @AfterEach
    void stopClients() throws InterruptedException {
        stop.set(true);
        for (Thread client : clients) {
            client.join(10_000);
        }
    }

    @Test
    void reloadsUnderTrafficFailNoConnection() throws Exception {
        for (String name : List.of("a", "b", "c")) {
            backends.add(fixture.backend(name));
        }
        LineBackend a = backends.get(0);
        LineBackend b = backends.get(1);
        LineBackend c = backends.get(2);
        // Each step differs from the one before: backends only (updated in place), or the balancer
        // too (the cluster is rebuilt and the old one closed).
        List<String> steps = List.of(
                config("round-robin", a, 1, b, 1),
                config("round-robin", a, 1, b, 1, c, 1),
                config("weighted-round-robin", a, 3, b, 1, c, 1),
                config("weighted-round-robin", b, 1, c, 2),
                config("least-connections", b, 1, c, 1),
                config("least-connections", a, 1, c, 1),
                config("p2c-peak-ewma", a, 1, b, 1, c, 1),
                config("weighted-random", a, 2, b, 1),
                config("round-robin", c, 1),
                config("round-robin", a, 1, b, 1, c, 1),
                config("consistent-hash", a, 1, b, 1),
                config("round-robin", a, 1, b, 1));
        InProcessProxy proxy = fixture.proxy(steps.get(0));
        InetSocketAddress web = proxy.listener("web");

        AtomicInteger completed = new AtomicInteger();
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        Map<String, Integer> perBackend = new ConcurrentHashMap<>();
        CountDownLatch running = new CountDownLatch(CLIENTS);
        for (int t = 0; t < CLIENTS; t++) {
            int id = t;
            clients.add(Thread.ofPlatform().name("client-" + t).start(() -> {
                running.countDown();
                for (int i = 0; !stop.get(); i++) {
                    String line = "c" + id + "-" + i;
                    try {
                        String answer = Clients.exchange(web, line);
                        String backend = Clients.backendOf(answer, line);
                        if (backend == null) {
                            failures.add(line + ": incomplete answer '" + answer + "'");
                        } else {
                            perBackend.merge(backend, 1, Integer::sum);
                            completed.incrementAndGet();
                        }
                    } catch (Exception e) {
                        failures.add(line + ": " + e);
                    }
                }
            }));
        }
        assertThat(running.await(10, SECONDS)).isTrue();
        for (int round = 0; round < ROUNDS; round++) {
            for (String step : steps.subList(1, steps.size())) {
                int before = completed.get();
                proxy.reload(step);
                awaitProgress(completed, before + 20);
            }
        }
        awaitProgress(completed, completed.get() + 50);
        stop.set(true);
        for (Thread client : clients) {
            client.join(10_000);
            assertThat(client.isAlive()).isFalse();
        }

        assertThat(failures).as("failed connections").isEmpty();
        assertThat(completed.get()).isGreaterThanOrEqualTo(ROUNDS * (steps.size() - 1) * 20 + 50);
        assertThat(perBackend.keySet()).containsExactlyInAnyOrder("a", "b", "c");
        assertThat(proxy.server().address("web"))
                .as("the listener kept its socket")
                .isEqualTo(web);
    }

    /** Waits (bounded) until at least {@code target} connections completed, so each config sees traffic. */
    private static void awaitProgress(AtomicInteger completed, int target) {
        org.awaitility.Awaitility.await()
                .atMost(10, SECONDS)
                .pollInterval(java.time.Duration.ofMillis(5))
                .until(() -> completed.get() >= target);
    }

    private static String config(String balancer, Object... backendsAndWeights) {
        StringBuilder toml = new StringBuilder("""
                io_threads = 2
                [admin]
                listen = "127.0.0.1:0"
                [[listeners]]
                name = "web"
                listen = "127.0.0.1:0"
                cluster = "app"
                [[clusters]]
                name = "app"
                connect_timeout = "2s"
                """);
        toml.append("balancer = \"").append(balancer).append("\"\n");
        for (int i = 0; i < backendsAndWeights.length; i += 2) {
            LineBackend backend = (LineBackend) backendsAndWeights[i];
            toml.append("[[clusters.backends]]\naddress = \"")
                    .append(backend.hostPort())
                    .append("\"\nweight = ")
                    .append(backendsAndWeights[i + 1])
                    .append('\n');
        }
        return toml.toString();
    }
}
