package dev.belfry.proxy.it;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Passive outlier detection through the whole proxy: backends that refuse connections. */
@Timeout(value = 60, unit = SECONDS)
class OutlierEjectionTest {
    @RegisterExtension
    final Fixture fixture = new Fixture();

    @Test
    void aRefusingBackendIsEjectedAfterTwoFailuresAndTrafficGoesToTheHealthyOne() throws Exception {
        LineBackend good = fixture.backend("good");
        String refusing = refusing();
        InProcessProxy proxy = fixture.proxy(config(50, refusing, good.hostPort()));
        AdminClient admin = proxy.admin();
        InetSocketAddress web = proxy.listener("web");

        // Round robin sends every other first attempt to the refusing backend; the retry hides it.
        for (int i = 0; i < 6; i++) {
            assertThat(Clients.exchange(web, "x" + i)).isEqualTo("good:x" + i + "\n");
        }
        AdminClient.Backend ejected = admin.backend(refusing);
        assertThat(ejected.state()).isEqualTo("ejected");
        assertThat(ejected.healthy()).isFalse();
        assertThat(ejected.connectFailures()).isEqualTo(2);
        assertThat(admin.state(good.hostPort())).isEqualTo("healthy");

        // Ejected for base_ejection_time (30 s): not tried again, everything goes to the good one.
        int before = good.accepted();
        for (int i = 0; i < 10; i++) {
            assertThat(Clients.exchange(web, "y" + i)).isEqualTo("good:y" + i + "\n");
        }
        assertThat(good.accepted() - before).isEqualTo(10);
        assertThat(admin.backend(refusing).connectFailures()).isEqualTo(2);
        assertThat(admin.get("/metrics").body())
                .contains("belfry_backend_connect_failures_total{backend=\"" + refusing + "\",cluster=\"app\"} 2.0")
                // Each refused connect was retried on the good backend, within the budget.
                .contains("belfry_cluster_retries_total{cluster=\"app\"} 2.0")
                .contains("belfry_cluster_retry_budget_exhausted_total{cluster=\"app\"} 0.0");
    }

    @Test
    void noMoreThanTheMaximumEjectedPercentIsEjected() throws Exception {
        LineBackend good = fixture.backend("good");
        String refusing1 = refusing();
        String refusing2 = refusing();
        // 34 % of three backends: at most one ejected at a time.
        InProcessProxy proxy = fixture.proxy(config(34, refusing1, refusing2, good.hostPort()));
        AdminClient admin = proxy.admin();
        InetSocketAddress web = proxy.listener("web");

        for (int i = 0; i < 12; i++) {
            // Some may fail once the retry budget is spent: this test is about ejection only.
            try {
                Clients.exchange(web, "x" + i);
            } catch (IOException e) {
                // Counted below through the backends' failures.
            }
        }
        AdminClient.Backend first = admin.backend(refusing1);
        AdminClient.Backend second = admin.backend(refusing2);
        assertThat(List.of(first.state(), second.state())).containsExactlyInAnyOrder("ejected", "healthy");
        AdminClient.Backend kept = first.state().equals("healthy") ? first : second;
        // Past the threshold of two failures in a row, yet kept in rotation: the cap holds.
        assertThat(kept.connectFailures()).isGreaterThan(2);
        assertThat(admin.state(good.hostPort())).isEqualTo("healthy");
        assertThat(good.accepted()).isGreaterThan(0);
    }

    /** An address nothing listens on, as {@code 127.0.0.1:PORT}: connects to it are refused. */
    private static String refusing() throws IOException {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return "127.0.0.1:" + probe.getLocalPort();
        }
    }

    private static String config(int maxEjectedPercent, String... backends) {
        StringBuilder toml = new StringBuilder("""
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
                connect_retries = 2
                [clusters.outlier_detection]
                consecutive_failures = 2
                base_ejection_time = "30s"
                """);
        toml.append("max_ejected_percent = ").append(maxEjectedPercent).append('\n');
        for (String backend : backends) {
            toml.append("[[clusters.backends]]\naddress = \"").append(backend).append("\"\n");
        }
        return toml.toString();
    }
}
