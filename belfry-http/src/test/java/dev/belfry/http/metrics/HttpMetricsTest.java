package dev.belfry.http.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.belfry.OverloadedException;
import dev.belfry.Service;
import dev.belfry.http.HttpMethod;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.http.internal.body.Chunks;
import dev.belfry.http.router.Router;
import dev.belfry.test.ManualClock;
import dev.belfry.test.VerifyAfterEach;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VerifyAfterEach.class)
class HttpMetricsTest {
    private final ManualClock clock = new ManualClock();
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final HttpMetricsLayer layer = HttpMetricsLayer.builder(registry)
            .clock(clock)
            .buckets(0.01, 0.1, 1)
            .build();
    private final CompletableFuture<HttpResponse> held = new CompletableFuture<>();
    private final Router router = Router.builder()
            .layer(layer)
            .get("/users/{id}", r -> held)
            .get("/fail", r -> CompletableFuture.failedFuture(new OverloadedException("full")))
            .build();

    private String scrape() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrometheusTextFormatWriter.create().write(out, registry.scrape());
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void measuresToTheEndOfTheResponseBodyByMethodRouteTemplateAndStatusClass() throws IOException {
        CompletableFuture<HttpResponse> result = router.call(HttpRequest.get("/users/7"));
        assertThat(scrape()).contains("http_server_requests_in_flight 1.0");
        clock.advanceMillis(50);
        held.complete(HttpResponse.status(200).body(Chunks.of("a", "b").body()).build());
        HttpResponse response = result.join();
        assertThat(scrape()).as("the body has not ended").contains("http_server_requests_in_flight 1.0");
        clock.advanceMillis(100);
        response.body().collectBytes(10).join();

        String text = scrape();
        assertThat(text).contains("http_server_requests_in_flight 0.0");
        String labels = "method=\"GET\",route=\"/users/{id}\",status_class=\"2xx\"";
        assertThat(text)
                .contains("http_server_request_duration_seconds_bucket{" + labels + ",le=\"0.1\"} 0")
                .contains("http_server_request_duration_seconds_bucket{" + labels + ",le=\"1.0\"} 1")
                .contains("http_server_request_duration_seconds_sum{" + labels + "} 0.15")
                .contains("http_server_request_duration_seconds_count{" + labels + "} 1");
    }

    @Test
    void aFailureCountsWithTheServersStatusAndAnUnknownMethodIsOther() throws IOException {
        router.call(HttpRequest.get("/fail")).handle((r, f) -> f).join();
        Service<HttpRequest, HttpResponse> outside =
                layer.wrap(r -> CompletableFuture.completedFuture(HttpResponse.of(404)));
        outside.call(HttpRequest.builder(HttpMethod.of("PURGE"), "/x").build())
                .join()
                .close();

        String text = scrape();
        assertThat(text)
                .contains(
                        "http_server_request_duration_seconds_count{method=\"GET\",route=\"/fail\",status_class=\"5xx\"} 1")
                .contains(
                        "http_server_request_duration_seconds_count{method=\"_OTHER\",route=\"unmatched\",status_class=\"4xx\"} 1")
                .contains("http_server_requests_in_flight 0.0");
    }

    @Test
    void cancellingBeforeTheResponseEndsTheExchange() throws IOException {
        CompletableFuture<HttpResponse> result = router.call(HttpRequest.get("/users/1"));
        result.cancel(false);

        assertThat(held.isCancelled()).isTrue();
        assertThat(scrape()).contains("status_class=\"cancelled\"} 1").contains("http_server_requests_in_flight 0.0");
    }

    @Test
    void aSecondLayerOnTheSameRegistryIsRefused() {
        assertThatThrownBy(() -> HttpMetricsLayer.create(registry)).isInstanceOf(IllegalArgumentException.class);
    }
}
