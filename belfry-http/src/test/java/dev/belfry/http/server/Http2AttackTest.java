package dev.belfry.http.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.belfry.Service;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.http.Json;
import dev.belfry.test.NoNettyLeaks;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * HTTP/2 attacks in raw frames (Python's {@code h2} stack: hyperframe and hpack, from Debian's
 * {@code python3-h2}) against a real server on loopback: each checks the server's answer, that the
 * connection is gone from the server when it should be, and that the server then serves a normal
 * request. Netty's paranoid leak detection checks that no buffer leaked on any of these paths.
 */
@ExtendWith(NoNettyLeaks.class)
@Timeout(120)
class Http2AttackTest {
    private static final int NO_ERROR = 0x0;
    private static final int PROTOCOL_ERROR = 0x1;
    private static final int REFUSED_STREAM = 0x7;
    private static final int ENHANCE_YOUR_CALM = 0xb;

    private static @Nullable String python;

    private final List<HttpServer> servers = new ArrayList<>();
    private final Service<HttpRequest, HttpResponse> service = request -> switch (request.path()) {
        case "/echo" -> request.body().collectUtf8(1024).thenApply(text -> HttpResponse.text("echo " + text));
        default -> CompletableFuture.completedFuture(HttpResponse.text("hello " + request.path()));
    };

    /** The first Python that has Debian's h2 stack (pyenv's python3 on PATH may not). */
    @BeforeAll
    static void findPython() throws Exception {
        for (String candidate : List.of("/usr/bin/python3", "python3")) {
            try {
                Process process = new ProcessBuilder(candidate, "-c", "import h2, hpack, hyperframe")
                        .redirectErrorStream(true)
                        .start();
                if (process.waitFor(20, TimeUnit.SECONDS) && process.exitValue() == 0) {
                    python = candidate;
                    return;
                }
                process.destroyForcibly();
            } catch (IOException notThere) {
                // try the next one
            }
        }
    }

    @AfterEach
    void stop() {
        servers.forEach(HttpServer::close);
    }

    private HttpServer start(ServerLimits limits) {
        Assumptions.assumeTrue(
                python != null,
                "python3-h2 is not installed (apt-get install -y python3-h2): the HTTP/2 attack tests need it");
        HttpServer server = HttpServer.builder(service)
                .limits(limits)
                .ioThreads(1)
                .shutdownGrace(Duration.ofSeconds(2))
                .start();
        servers.add(server);
        return server;
    }

    private HttpServer start() {
        return start(ServerLimits.defaults());
    }

    /** Runs one attack; returns what the script saw. */
    private static JsonNode attack(HttpServer server, String attack, int... args) throws Exception {
        Path script = Path.of(Http2AttackTest.class.getResource("h2_attack.py").toURI());
        List<String> command =
                new ArrayList<>(List.of(python, script.toString(), Integer.toString(server.port()), attack));
        for (int arg : args) {
            command.add(Integer.toString(arg));
        }
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> {
                try {
                    return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            assertThat(process.waitFor(60, TimeUnit.SECONDS))
                    .as("the attack script finished")
                    .isTrue();
            String out = output.get(10, TimeUnit.SECONDS).strip();
            assertThat(process.exitValue()).as("exit status; output: " + out).isZero();
            String last = out.substring(out.lastIndexOf('\n') + 1);
            System.out.println("h2 " + attack + ": " + last);
            return Json.mapper().readTree(last);
        } finally {
            process.destroyForcibly();
        }
    }

    /** The server dropped the attacker's connection and serves h2c and HTTP/1.1 as before. */
    private static void stillServes(HttpServer server, int connectionsLeft) throws Exception {
        await().atMost(Duration.ofSeconds(10)).until(() -> server.connectionCount() == connectionsLeft);
        JsonNode normal = attack(server, "get");
        assertThat(normal.path("responses").path("1").asInt()).isEqualTo(200);
        assertThat(normal.path("bodies").path("1").asText()).isEqualTo("hello /hello");
        try (HttpClient client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5))
                .build()) {
            var response = client.send(
                    java.net.http.HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/after"))
                            .build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(response.body()).isEqualTo("hello /after");
        }
    }

    @Test
    void rapidResetGetsGoAwayEnhanceYourCalm() throws Exception {
        HttpServer server = start();

        JsonNode result = attack(server, "rapid_reset", 1000);

        assertThat(result.path("goaway").path("error").asInt())
                .as(result.toString())
                .isEqualTo(ENHANCE_YOUR_CALM);
        assertThat(result.path("closed").asBoolean()).as(result.toString()).isTrue();
        stillServes(server, 0);
    }

    @Test
    void aPingFloodThatNeverReadsTheAcksIsClosed() throws Exception {
        HttpServer server = start();

        JsonNode result = attack(server, "ping_flood", 2_000_000);

        // The GOAWAY cannot reach a client that does not read; the close cuts the flood short.
        assertThat(result.path("closed").asBoolean()).as(result.toString()).isTrue();
        assertThat(result.path("sent").asInt()).as(result.toString()).isLessThan(2_000_000);
        stillServes(server, 0);
    }

    @Test
    void aSettingsFloodThatNeverReadsTheAcksIsClosed() throws Exception {
        HttpServer server = start();

        JsonNode result = attack(server, "settings_flood", 2_000_000);

        // The GOAWAY cannot reach a client that does not read; the close cuts the flood short.
        assertThat(result.path("closed").asBoolean()).as(result.toString()).isTrue();
        assertThat(result.path("sent").asInt()).as(result.toString()).isLessThan(2_000_000);
        stillServes(server, 0);
    }

    @Test
    void emptyDataFramesGetGoAwayEnhanceYourCalm() throws Exception {
        HttpServer server = start();

        JsonNode result = attack(server, "empty_data", 1000);

        assertThat(result.path("goaway").path("error").asInt())
                .as(result.toString())
                .isEqualTo(ENHANCE_YOUR_CALM);
        assertThat(result.path("closed").asBoolean()).as(result.toString()).isTrue();
        stillServes(server, 0);
    }

    @Test
    void aContinuationFloodWithoutEndHeadersGetsGoAwayOnceTheBlockPassesTheLimit() throws Exception {
        HttpServer server = start();

        JsonNode result = attack(server, "continuation_flood", 10_000, 16_000);

        // The client is still writing when the server closes, so the server's kernel may answer
        // the unread frames with a reset that discards the GOAWAY before the client reads it.
        // When the GOAWAY arrives, it must be this one.
        if (!result.path("goaway").isNull()) {
            assertThat(result.path("goaway").path("error").asInt())
                    .as(result.toString())
                    .isEqualTo(PROTOCOL_ERROR);
            assertThat(result.path("goaway").path("debug").asText())
                    .isEqualTo("Header size exceeded max allowed size (20480)");
        }
        assertThat(result.path("closed").asBoolean()).as(result.toString()).isTrue();
        assertThat(result.path("sent").asInt())
                .as("the server cut the flood short (socket buffers take some frames after the GOAWAY)")
                .isLessThan(10_000);
        stillServes(server, 0);
    }

    @Test
    void aFloodOfTinyContinuationFramesGetsGoAwayEnhanceYourCalm() throws Exception {
        HttpServer server = start();

        JsonNode result = attack(server, "continuation_flood", 10_000, 0);

        // As above: the client may have written all its frames before the server closes, and the
        // server's kernel then answers the unread ones with a reset that can discard the GOAWAY
        // (seen on epoll, which closes sooner after the GOAWAY than io_uring). When it arrives, it
        // must be this one.
        if (!result.path("goaway").isNull()) {
            assertThat(result.path("goaway").path("error").asInt())
                    .as(result.toString())
                    .isEqualTo(ENHANCE_YOUR_CALM);
            assertThat(result.path("goaway").path("debug").asText())
                    .startsWith("Number of small consecutive continuations");
        }
        assertThat(result.path("closed").asBoolean()).as(result.toString()).isTrue();
        stillServes(server, 0);
    }

    @Test
    void aHeaderBlockNeverFinishedGetsGoAwayAtTheStreamHeaderTimeout() throws Exception {
        HttpServer server = start(ServerLimits.defaults().withStreamHeaderTimeout(Duration.ofMillis(300)));

        JsonNode result = attack(server, "slow_headers", 10);

        assertThat(result.path("goaway").path("error").asInt())
                .as(result.toString())
                .isEqualTo(ENHANCE_YOUR_CALM);
        assertThat(result.path("goaway").path("debug").asText()).isEqualTo("header block not completed within 300 ms");
        assertThat(result.path("goaway_after_ms").asInt())
                .as("bounded by the timeout, not the script's 10 s wait")
                .isBetween(300, 5000);
        assertThat(result.path("closed").asBoolean()).isTrue();
        stillServes(server, 0);
    }

    @Test
    void anIdleConnectionGetsGoAwayNoErrorAtTheIdleTimeout() throws Exception {
        HttpServer server = start(ServerLimits.defaults().withHttp2IdleTimeout(Duration.ofMillis(400)));

        JsonNode result = attack(server, "idle", 10);

        assertThat(result.path("responses").path("1").asInt()).isEqualTo(200);
        assertThat(result.path("goaway").path("error").asInt())
                .as(result.toString())
                .isEqualTo(NO_ERROR);
        assertThat(result.path("goaway").path("last_stream").asInt()).isEqualTo(1);
        assertThat(result.path("closed").asBoolean()).isTrue();
        assertThat(result.path("idle_ms").asInt())
                .as("closed after the idle timeout, well before the script's 10 s wait")
                .isBetween(350, 5000);
        stillServes(server, 0);
    }

    @Test
    void streamsAboveMaxConcurrentStreamsAreRefusedAndTheOthersAnswered() throws Exception {
        HttpServer server = start(ServerLimits.defaults().withMaxConcurrentStreams(5));

        JsonNode result = attack(server, "too_many_streams", 10, 5);

        assertThat(result.path("goaway").isNull()).as(result.toString()).isTrue();
        for (int stream : List.of(1, 3, 5, 7, 9)) {
            assertThat(result.path("responses").path(Integer.toString(stream)).asInt())
                    .as("stream " + stream + " in " + result)
                    .isEqualTo(200);
            assertThat(result.path("bodies").path(Integer.toString(stream)).asText())
                    .isEqualTo("echo x");
        }
        for (int stream : List.of(11, 13, 15, 17, 19)) {
            assertThat(result.path("resets").path(Integer.toString(stream)).asInt())
                    .as("stream " + stream + " in " + result)
                    .isEqualTo(REFUSED_STREAM);
        }
        stillServes(server, 0);
    }

    @Test
    void aHeaderListAboveTheMaxIsAnswered431AndTheConnectionGoesOn() throws Exception {
        HttpServer server = start();

        JsonNode result = attack(server, "big_header", 18_000);

        assertThat(result.path("responses").path("1").asInt())
                .as(result.toString())
                .isEqualTo(431);
        assertThat(result.path("goaway").isNull()).as(result.toString()).isTrue();
        assertThat(result.path("responses").path("3").asInt())
                .as("the next stream on the same connection")
                .isEqualTo(200);
        stillServes(server, 0);
    }

    @Test
    void aHeaderListFarAboveTheMaxGetsGoAwayProtocolError() throws Exception {
        HttpServer server = start();

        JsonNode result = attack(server, "big_header", 64_000);

        assertThat(result.path("goaway").path("error").asInt())
                .as(result.toString())
                .isEqualTo(PROTOCOL_ERROR);
        assertThat(result.path("goaway").path("debug").asText())
                .isEqualTo("Header size exceeded max allowed size (20480)");
        assertThat(result.path("closed").asBoolean()).as(result.toString()).isTrue();
        stillServes(server, 0);
    }
}
