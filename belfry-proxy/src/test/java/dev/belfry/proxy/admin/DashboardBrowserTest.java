package dev.belfry.proxy.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dashboard in a real headless browser (Debian's {@code chromium}): it renders, lists the
 * listeners and backends, and its reload button posts a reload. Skipped when chromium is absent.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DashboardBrowserTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private final FakeStatus status = FakeStatus.healthy();
    private @Nullable AdminServer server;
    private final List<Process> browsers = new ArrayList<>();

    @BeforeEach
    void needsChromium() {
        Assumptions.assumeTrue(
                chromium() != null,
                "chromium is not installed (apt-get install chromium): the dashboard's browser test is skipped");
        server = AdminServer.builder(status, ProxyMetrics.create(status).registry())
                .listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .start();
    }

    @AfterEach
    void stopEverything() throws InterruptedException {
        for (Process browser : browsers) {
            // The browser's helpers (zygote, renderer, GPU) are its descendants: end each by its pid.
            List<ProcessHandle> helpers = browser.descendants().toList();
            browser.destroy();
            if (!browser.waitFor(10, TimeUnit.SECONDS)) {
                browser.destroyForcibly();
                browser.waitFor(10, TimeUnit.SECONDS);
            }
            for (ProcessHandle helper : helpers) {
                helper.destroyForcibly();
            }
        }
        if (server != null) {
            server.close();
        }
    }

    private static @Nullable Path chromium() {
        for (String folder : System.getenv().getOrDefault("PATH", "/usr/bin").split(":", -1)) {
            Path candidate = Path.of(folder, "chromium");
            if (!folder.isEmpty() && Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    private String dashboardUrl() {
        assertThat(server).isNotNull();
        return "http://127.0.0.1:" + server.address().getPort() + "/";
    }

    private Process browser(String... arguments) throws IOException {
        List<String> command = new ArrayList<>(List.of(
                String.valueOf(chromium()),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--user-data-dir=" + dir.resolve("profile-" + browsers.size())));
        command.addAll(List.of(arguments));
        Process browser = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(
                        dir.resolve("chromium-" + browsers.size() + ".log").toFile())
                .start();
        browsers.add(browser);
        return browser;
    }

    @Test
    void rendersTheListenersAndBackends() throws Exception {
        Path dom = dir.resolve("dom.html");
        Process browser = new ProcessBuilder(List.of(
                        String.valueOf(chromium()),
                        "--headless",
                        "--no-sandbox",
                        "--disable-gpu",
                        "--no-first-run",
                        "--user-data-dir=" + dir.resolve("profile-dump"),
                        "--dump-dom",
                        dashboardUrl()))
                .redirectOutput(dom.toFile())
                .redirectError(dir.resolve("dump.log").toFile())
                .start();
        browsers.add(browser);
        assertThat(browser.waitFor(60, TimeUnit.SECONDS))
                .as("chromium finished")
                .isTrue();
        String html = Files.readString(dom, StandardCharsets.UTF_8);
        assertThat(html)
                .as("the DOM chromium built")
                .contains("<title>Belfry</title>")
                .contains("<td>web</td><td>0.0.0.0:8080</td><td>app</td>")
                .contains("<td>10.0.0.1:80</td>", "<td>10.0.0.2:80</td>")
                .contains("2 of 2 healthy")
                .contains("connection refused")
                .contains("<button type=\"submit\" id=\"reload\">Reload configuration</button>");
    }

    @Test
    void theReloadButtonReloads() throws Exception {
        Path profile = dir.resolve("profile-" + browsers.size());
        browser("--remote-debugging-port=0", "about:blank");
        Path portFile = profile.resolve("DevToolsActivePort");
        Awaitility.await()
                .atMost(60, TimeUnit.SECONDS)
                .pollInterval(Duration.ofMillis(100))
                .until(() ->
                        Files.exists(portFile) && Files.readAllLines(portFile).size() >= 2);
        int port = Integer.parseInt(Files.readAllLines(portFile).get(0).trim());
        try (HttpClient http = HttpClient.newHttpClient()) {
            String pages = http.send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/json/list"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString())
                    .body();
            String pageSocket = null;
            for (JsonNode target : JSON.readTree(pages)) {
                if ("page".equals(target.path("type").asText())) {
                    pageSocket = target.path("webSocketDebuggerUrl").asText();
                }
            }
            assertThat(pageSocket).as("a page target in " + pages).isNotNull();
            try (var page = DevTools.connect(http, URI.create(pageSocket))) {
                page.call("Page.navigate", Map.of("url", dashboardUrl()));
                Awaitility.await()
                        .atMost(30, TimeUnit.SECONDS)
                        .pollInterval(Duration.ofMillis(100))
                        .until(() -> page.evaluate("document.getElementById('reload') !== null && "
                                        + "document.body.innerText.includes('10.0.0.2:80') ? 'shown' : 'not yet'")
                                .equals("shown"));
                assertThat(status.reloads).hasValue(0);

                page.evaluate("document.getElementById('reload').click(), 'clicked'");

                Awaitility.await()
                        .atMost(30, TimeUnit.SECONDS)
                        .pollInterval(Duration.ofMillis(100))
                        .until(() -> status.reloads.get() == 1);
                // The browser shows the server's answer: the reload was applied.
                Awaitility.await()
                        .atMost(30, TimeUnit.SECONDS)
                        .pollInterval(Duration.ofMillis(100))
                        .ignoreExceptions()
                        .until(() ->
                                page.evaluate("document.body.innerText.trim()").equals("reloaded"));
                page.call("Page.navigate", Map.of("url", dashboardUrl()));
                Awaitility.await()
                        .atMost(30, TimeUnit.SECONDS)
                        .pollInterval(Duration.ofMillis(100))
                        .ignoreExceptions()
                        .until(() -> page.evaluate("document.body.innerText").contains("applied"));
            }
        }
        assertThat(status.reloads).as("one click, one reload").hasValue(1);
    }

    /** A Chrome DevTools Protocol session over a WebSocket: commands by id, answers by id. */
    private static final class DevTools implements WebSocket.Listener, AutoCloseable {
        private final Map<Integer, CompletableFuture<JsonNode>> answers = new ConcurrentHashMap<>();
        private final AtomicInteger ids = new AtomicInteger();
        private final StringBuilder partial = new StringBuilder();
        private @Nullable WebSocket socket;

        static DevTools connect(HttpClient http, URI uri) {
            var session = new DevTools();
            session.socket = http.newWebSocketBuilder().buildAsync(uri, session).join();
            return session;
        }

        JsonNode call(String method, Map<String, Object> params) throws Exception {
            int id = ids.incrementAndGet();
            var answer = new CompletableFuture<JsonNode>();
            answers.put(id, answer);
            String message = JSON.writeValueAsString(Map.of("id", id, "method", method, "params", params));
            assertThat(socket).isNotNull();
            socket.sendText(message, true).join();
            JsonNode reply = answer.get(30, TimeUnit.SECONDS);
            if (reply.has("error")) {
                throw new IllegalStateException(method + " failed: " + reply.get("error"));
            }
            return reply.path("result");
        }

        /** The value of a JavaScript expression in the page, as text. */
        String evaluate(String expression) throws Exception {
            JsonNode result = call("Runtime.evaluate", Map.of("expression", expression, "returnByValue", true));
            return result.path("result").path("value").asText();
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                try {
                    JsonNode message = JSON.readTree(partial.toString());
                    CompletableFuture<JsonNode> answer =
                            message.has("id") ? answers.remove(message.get("id").asInt()) : null;
                    if (answer != null) {
                        answer.complete(message);
                    }
                } catch (IOException e) {
                    answers.values().forEach(answer -> answer.completeExceptionally(e));
                }
                partial.setLength(0);
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public void close() {
            if (socket != null) {
                socket.abort();
            }
        }
    }
}
