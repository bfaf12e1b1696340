package dev.belfry.proxy.admin;

import static dev.belfry.proxy.admin.FakeStatus.T0;
import static dev.belfry.proxy.admin.FakeStatus.backend;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.belfry.netty.transport.Transport;
import dev.belfry.test.NoNettyLeaks;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(NoNettyLeaks.class)
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class AdminServerTest {
    private static final InetSocketAddress ANY_LOOPBACK_PORT =
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    private final FakeStatus status = FakeStatus.healthy();
    private final ProxyMetrics metrics = ProxyMetrics.create(status);
    private final HttpClient client = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    private @Nullable AdminServer server;
    private @Nullable EventLoopGroup sharedGroup;

    @AfterEach
    void closeEverything() {
        client.close();
        if (server != null) {
            server.close();
        }
        if (sharedGroup != null) {
            sharedGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
    }

    private AdminServer start() {
        server = AdminServer.builder(status, metrics.registry())
                .listen(ANY_LOOPBACK_PORT)
                .start();
        return server;
    }

    private URI uri(String path) {
        InetSocketAddress address = server().address();
        return URI.create("http://127.0.0.1:" + address.getPort() + path);
    }

    private AdminServer server() {
        assertThat(server).as("server started").isNotNull();
        return server;
    }

    private HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(uri(path)).GET());
    }

    private HttpResponse<String> post(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.noBody()));
    }

    private HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
        return client.send(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String header(HttpResponse<?> response, String name) {
        return response.headers().firstValue(name).orElse("<absent>");
    }

    @Test
    void liveAnswersWhileTheEventLoopRuns() throws Exception {
        start();
        HttpResponse<String> live = get("/live");
        assertThat(live.statusCode()).isEqualTo(200);
        assertThat(live.body()).isEqualTo("live\n");
        assertThat(header(live, "content-type")).isEqualTo("text/plain; charset=utf-8");
        assertThat(header(live, "cache-control")).isEqualTo("no-store");
    }

    @Test
    void readyFollowsLoadingBackendHealthAndDraining() throws Exception {
        status.configLoaded = false;
        start();
        HttpResponse<String> loading = get("/ready");
        assertThat(loading.statusCode()).isEqualTo(503);
        assertThat(loading.body()).isEqualTo("not ready: configuration not loaded\n");

        status.configLoaded = true;
        HttpResponse<String> ready = get("/ready");
        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(ready.body()).isEqualTo("ready\n");

        status.setBackends(
                "app",
                backend("10.0.0.1:80", BackendState.EJECTED, 0, 5, "connect timed out", 0, 0),
                backend("10.0.0.2:80", BackendState.PROBING, 0, 0, null, 0, 0));
        HttpResponse<String> noHealthy = get("/ready");
        assertThat(noHealthy.statusCode()).isEqualTo(503);
        assertThat(noHealthy.body()).isEqualTo("not ready: cluster app has no healthy backend\n");

        status.setBackends("app", backend("10.0.0.1:80", BackendState.HEALTHY, 0, 5, null, 0, 0));
        assertThat(get("/ready").statusCode()).isEqualTo(200);

        status.draining = true;
        HttpResponse<String> draining = get("/ready");
        assertThat(draining.statusCode()).isEqualTo(503);
        assertThat(draining.body()).isEqualTo("not ready: draining\n");
        // Liveness is not readiness: a draining proxy is still alive.
        assertThat(get("/live").statusCode()).isEqualTo(200);
    }

    @Test
    @SuppressWarnings("unchecked")
    void healthIsJsonWithEveryClusterBackendAndTheLastReload() throws Exception {
        status.lastReload = ReloadResult.rejected(T0, List.of("belfry.toml:3:1: unknown key \"colour\""));
        status.recentErrors = List.of(new RecentError(T0, "cluster app backend 10.0.0.2:80", "connection refused"));
        start();
        HttpResponse<String> health = get("/health");
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(header(health, "content-type")).isEqualTo("application/json; charset=utf-8");

        var root = (Map<String, Object>) JsonReader.parse(health.body());
        assertThat(root).containsEntry("ready", true).containsEntry("draining", false);
        assertThat(root).containsEntry("config_loaded", true);
        var reload = (Map<String, Object>) root.get("last_reload");
        assertThat(reload)
                .containsEntry("ok", false)
                .containsEntry("at", "2026-11-21T10:15:30Z")
                .containsEntry("problems", List.of("belfry.toml:3:1: unknown key \"colour\""));
        var listener = (Map<String, Object>) ((List<Object>) root.get("listeners")).get(0);
        assertThat(listener)
                .containsEntry("name", "web")
                .containsEntry("active_connections", 3L)
                .containsEntry("total_connections", 7L)
                .containsEntry("rejected_connections", 1L);
        var cluster = (Map<String, Object>) ((List<Object>) root.get("clusters")).get(0);
        assertThat(cluster).containsEntry("name", "app").containsEntry("healthy_backends", 2L);
        var backends = (List<Map<String, Object>>) cluster.get("backends");
        assertThat(backends).hasSize(2);
        assertThat(backends.get(1))
                .containsEntry("address", "10.0.0.2:80")
                .containsEntry("state", "healthy")
                .containsEntry("active_connections", 1L)
                .containsEntry("connect_failures", 4L)
                .containsEntry("last_error", "connection refused")
                .containsEntry("bytes_client_to_backend", 50L)
                .containsEntry("bytes_backend_to_client", 900L);
        assertThat(backends.get(0)).containsEntry("last_error", JsonReader.NULL);
        var error = (Map<String, Object>) ((List<Object>) root.get("recent_errors")).get(0);
        assertThat(error).containsEntry("message", "connection refused").containsEntry("at", "2026-11-21T10:15:30Z");
    }

    @Test
    @SuppressWarnings("unchecked")
    void healthShowsStatesAndEscapesStringsFromConfiguration() throws Exception {
        status.draining = true;
        status.setBackends(
                "app",
                backend("a\"b\\c", BackendState.EJECTED, 0, 0, "line\nbreak\ttab\u0001", 0, 0),
                backend("x", BackendState.UNHEALTHY, 0, 0, null, 0, 0),
                backend("y", BackendState.PROBING, 0, 0, null, 0, 0));
        start();
        String body = get("/health").body();
        var root = (Map<String, Object>) JsonReader.parse(body);
        assertThat(root).containsEntry("ready", false);
        assertThat((List<Object>) root.get("not_ready_reasons"))
                .containsExactly("draining", "cluster app has no healthy backend");
        var cluster = (Map<String, Object>) ((List<Object>) root.get("clusters")).get(0);
        var backends = (List<Map<String, Object>>) cluster.get("backends");
        assertThat(backends.get(0))
                .containsEntry("address", "a\"b\\c")
                .containsEntry("state", "ejected")
                .containsEntry("healthy", false)
                .containsEntry("last_error", "line\nbreak\ttab\u0001");
        assertThat(backends.get(1)).containsEntry("state", "unhealthy");
        assertThat(backends.get(2)).containsEntry("state", "probing");
    }

    @Test
    void metricsAreValidPrometheusTextThatFollowsTheStats() throws Exception {
        start();
        metrics.connectLatency("app", "10.0.0.1:80").accept(0.003);
        HttpResponse<String> response = get("/metrics");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(header(response, "content-type")).isEqualTo("text/plain; version=0.0.4; charset=utf-8");
        Map<String, Double> samples = PrometheusText.parse(response.body());

        assertThat(samples)
                .containsEntry(PrometheusText.key("belfry_listener_connections_active", "listener", "web"), 3.0)
                .containsEntry(PrometheusText.key("belfry_listener_connections_total", "listener", "web"), 7.0)
                .containsEntry(PrometheusText.key("belfry_listener_connections_rejected_total", "listener", "web"), 1.0)
                .containsEntry(
                        PrometheusText.key(
                                "belfry_backend_connections_active", "cluster", "app", "backend", "10.0.0.1:80"),
                        2.0)
                .containsEntry(
                        PrometheusText.key(
                                "belfry_backend_connect_failures_total", "cluster", "app", "backend", "10.0.0.2:80"),
                        4.0)
                .containsEntry(
                        PrometheusText.key("belfry_backend_healthy", "cluster", "app", "backend", "10.0.0.2:80"), 1.0)
                .containsEntry(bytesKey("10.0.0.1:80", "client_to_backend"), 100.0)
                .containsEntry(bytesKey("10.0.0.1:80", "backend_to_client"), 2000.0)
                .containsEntry(PrometheusText.key("belfry_ready"), 1.0)
                .containsEntry(PrometheusText.key("belfry_draining"), 0.0)
                .containsEntry(connectKey("_bucket", "le", "0.0025"), 0.0)
                .containsEntry(connectKey("_bucket", "le", "0.005"), 1.0)
                .containsEntry(connectKey("_bucket", "le", "+Inf"), 1.0)
                .containsEntry(connectKey("_count"), 1.0)
                .containsEntry(connectKey("_sum"), 0.003);
        // No reload yet: the gauge is absent rather than claiming a result.
        assertThat(samples).doesNotContainKey(PrometheusText.key("belfry_config_last_reload_successful"));
        assertThat(samples.keySet()).anyMatch(key -> key.startsWith("jvm_memory_used_bytes{"));
        assertThat(samples.keySet()).anyMatch(key -> key.startsWith("jvm_threads_current"));

        status.listeners = List.of(new ListenerStatus("web", "0.0.0.0:8080", "app", 0, 9, 1));
        status.setBackends(
                "app",
                backend("10.0.0.1:80", BackendState.EJECTED, 0, 3, "connection refused", 150, 2500),
                backend("10.0.0.2:80", BackendState.HEALTHY, 1, 4, null, 50, 900));
        status.lastReload = ReloadResult.applied(T0);
        metrics.connectLatency("app", "10.0.0.1:80").accept(7);
        Map<String, Double> later = PrometheusText.parse(get("/metrics").body());
        assertThat(later)
                .containsEntry(PrometheusText.key("belfry_listener_connections_active", "listener", "web"), 0.0)
                .containsEntry(PrometheusText.key("belfry_listener_connections_total", "listener", "web"), 9.0)
                .containsEntry(
                        PrometheusText.key("belfry_backend_healthy", "cluster", "app", "backend", "10.0.0.1:80"), 0.0)
                .containsEntry(
                        PrometheusText.key(
                                "belfry_backend_connect_failures_total", "cluster", "app", "backend", "10.0.0.1:80"),
                        3.0)
                .containsEntry(bytesKey("10.0.0.1:80", "backend_to_client"), 2500.0)
                .containsEntry(PrometheusText.key("belfry_config_last_reload_successful"), 1.0)
                .containsEntry(connectKey("_bucket", "le", "5.0"), 1.0)
                .containsEntry(connectKey("_bucket", "le", "10.0"), 2.0)
                .containsEntry(connectKey("_count"), 2.0);
    }

    private static String bytesKey(String backend, String direction) {
        return PrometheusText.key(
                "belfry_bytes_total", "listener", "web", "cluster", "app", "backend", backend, "direction", direction);
    }

    private static String connectKey(String suffix, String... more) {
        String[] labels = new String[4 + more.length];
        labels[0] = "cluster";
        labels[1] = "app";
        labels[2] = "backend";
        labels[3] = "10.0.0.1:80";
        System.arraycopy(more, 0, labels, 4, more.length);
        return PrometheusText.key("belfry_backend_connect_seconds" + suffix, labels);
    }

    @Test
    void dashboardShowsTheStateAndEscapesNamesFromConfiguration() throws Exception {
        status.setBackends(
                "app",
                backend("<script>alert(1)</script>", BackendState.EJECTED, 0, 2, "refused & <b>reset</b>", 0, 0),
                backend("10.0.0.2:80", BackendState.HEALTHY, 4, 0, null, 0, 0));
        status.recentErrors = List.of(new RecentError(T0, "cluster app backend 10.0.0.9:80", "connect timed out"));
        start();
        HttpResponse<String> page = get("/");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(header(page, "content-type")).isEqualTo("text/html; charset=utf-8");
        assertThat(header(page, "content-security-policy")).contains("default-src 'none'");
        String html = page.body();
        assertThat(html)
                .doesNotContain("<script")
                .doesNotContain("<b>")
                .contains("&lt;script&gt;alert(1)&lt;/script&gt;")
                .contains("refused &amp; &lt;b&gt;reset&lt;/b&gt;")
                .contains("<meta http-equiv=\"refresh\" content=\"5\">")
                .contains(">ejected<", ">healthy<")
                .contains("1 of 2 healthy")
                .contains("2026-11-21T10:15:30Z", "connect timed out")
                .doesNotContain("http://", "https://", "src=");
    }

    @Test
    void aFailingStatusAnswers500AndTheServerGoesOn() throws Exception {
        status.clustersFailure = new IllegalStateException("engine not wired");
        start();
        for (String path : List.of("/", "/ready", "/health", "/metrics")) {
            HttpResponse<String> response = get(path);
            assertThat(response.statusCode()).as(path).isEqualTo(500);
            assertThat(response.body()).as(path).contains("engine not wired");
        }
        assertThat(get("/live").statusCode()).isEqualTo(200);
        status.clustersFailure = null;
        assertThat(get("/health").statusCode()).isEqualTo(200);
    }

    @Test
    void reloadAnswersReloadedWhenTheNewConfigurationIsApplied() throws Exception {
        start();
        HttpResponse<String> reload = post("/reload");
        assertThat(reload.statusCode()).isEqualTo(200);
        assertThat(reload.body()).isEqualTo("reloaded\n");
        assertThat(status.reloads).hasValue(1);
    }

    @Test
    void reloadRejectionListsEveryProblemAndIsShownOnHealth() throws Exception {
        status.reloadHook = () -> ReloadResult.rejected(
                T0, List.of("belfry.toml:4:1: unknown key 'colour'", "belfry.toml:9:11: unknown cluster 'ap'"));
        start();
        HttpResponse<String> reload = post("/reload");
        assertThat(reload.statusCode()).isEqualTo(400);
        assertThat(reload.body()).isEqualTo("""
                        reload rejected; the previous configuration keeps running:
                        belfry.toml:4:1: unknown key 'colour'
                        belfry.toml:9:11: unknown cluster 'ap'
                        """);
        assertThat(get("/health").body()).contains("\"ok\":false", "unknown cluster 'ap'");
        assertThat(get("/").body()).contains("rejected", "belfry.toml:9:11: unknown cluster &#39;ap&#39;");
    }

    @Test
    void reloadThatThrowsAnswers500() throws Exception {
        status.reloadHook = () -> {
            throw new IOException("config file vanished");
        };
        start();
        HttpResponse<String> reload = post("/reload");
        assertThat(reload.statusCode()).isEqualTo(500);
        assertThat(reload.body()).contains("reload failed", "config file vanished");
        // The server goes on answering, and a later reload runs.
        status.reloadHook = () -> ReloadResult.applied(T0);
        assertThat(post("/reload").statusCode()).isEqualTo(200);
    }

    @Test
    void reloadIsPostOnly() throws Exception {
        start();
        HttpResponse<String> get = get("/reload");
        assertThat(get.statusCode()).isEqualTo(405);
        assertThat(header(get, "allow")).isEqualTo("POST");
        assertThat(status.reloads).hasValue(0);
    }

    @Test
    void aSecondReloadWhileOneRunsIsRefused() throws Exception {
        var entered = new CountDownLatch(1);
        var release = new CountDownLatch(1);
        status.reloadHook = () -> {
            entered.countDown();
            assertThat(release.await(10, TimeUnit.SECONDS)).isTrue();
            return ReloadResult.applied(T0);
        };
        start();
        CompletableFuture<HttpResponse<String>> first = client.sendAsync(
                HttpRequest.newBuilder(uri("/reload"))
                        .timeout(Duration.ofSeconds(10))
                        .POST(HttpRequest.BodyPublishers.noBody())
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();
        HttpResponse<String> second = post("/reload");
        assertThat(second.statusCode()).isEqualTo(409);
        // Other endpoints answer while the reload runs.
        assertThat(get("/live").statusCode()).isEqualTo(200);
        release.countDown();
        assertThat(first.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        assertThat(status.reloads).hasValue(1);
    }

    @Test
    void crossOriginReloadFromABrowserIsRefused() throws Exception {
        start();
        HttpResponse<String> foreign = send(HttpRequest.newBuilder(uri("/reload"))
                .header("Origin", "https://evil.example")
                .POST(HttpRequest.BodyPublishers.noBody()));
        assertThat(foreign.statusCode()).isEqualTo(403);
        assertThat(status.reloads).hasValue(0);

        HttpResponse<String> own = send(HttpRequest.newBuilder(uri("/reload"))
                .header("Origin", "http://127.0.0.1:" + server().address().getPort())
                .POST(HttpRequest.BodyPublishers.noBody()));
        assertThat(own.statusCode()).isEqualTo(200);
        assertThat(status.reloads).hasValue(1);
    }

    @Test
    void unknownPathsAre404AndOtherMethods405() throws Exception {
        start();
        HttpResponse<String> missing = get("/nope");
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(missing.body()).isEqualTo("not found: /nope\n");
        assertThat(get("/live/extra").statusCode()).isEqualTo(404);

        HttpResponse<String> delete =
                send(HttpRequest.newBuilder(uri("/metrics")).DELETE());
        assertThat(delete.statusCode()).isEqualTo(405);
        assertThat(header(delete, "allow")).isEqualTo("GET, HEAD");
        assertThat(post("/health").statusCode()).isEqualTo(405);
        // A query string does not change the resource.
        assertThat(get("/live?verbose=1").statusCode()).isEqualTo(200);
    }

    @Test
    void headAnswersWithGetHeadersAndNoBody() throws Exception {
        start();
        try (var raw = new RawHttp(server().address())) {
            RawHttp.Response head =
                    raw.send("HEAD /live HTTP/1.1\r\nHost: x\r\n\r\n").read(true);
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.headers()).containsEntry("content-length", "5");
            // The connection stays usable: the next response starts right where the HEAD's ended.
            RawHttp.Response live = raw.send(LIVE).read();
            assertThat(live.body()).isEqualTo("live\n");
        }
    }

    @Test
    void keepAliveServesPipelinedRequestsInOrderOnOneConnection() throws Exception {
        start();
        try (var raw = new RawHttp(server().address())) {
            raw.send(RawHttp.request("GET /live HTTP/1.1", "Host: x")
                    + RawHttp.request("GET /nope HTTP/1.1", "Host: x")
                    + RawHttp.request("GET /ready HTTP/1.1", "Host: x"));
            assertThat(raw.read().body()).isEqualTo("live\n");
            assertThat(raw.read().status()).isEqualTo(404);
            assertThat(raw.read().body()).isEqualTo("ready\n");
            RawHttp.Response last = raw.send("GET /live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    .read();
            assertThat(last.headers()).containsEntry("connection", "close");
            assertThat(raw.closedByServer()).isTrue();
        }
    }

    @Test
    void aRequestPipelinedBehindAReloadIsAnsweredAfterIt() throws Exception {
        var release = new CountDownLatch(1);
        status.reloadHook = () -> {
            assertThat(release.await(10, TimeUnit.SECONDS)).isTrue();
            return ReloadResult.applied(T0);
        };
        start();
        try (var raw = new RawHttp(server().address())) {
            raw.send(RawHttp.request("POST /reload HTTP/1.1", "Host: x", "Content-Length: 0")
                    + RawHttp.request("GET /live HTTP/1.1", "Host: x"));
            release.countDown();
            assertThat(raw.read().body()).isEqualTo("reloaded\n");
            assertThat(raw.read().body()).isEqualTo("live\n");
        }
    }

    @Test
    void http10WithoutKeepAliveIsClosedAfterTheResponse() throws Exception {
        start();
        try (var raw = new RawHttp(server().address())) {
            RawHttp.Response live = raw.send("GET /live HTTP/1.0\r\n\r\n").read();
            assertThat(live.body()).isEqualTo("live\n");
            assertThat(raw.closedByServer()).isTrue();
        }
        try (var raw = new RawHttp(server().address())) {
            RawHttp.Response live = raw.send("GET /live HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
                    .read();
            assertThat(live.headers()).containsEntry("connection", "keep-alive");
            assertThat(raw.send("GET /live HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
                            .read()
                            .status())
                    .isEqualTo(200);
        }
    }

    @Test
    void anOversizedBodyIs413AndNeverReachesTheHook() throws Exception {
        start();
        byte[] body = new byte[AdminServer.MAX_CONTENT_LENGTH + 1];
        try (var raw = new RawHttp(server().address())) {
            raw.send("POST /reload HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length + "\r\n\r\n");
            raw.send(body);
            assertThat(raw.read().status()).isEqualTo(413);
        }
        try (var raw = new RawHttp(server().address())) {
            // Chunked, so the size is only known once the body has grown past the limit.
            raw.send("POST /reload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
            raw.send((Integer.toHexString(body.length) + "\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            raw.send(body);
            raw.send("\r\n0\r\n\r\n");
            assertThat(raw.read().status()).isEqualTo(413);
        }
        assertThat(status.reloads).hasValue(0);
    }

    @Test
    void aBodyWithinTheLimitIsAccepted() throws Exception {
        start();
        try (var raw = new RawHttp(server().address())) {
            raw.send("POST /reload HTTP/1.1\r\nHost: x\r\nContent-Length: " + AdminServer.MAX_CONTENT_LENGTH
                    + "\r\n\r\n");
            raw.send(new byte[AdminServer.MAX_CONTENT_LENGTH]);
            assertThat(raw.read().status()).isEqualTo(200);
        }
    }

    @Test
    void oversizedHeadersAre431AndClose() throws Exception {
        start();
        try (var raw = new RawHttp(server().address())) {
            String big = "x".repeat(AdminServer.MAX_HEADER_SIZE + 1);
            RawHttp.Response response = raw.send("GET /live HTTP/1.1\r\nHost: x\r\nX-Big: " + big + "\r\n\r\n")
                    .read();
            assertThat(response.status()).isEqualTo(431);
            assertThat(raw.closedByServer()).isTrue();
        }
    }

    @Test
    void anOversizedRequestLineIs414AndCloses() throws Exception {
        start();
        try (var raw = new RawHttp(server().address())) {
            String path = "/" + "a".repeat(AdminServer.MAX_INITIAL_LINE + 1);
            RawHttp.Response response =
                    raw.send("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n").read();
            assertThat(response.status()).isEqualTo(414);
            assertThat(raw.closedByServer()).isTrue();
        }
    }

    @Test
    void aMalformedRequestIs400AndCloses() throws Exception {
        start();
        try (var raw = new RawHttp(server().address())) {
            RawHttp.Response response = raw.send("GET /live HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n")
                    .read();
            assertThat(response.status()).isEqualTo(400);
            assertThat(response.headers()).containsEntry("connection", "close");
            assertThat(raw.closedByServer()).isTrue();
        }
        try (var raw = new RawHttp(server().address())) {
            RawHttp.Response response = raw.send("GET /live HTTP/1.1\r\nHost: x\r\nContent-Length: nine\r\n\r\n")
                    .read();
            assertThat(response.status()).isEqualTo(400);
            assertThat(raw.closedByServer()).isTrue();
        }
        // The server is unharmed.
        assertThat(get("/live").statusCode()).isEqualTo(200);
    }

    @Test
    void anIdleConnectionIsClosed() throws Exception {
        server = AdminServer.builder(status, metrics.registry())
                .listen(ANY_LOOPBACK_PORT)
                .idleTimeout(Duration.ofMillis(200))
                .start();
        try (var raw = new RawHttp(server.address())) {
            assertThat(raw.send(LIVE).read().status()).isEqualTo(200);
            assertThat(raw.closedByServer()).isTrue();
        }
    }

    @Test
    void aClientTricklingARequestIsClosedWhenTheTimeoutEndsNotKeptOpenByEachByte() throws Exception {
        server = AdminServer.builder(status, metrics.registry())
                .listen(ANY_LOOPBACK_PORT)
                .idleTimeout(Duration.ofMillis(300))
                .start();
        try (var raw = new RawHttp(server.address())) {
            raw.send("GET /metrics HTTP/1.1\r\nHost: x\r\n");
            long start = System.nanoTime();
            boolean closed = false;
            // A header line every 100 ms would reset an idle timer forever; 40 of them span 4 s. Between
            // lines the test waits up to 100 ms for the server to close, rather than sleeping.
            for (int i = 0; i < 40 && !closed; i++) {
                try {
                    raw.send("X-Slow-" + i + ": y\r\n");
                    closed = raw.closedByServerWithin(Duration.ofMillis(100));
                } catch (IOException e) {
                    closed = true; // reset by the server
                }
            }
            closed = closed || raw.closedByServer();
            assertThat(closed).as("closed by the server").isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
        }
        assertThat(get("/live").statusCode()).isEqualTo(200);
    }

    private static final String LIVE = "GET /live HTTP/1.1\r\nHost: x\r\n\r\n";

    /**
     * Opens {@link AdminServer#MAX_CONNECTIONS} connections into {@code open}, each answered once,
     * so each is accepted and counted before the next one opens.
     */
    private void fillToTheLimit(List<RawHttp> open) throws IOException {
        for (int i = 0; i < AdminServer.MAX_CONNECTIONS; i++) {
            RawHttp raw = new RawHttp(server().address());
            open.add(raw);
            assertThat(raw.send(LIVE).read().status()).isEqualTo(200);
        }
    }

    @Test
    void pastTheConnectionLimitTheLongestIdleConnectionMakesRoomForANewOne() throws Exception {
        start();
        List<RawHttp> open = new ArrayList<>();
        try {
            fillToTheLimit(open);
            // The limit is reached and every connection idles: a probe still gets in, and the one
            // that has waited longest (the first) is closed for it.
            try (var probe = new RawHttp(server().address())) {
                assertThat(probe.send(LIVE).read().status()).isEqualTo(200);
            }
            assertThat(open.get(0).closedByServer()).as("the longest idle").isTrue();
            assertThat(open.get(AdminServer.MAX_CONNECTIONS - 1)
                            .send(LIVE)
                            .read()
                            .status())
                    .as("the most recent idle one still works")
                    .isEqualTo(200);
        } finally {
            for (RawHttp raw : open) {
                raw.close();
            }
        }
    }

    @Test
    void pastTheConnectionLimitWithEveryConnectionMidRequestANewOneIsClosed() throws Exception {
        start();
        List<RawHttp> open = new ArrayList<>();
        try {
            fillToTheLimit(open);
            // Every connection now waits for an answer that has not come: none can make room.
            CompletableFuture<List<String>> answer = new CompletableFuture<>();
            status.unresponsiveIoThreads = answer;
            int asked = status.liveAsked.get();
            for (RawHttp raw : open) {
                raw.send(LIVE);
            }
            // Only once the server has read every request is every connection busy; a connection
            // opened before that would rightly close one still waiting for its request.
            Awaitility.await()
                    .atMost(5, TimeUnit.SECONDS)
                    .pollInterval(Duration.ofMillis(10))
                    .until(() -> status.liveAsked.get() - asked == AdminServer.MAX_CONNECTIONS);
            try (var extra = new RawHttp(server().address())) {
                assertThat(extra.closedByServer())
                        .as("a connection past the limit")
                        .isTrue();
            }
            answer.complete(List.of());
            for (RawHttp raw : open) {
                assertThat(raw.read().status()).isEqualTo(200);
            }
        } finally {
            for (RawHttp raw : open) {
                raw.close();
            }
        }
    }

    @Test
    void liveIsUnavailableNamingTheIoThreadsThatDidNotAnswer() throws Exception {
        status.unresponsiveIoThreads = CompletableFuture.completedFuture(List.of("I/O thread 2 of 2"));
        start();
        HttpResponse<String> live = get("/live");
        assertThat(live.statusCode()).isEqualTo(503);
        assertThat(live.body()).isEqualTo("not live: I/O thread 2 of 2 did not answer within 2000 ms\n");
        status.unresponsiveIoThreads = CompletableFuture.completedFuture(List.of());
        assertThat(get("/live").statusCode()).isEqualTo(200);
    }

    @Test
    void listensOnLoopbackByDefault() {
        AdminServer.Builder builder = AdminServer.builder(status, metrics.registry());
        assertThat(builder.listenAddress()).isEqualTo(AdminServer.DEFAULT_LISTEN);
        assertThat(AdminServer.DEFAULT_LISTEN.getAddress().isLoopbackAddress()).isTrue();
        assertThat(AdminServer.DEFAULT_LISTEN.getPort()).isEqualTo(9901);
        assertThat(start().address().getAddress().isLoopbackAddress()).isTrue();
    }

    @Test
    void closeReleasesThePortAndIsIdempotent() throws Exception {
        AdminServer started = start();
        int port = started.address().getPort();
        // An open keep-alive connection must not hold the port either.
        client.send(HttpRequest.newBuilder(uri("/live")).build(), HttpResponse.BodyHandlers.discarding());
        started.close();
        started.close();
        assertThatThrownBy(() -> {
                    try (var socket = new Socket()) {
                        socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 2_000);
                    }
                })
                .isInstanceOf(ConnectException.class);
        try (var again = new ServerSocket()) {
            again.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            assertThat(again.getLocalPort()).isEqualTo(port);
        }
    }

    @Test
    void aPortInUseFailsStartNamingTheAddress() throws Exception {
        try (var taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            var address = new InetSocketAddress(InetAddress.getLoopbackAddress(), taken.getLocalPort());
            assertThatThrownBy(() -> AdminServer.builder(status, metrics.registry())
                            .listen(address)
                            .start())
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageStartingWith(
                            "the admin server cannot listen on 127.0.0.1:" + taken.getLocalPort() + ": ");
        }
    }

    @Test
    void runsOnASharedEventLoopGroupWithoutShuttingItDown() throws Exception {
        sharedGroup = Transport.NIO.newEventLoopGroup(1, "shared");
        server = AdminServer.builder(status, metrics.registry())
                .listen(ANY_LOOPBACK_PORT)
                .eventLoopGroup(sharedGroup, Transport.NIO)
                .start();
        assertThat(get("/live").body()).isEqualTo("live\n");
        server.close();
        assertThat(sharedGroup.isShuttingDown()).isFalse();
    }

    @Test
    void builderRejectsBadAndRepeatedSettings() {
        AdminServer.Builder builder = AdminServer.builder(status, metrics.registry());
        builder.listen(ANY_LOOPBACK_PORT);
        assertThatThrownBy(() -> builder.listen(ANY_LOOPBACK_PORT))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("listen was already set");
        assertThatThrownBy(() -> builder.idleTimeout(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("idleTimeout must be positive, was PT0S");
        assertThatThrownBy(() -> AdminServer.builder(status, null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("registry must not be null");
    }
}
