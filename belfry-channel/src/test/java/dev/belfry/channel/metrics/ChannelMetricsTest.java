package dev.belfry.channel.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.belfry.channel.AddressSource;
import dev.belfry.channel.ChannelRegistry;
import dev.belfry.channel.FakeConnector;
import dev.belfry.channel.FakeConnector.FakeMember;
import dev.belfry.channel.PoolLog;
import dev.belfry.channel.PoolState;
import dev.belfry.channel.WarmPool;
import dev.belfry.test.ManualClock;
import dev.belfry.test.VerifyAfterEach;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The metrics of pools driven by hand on a {@link ManualClock}, read through the Prometheus text format. */
@ExtendWith(VerifyAfterEach.class)
class ChannelMetricsTest {
    final ManualClock clock = new ManualClock();
    private final FakeConnector connector = new FakeConnector();
    private final ChannelRegistry channels = new ChannelRegistry();
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final List<WarmPool<String, String, String>> pools = new ArrayList<>();

    @AfterEach
    void closeThePools() {
        pools.forEach(WarmPool::close);
        assertThat(connector.open()).isEmpty();
    }

    private WarmPool<String, String, String> start(String name, String... addresses) {
        WarmPool<String, String, String> pool = WarmPool.builder(name, AddressSource.of(List.of(addresses)), connector)
                .want(2)
                .healthyMin(1)
                .warnings(null, null)
                .registry(channels)
                .clock(clock)
                .random(new SplittableRandom(5))
                .log(new PoolLog() {
                    @Override
                    public void warn(String message) {}

                    @Override
                    public void info(String message) {}
                })
                .build();
        pools.add(pool);
        return pool;
    }

    private String scrape() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrometheusTextFormatWriter.create().write(out, registry.scrape());
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void exportsTheCratesNamesAndTheOperatorsExtrasByChannel() throws IOException {
        try (ChannelMetrics ignored = ChannelMetrics.register(channels, registry)) {
            WarmPool<String, String, String> users = start("users", "a", "b");
            FakeMember a = connector.attempt(0).connect();
            a.pass();
            // b refuses; its replacement goes to a, whose backoff the healthy member reset.
            connector.attempt(1).fail("refused");
            assertThat(connector.addresses()).containsExactly("a", "b", "a");

            String text = scrape();
            assertThat(text)
                    .contains("client_channels_target{channel=\"users\"} 2.0\n")
                    .contains("client_channels_current{channel=\"users\"} 2.0\n")
                    .contains("client_channels_healthy{channel=\"users\"} 1.0\n")
                    .contains("client_channels_opened{channel=\"users\"} 3.0\n")
                    .contains("client_channels_serving{channel=\"users\"} 1.0\n")
                    .contains("client_channels_up{channel=\"users\"} 1.0\n")
                    .contains("client_channels_degraded{channel=\"users\"} 0.0\n")
                    .contains("client_channels_resolution_stale{channel=\"users\"} 0.0\n")
                    .contains("client_channels_errors_total{channel=\"users\",kind=\"connect\"} 1.0\n")
                    .contains("client_channels_errors_total{channel=\"users\",kind=\"health\"} 0.0\n")
                    .contains("# TYPE client_channels_opened gauge\n");

            // The only healthy member fails its probe: degraded mode, and a health error.
            clock.advance(users.settings().healthInterval());
            a.failProbe("503");
            assertThat(users.counts().state()).isEqualTo(PoolState.DEGRADED);
            assertThat(scrape())
                    .contains("client_channels_degraded{channel=\"users\"} 1.0\n")
                    .contains("client_channels_up{channel=\"users\"} 0.0\n")
                    .contains("client_channels_healthy{channel=\"users\"} 0.0\n")
                    .contains("client_channels_errors_total{channel=\"users\",kind=\"health\"} 1.0\n");
        }
        // Closed: the metrics are gone from the registry.
        assertThat(scrape()).doesNotContain("client_channels");
    }

    @Test
    void eachPoolIsItsOwnSeriesAndAClosedPoolLeavesThem() throws IOException {
        try (ChannelMetrics ignored = ChannelMetrics.register(channels, registry)) {
            WarmPool<String, String, String> users = start("users", "a");
            start("orders", "b", "c");

            assertThat(scrape())
                    .contains("client_channels_current{channel=\"users\"} 1.0\n")
                    .contains("client_channels_current{channel=\"orders\"} 2.0\n");
            users.close();
            assertThat(scrape())
                    .doesNotContain("channel=\"users\"")
                    .contains("client_channels_current{channel=\"orders\"} 2.0\n");
        }
    }

    @Test
    void namesAreUniqueWithinARegistry() {
        start("users", "a");
        assertThatThrownBy(() -> start("users", "b"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(
                        "a channel named 'users' is already registered; channel names label metrics and must be unique");
        assertThat(connector.addresses()).containsExactly("a");
    }

    @Test
    void registeringTwiceOnOnePrometheusRegistryFails() {
        try (ChannelMetrics ignored = ChannelMetrics.register(channels, registry)) {
            assertThatThrownBy(() -> ChannelMetrics.register(channels, registry))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }
}
