package dev.belfry.proxy.admin;

import static dev.belfry.proxy.admin.FakeStatus.backend;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.function.DoubleConsumer;
import org.junit.jupiter.api.Test;

class ProxyMetricsTest {
    private final FakeStatus status = FakeStatus.healthy();
    private final ProxyMetrics metrics = ProxyMetrics.create(status);

    private Map<String, Double> scrape() throws IOException {
        var out = new ByteArrayOutputStream();
        PrometheusTextFormatWriter.create().write(out, metrics.registry().scrape());
        return PrometheusText.parse(out.toString(StandardCharsets.UTF_8));
    }

    private static String healthyKey(String backend) {
        return PrometheusText.key("belfry_backend_healthy", "cluster", "app", "backend", backend);
    }

    @Test
    void aBackendListedTwiceDoesNotBreakTheScrape() throws IOException {
        status.setBackends(
                "app",
                backend("10.0.0.1:80", BackendState.HEALTHY, 1, 0, null, 0, 0),
                backend("10.0.0.1:80", BackendState.EJECTED, 9, 9, null, 0, 0));
        Map<String, Double> samples = scrape();
        assertThat(samples).containsEntry(healthyKey("10.0.0.1:80"), 1.0);
        assertThat(samples).containsEntry(PrometheusText.key("belfry_ready"), 1.0);
    }

    @Test
    void backendsThatLeaveDisappearFromTheMetrics() throws IOException {
        DoubleConsumer latency = metrics.connectLatency("app", "10.0.0.2:80");
        latency.accept(0.01);
        String count =
                PrometheusText.key("belfry_backend_connect_seconds_count", "cluster", "app", "backend", "10.0.0.2:80");
        assertThat(scrape()).containsEntry(count, 1.0).containsKey(healthyKey("10.0.0.2:80"));

        status.setBackends("app", backend("10.0.0.1:80", BackendState.HEALTHY, 0, 0, null, 0, 0));
        metrics.removeBackend("app", "10.0.0.2:80");
        assertThat(scrape()).doesNotContainKey(count).doesNotContainKey(healthyKey("10.0.0.2:80"));
    }

    @Test
    void aRecorderLookedUpTwiceFeedsTheSameHistogram() throws IOException {
        metrics.connectLatency("app", "10.0.0.1:80").accept(0.001);
        metrics.connectLatency("app", "10.0.0.1:80").accept(0.002);
        assertThat(scrape())
                .containsEntry(
                        PrometheusText.key(
                                "belfry_backend_connect_seconds_count", "cluster", "app", "backend", "10.0.0.1:80"),
                        2.0);
    }

    @Test
    void countersNeverGoNegativeEvenIfARacyReadSaysSo() throws IOException {
        status.listeners = List.of(new ListenerStatus("web", "0.0.0.0:8080", "app", -1, -1, 0));
        Map<String, Double> samples = scrape();
        assertThat(samples)
                .containsEntry(PrometheusText.key("belfry_listener_connections_total", "listener", "web"), 0.0);
        // A gauge shows what was read: a brief -1 is the engine's to avoid, not ours to hide.
        assertThat(samples)
                .containsEntry(PrometheusText.key("belfry_listener_connections_active", "listener", "web"), -1.0);
    }

    @Test
    void registeringTwiceInOneRegistryFails() {
        var registry = new PrometheusRegistry();
        ProxyMetrics.create(status, registry);
        assertThatThrownBy(() -> ProxyMetrics.create(status, registry)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void reloadResultsAreConsistent() {
        assertThatThrownBy(() -> new ReloadResult(true, FakeStatus.T0, List.of("x")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("problems must be empty when ok, was [x]");
        assertThatThrownBy(() -> ReloadResult.rejected(FakeStatus.T0, List.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("problems must name at least one problem when not ok");
    }
}
