package dev.belfry.http.layers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.belfry.Service;
import dev.belfry.builder.ServiceBuilder;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.http.accesslog.AccessLogLayer;
import dev.belfry.http.auth.AuthLayer;
import dev.belfry.http.catchpanic.CatchPanic;
import dev.belfry.http.catchpanic.CatchPanicLayer;
import dev.belfry.http.compression.CompressionLayer;
import dev.belfry.http.compression.DecompressionLayer;
import dev.belfry.http.cors.CorsLayer;
import dev.belfry.http.headers.SetHeadersLayer;
import dev.belfry.http.limit.RequestBodyLimitLayer;
import dev.belfry.http.metrics.HttpMetricsLayer;
import dev.belfry.http.normalizepath.NormalizePathLayer;
import dev.belfry.http.requestid.RequestIdLayer;
import dev.belfry.http.router.Router;
import dev.belfry.http.server.HttpServer;
import dev.belfry.http.testing.LogCapture;
import dev.belfry.http.timeout.RequestTimeoutLayer;
import dev.belfry.test.NoNettyLeaks;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The layers stacked the way an application would stack them, on a real server on loopback, with
 * the JDK's HTTP client as the peer.
 */
@ExtendWith(NoNettyLeaks.class)
@Timeout(60)
class LayersLoopbackTest {
    private static final String ORIGIN = "https://app.example.com";
    private static final String USER = "{\"id\":7,\"name\":\"Ada\",\"bio\":\"" + "x".repeat(3000) + "\"}";

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final LogCapture accessLog = LogCapture.of(AccessLogLayer.LOGGER);
    private final LogCapture panics = LogCapture.of(CatchPanic.class);
    private final CompletableFuture<HttpResponse> never = new CompletableFuture<>();
    private final HttpServer server;
    private final HttpClient client = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    LayersLoopbackTest() {
        Router router = Router.builder()
                .layer(AccessLogLayer.create())
                .layer(HttpMetricsLayer.create(registry))
                .layer(CatchPanicLayer.create())
                .get(
                        "/users/{id}",
                        r -> CompletableFuture.completedFuture(HttpResponse.status(200)
                                .header("content-type", "application/json")
                                .body(dev.belfry.http.Body.of(USER))
                                .build()))
                .get("/boom", r -> {
                    throw new IllegalStateException("handler bug with a secret in it");
                })
                .post(
                        "/echo",
                        r -> r.body()
                                .collectUtf8(1 << 20)
                                .thenApply(text -> HttpResponse.text(
                                        "got " + text.length() + " chars starting " + text.substring(0, 5))))
                .route(
                        dev.belfry.http.HttpMethod.GET,
                        "/slow",
                        RequestTimeoutLayer.of(Duration.ofMillis(200)),
                        r -> never)
                .route(
                        dev.belfry.http.HttpMethod.GET,
                        "/admin",
                        AuthLayer.bearer(Map.of("s3cret", "ops")),
                        r -> CompletableFuture.completedFuture(HttpResponse.text(
                                "hello " + r.attribute(AuthLayer.PRINCIPAL).getName())))
                .build();
        Service<HttpRequest, HttpResponse> app = ServiceBuilder.<HttpRequest, HttpResponse>builder()
                .layer(RequestIdLayer.create())
                .layer(NormalizePathLayer.create())
                .layer(CorsLayer.builder()
                        .allowOrigins(ORIGIN)
                        .allowHeaders("content-type", "authorization")
                        .exposeHeaders("x-request-id")
                        .build())
                .layer(SetHeadersLayer.builder()
                        .setResponseIfAbsent("cache-control", "no-store")
                        .build())
                .layer(CompressionLayer.create())
                .layer(RequestBodyLimitLayer.of(64 * 1024))
                .layer(DecompressionLayer.create())
                .service(router);
        server = HttpServer.builder(app)
                .ioThreads(1)
                .shutdownGrace(Duration.ofSeconds(2))
                .start();
    }

    @AfterEach
    void stop() {
        never.cancel(false);
        server.close();
        client.close();
        accessLog.close();
        panics.close();
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.port() + path);
    }

    private String scrape() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrometheusTextFormatWriter.create().write(out, registry.scrape());
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void aRequestThroughEveryLayerComesBackCompressedWithCorsIdsLogsAndMetrics() throws Exception {
        var response = client.send(
                java.net.http.HttpRequest.newBuilder(uri("//users//7/"))
                        .header("accept-encoding", "gzip")
                        .header("origin", ORIGIN)
                        .build(),
                BodyHandlers.ofByteArray());

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("content-encoding")).hasValue("gzip");
        assertThat(response.headers().allValues("vary")).contains("accept-encoding", "origin");
        assertThat(response.headers().firstValue("access-control-allow-origin")).hasValue(ORIGIN);
        assertThat(response.headers().firstValue("cache-control")).hasValue("no-store");
        String id = response.headers().firstValue("x-request-id").orElseThrow();
        byte[] plain = new GZIPInputStream(new ByteArrayInputStream(response.body())).readAllBytes();
        assertThat(new String(plain, StandardCharsets.UTF_8)).isEqualTo(USER);
        assertThat(response.body().length).isLessThan(USER.length() / 4);

        await().atMost(Duration.ofSeconds(5)).until(() -> !accessLog.events().isEmpty());
        assertThat(accessLog.events().get(0).getFormattedMessage())
                .contains("method=GET path=/users/7 route=/users/{id} status=200")
                .contains("bytes_out=" + USER.length())
                .contains("request_id=" + id, "outcome=complete");
        await().atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(scrape())
                        .contains("http_server_request_duration_seconds_count{method=\"GET\",route=\"/users/{id}\","
                                + "status_class=\"2xx\"} 1")
                        .contains("http_server_requests_in_flight 0.0"));
    }

    @Test
    void aPreflightIsAnsweredByCorsAndAHandlerBugIsA500WithoutDetails() throws Exception {
        var preflight = client.send(
                java.net.http.HttpRequest.newBuilder(uri("/users/7"))
                        .method("OPTIONS", BodyPublishers.noBody())
                        .header("origin", ORIGIN)
                        .header("access-control-request-method", "GET")
                        .build(),
                BodyHandlers.ofString());
        assertThat(preflight.statusCode()).isEqualTo(204);
        assertThat(preflight.headers().firstValue("access-control-allow-origin"))
                .hasValue(ORIGIN);

        var boom =
                client.send(java.net.http.HttpRequest.newBuilder(uri("/boom")).build(), BodyHandlers.ofString());
        assertThat(boom.statusCode()).isEqualTo(500);
        assertThat(boom.body()).isEqualTo("internal server error\n");
        assertThat(panics.events()).hasSize(1);
        assertThat(panics.events().get(0).getFormattedMessage())
                .contains(boom.headers().firstValue("x-request-id").orElseThrow());
    }

    @Test
    void aGzippedUploadIsInflatedAndAnOversizedOneRefused() throws Exception {
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(gz)) {
            out.write("hello ".repeat(5000).getBytes(StandardCharsets.UTF_8)); // 30000 chars
        }
        var echoed = client.send(
                java.net.http.HttpRequest.newBuilder(uri("/echo"))
                        .header("content-encoding", "gzip")
                        .POST(BodyPublishers.ofByteArray(gz.toByteArray()))
                        .build(),
                BodyHandlers.ofString());
        assertThat(echoed.statusCode()).isEqualTo(200);
        assertThat(echoed.body()).isEqualTo("got 30000 chars starting hello");

        var tooBig = client.send(
                java.net.http.HttpRequest.newBuilder(uri("/echo"))
                        .POST(BodyPublishers.ofByteArray(new byte[100 * 1024]))
                        .build(),
                BodyHandlers.ofString());
        assertThat(tooBig.statusCode()).isEqualTo(413);
    }

    @Test
    void aSlowRouteTimesOutWithItsStatusAndAuthGuardsItsRoute() throws Exception {
        var slow =
                client.send(java.net.http.HttpRequest.newBuilder(uri("/slow")).build(), BodyHandlers.ofString());
        assertThat(slow.statusCode()).isEqualTo(503);
        // The timeout completes the answer first and cancels the handler's call just after, so the
        // client can read the 503 before the cancellation has run.
        org.awaitility.Awaitility.await()
                .atMost(java.time.Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(never).isCancelled());

        var refused =
                client.send(java.net.http.HttpRequest.newBuilder(uri("/admin")).build(), BodyHandlers.ofString());
        assertThat(refused.statusCode()).isEqualTo(401);
        assertThat(refused.headers().firstValue("www-authenticate")).hasValue("Bearer");
        var admitted = client.send(
                java.net.http.HttpRequest.newBuilder(uri("/admin"))
                        .header("authorization", "Bearer s3cret")
                        .build(),
                BodyHandlers.ofString());
        assertThat(admitted.statusCode()).isEqualTo(200);
        assertThat(admitted.body()).isEqualTo("hello ops");
    }
}
