package dev.belfry.proxy.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.Service;
import dev.belfry.UnprocessedException;
import dev.belfry.backoff.Backoff;
import dev.belfry.breaker.CircuitBreaker;
import dev.belfry.breaker.CircuitBreakerLayer;
import dev.belfry.breaker.CircuitState;
import dev.belfry.retry.RetryBudget;
import dev.belfry.retry.RetryLayer;
import dev.belfry.retry.RetryPolicy;
import dev.belfry.test.ManualClock;
import dev.belfry.test.MockService;
import dev.belfry.test.NoNettyLeaks;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The core's retry and circuit breaker layers, wired to {@link ProxyMetrics}' listeners, show what
 * they decided in {@code /metrics} of a real admin server.
 */
@ExtendWith(NoNettyLeaks.class)
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ResilienceMetricsTest {
    private static final Duration BACKOFF = Duration.ofMillis(10);

    private final ManualClock clock = new ManualClock();
    private final MockService<String, String> inner = MockService.create();
    private final ProxyMetrics metrics = ProxyMetrics.create(FakeStatus.healthy());
    private final HttpClient client = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    private @Nullable AdminServer server;

    @AfterEach
    void closeEverything() {
        client.close();
        if (server != null) {
            server.close();
        }
    }

    private Map<String, Double> scrape() throws IOException, InterruptedException {
        if (server == null) {
            server = AdminServer.builder(FakeStatus.healthy(), metrics.registry())
                    .listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                    .start();
        }
        URI uri = URI.create("http://127.0.0.1:" + server.address().getPort() + "/metrics");
        HttpResponse<String> response = client.send(
                HttpRequest.newBuilder(uri)
                        .timeout(Duration.ofSeconds(10))
                        .GET()
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        return PrometheusText.parse(response.body());
    }

    private static String retries(String cluster) {
        return PrometheusText.key("belfry_cluster_retries_total", "cluster", cluster);
    }

    private static String exhausted(String cluster) {
        return PrometheusText.key("belfry_cluster_retry_budget_exhausted_total", "cluster", cluster);
    }

    private static String transition(String backend, String from, String to) {
        return PrometheusText.key(
                "belfry_breaker_transitions_total", "cluster", "app", "backend", backend, "from", from, "to", to);
    }

    @Test
    void aRetryAndARefusedRetryAreCountedForTheirClusterOnly() throws Exception {
        // A budget with no reserve and nothing deposited yet beyond this call: one retry, then none.
        RetryBudget budget = RetryBudget.builder()
                .retryRatio(1.0)
                .minRetriesPerSecond(0)
                .clock(clock)
                .build();
        Service<String, String> retrying = RetryLayer.builder(RetryPolicy.<String, String>standard()
                        .backoff(Backoff.constant(BACKOFF))
                        .maxAttempts(3)
                        .build())
                .budget(budget)
                .listener(metrics.retryListener("app"))
                .clock(clock)
                .build()
                .wrap(inner);
        metrics.retryListener("other"); // a second cluster, which must stay at zero

        assertThat(scrape()).containsEntry(retries("app"), 0.0).containsEntry(exhausted("app"), 0.0);

        CompletableFuture<String> result = retrying.call("connect");
        inner.handle().next().fail(new UnprocessedException("refused"));
        clock.advance(BACKOFF);
        inner.handle().next().fail(new UnprocessedException("refused again"));
        assertThat(result).isCompletedExceptionally();

        Map<String, Double> samples = scrape();
        assertThat(samples).containsEntry(retries("app"), 1.0).containsEntry(exhausted("app"), 1.0);
        assertThat(samples).containsEntry(retries("other"), 0.0).containsEntry(exhausted("other"), 0.0);
    }

    @Test
    void aBreakerOpeningAndProbingAreCountedByTransition() throws Exception {
        CircuitBreaker<String, String> breaker = CircuitBreakerLayer.<String, String>builder()
                .consecutiveFailures(2)
                .halfOpenCalls(1)
                .openInterval(Backoff.constant(Duration.ofSeconds(5)))
                .listener(metrics.breakerListener("app", "10.0.0.1:80"))
                .clock(clock)
                .build()
                .wrap(inner);
        for (int i = 0; i < 2; i++) {
            CompletableFuture<String> result = breaker.call("x");
            inner.handle().next().fail(new IllegalStateException("boom"));
            assertThat(result).isCompletedExceptionally();
        }
        assertThat(breaker.state()).isEqualTo(CircuitState.OPEN);
        assertThat(scrape())
                .containsEntry(transition("10.0.0.1:80", "closed", "open"), 1.0)
                .doesNotContainKey(transition("10.0.0.1:80", "open", "half_open"));

        clock.advance(Duration.ofSeconds(5));
        CompletableFuture<String> probe = breaker.call("probe");
        inner.handle().respondNext("ok");
        assertThat(probe).isCompletedWithValue("ok");
        assertThat(breaker.state()).isEqualTo(CircuitState.CLOSED);
        Map<String, Double> samples = scrape();
        assertThat(samples)
                .containsEntry(transition("10.0.0.1:80", "closed", "open"), 1.0)
                .containsEntry(transition("10.0.0.1:80", "open", "half_open"), 1.0)
                .containsEntry(transition("10.0.0.1:80", "half_open", "closed"), 1.0);
    }
}
