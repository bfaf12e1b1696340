package dev.belfry.http.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.belfry.UnprocessedException;
import dev.belfry.http.Body;
import dev.belfry.http.ConnectionClosedException;
import dev.belfry.http.Headers;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.reconnect.ConnectFailedException;
import dev.belfry.test.ManualClock;
import dev.belfry.test.NoNettyLeaks;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** HTTP/1.1 servers that misbehave, on raw loopback sockets, and where each failure surfaces. */
@ExtendWith(NoNettyLeaks.class)
@Timeout(60)
class Http1FailuresTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
    }

    private RawServer server(RawServer.Script script) throws IOException {
        RawServer server = new RawServer(script);
        closeables.add(server);
        return server;
    }

    private HttpClient client(int port) {
        return client(HttpClient.builder("127.0.0.1", port));
    }

    private HttpClient client(HttpClient.Builder builder) {
        HttpClient client = builder.build();
        closeables.add(0, client);
        return client;
    }

    @Test
    void aBodyCutShortByACloseFailsTheBodyNotTheResponse() throws Exception {
        RawServer server = server((socket, n) -> {
            server0(socket);
            RawServer.write(socket, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc");
        });
        HttpClient client = client(server.port());

        HttpResponse response = client.call(HttpRequest.get("/")).get(10, TimeUnit.SECONDS);
        assertThat(response.status()).isEqualTo(200);
        assertThat(response.body().collectBytes(1000))
                .failsWithin(WAIT)
                .withThrowableThat()
                .havingCause()
                .isInstanceOf(ConnectionClosedException.class)
                .isNotInstanceOf(UnprocessedException.class)
                .withMessageContaining("before the response body ended");
    }

    @Test
    void aCloseBeforeTheResponseIsANormalFailureNotUnprocessed() throws Exception {
        RawServer server = server((socket, n) -> server0(socket)); // reads the request, closes
        HttpClient client = client(server.port());

        assertThat(client.call(HttpRequest.post("/", Body.of("x"))))
                .failsWithin(WAIT)
                .withThrowableThat()
                .havingCause()
                .isInstanceOf(ConnectionClosedException.class)
                .withMessageContaining("before the response headers");
    }

    @Test
    void aBodyDelimitedByTheCloseIsReadWholeAndTheConnectionNotReused() throws Exception {
        RawServer server = server((socket, n) -> {
            server0(socket);
            RawServer.write(socket, "HTTP/1.1 200 OK\r\n\r\nhello world " + n);
        });
        HttpClient client = client(server.port());

        for (int i = 1; i <= 2; i++) {
            HttpResponse response = client.call(HttpRequest.get("/")).get(10, TimeUnit.SECONDS);
            assertThat(response.body().contentLength()).isEqualTo(-1);
            assertThat(response.body().collectUtf8(100).get(10, TimeUnit.SECONDS))
                    .isEqualTo("hello world " + i);
        }
        assertThat(client.connectionsOpened()).isEqualTo(2);
    }

    @Test
    void readsChunkedBodiesWithTrailersAndReusesTheConnection() throws Exception {
        RawServer server = server((socket, n) -> {
            for (int i = 0; server0(socket) != null; i++) {
                RawServer.write(
                        socket,
                        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: x-checksum\r\n\r\n"
                                + "5\r\nhello\r\n6\r\n world\r\n0\r\nx-checksum: c" + i + "\r\n\r\n");
            }
        });
        HttpClient client = client(server.port());

        for (int i = 0; i < 3; i++) {
            HttpResponse response = client.call(HttpRequest.get("/")).get(10, TimeUnit.SECONDS);
            assertThat(response.body().collectUtf8(100).get(10, TimeUnit.SECONDS))
                    .isEqualTo("hello world");
            assertThat(response.body().trailers().toCompletableFuture().get(10, TimeUnit.SECONDS))
                    .isEqualTo(Headers.of("x-checksum", "c" + i));
        }
        assertThat(client.connectionsOpened()).isEqualTo(1);
        assertThat(server.accepted.get()).isEqualTo(1);
    }

    @Test
    void honoursConnectionClose() throws Exception {
        var clientClosed = new CountDownLatch(1);
        RawServer server = server((socket, n) -> {
            server0(socket);
            RawServer.write(socket, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok");
            RawServer.awaitClose(socket); // the server keeps its end open: the client must close
            clientClosed.countDown();
        });
        HttpClient client = client(server.port());

        HttpResponse response = client.call(HttpRequest.get("/")).get(10, TimeUnit.SECONDS);
        assertThat(response.body().collectUtf8(10).get(10, TimeUnit.SECONDS)).isEqualTo("ok");
        assertThat(clientClosed.await(10, TimeUnit.SECONDS)).isTrue();
        try (HttpResponse second = client.call(HttpRequest.get("/")).get(10, TimeUnit.SECONDS)) {
            assertThat(second.status()).isEqualTo(200);
        }
        assertThat(client.connectionsOpened()).isEqualTo(2);
    }

    @Test
    void noticesAnIdleKeepAliveConnectionClosedByTheServer() throws Exception {
        RawServer server = server((socket, n) -> {
            server0(socket);
            RawServer.write(socket, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n" + n);
            // then closes the kept-alive connection while the client holds it idle
        });
        HttpClient client = client(server.port());

        var first = client.call(HttpRequest.get("/")).get(10, TimeUnit.SECONDS);
        assertThat(first.body().collectUtf8(10).get(10, TimeUnit.SECONDS)).isEqualTo("1");
        await().atMost(WAIT).until(() -> client.connectionCount() == 0);
        var second = client.call(HttpRequest.get("/")).get(10, TimeUnit.SECONDS);
        assertThat(second.body().collectUtf8(10).get(10, TimeUnit.SECONDS)).isEqualTo("2");
    }

    @Test
    void aRefusedConnectIsUnprocessedAndNamesTheOrigin() throws Exception {
        int port;
        try (ServerSocket probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        HttpClient client = client(port);

        assertThat(client.call(HttpRequest.post("/", Body.of("x"))))
                .failsWithin(WAIT)
                .withThrowableThat()
                .havingCause()
                .isInstanceOf(ConnectFailedException.class)
                .isInstanceOf(UnprocessedException.class)
                .withMessageContaining("http://127.0.0.1:" + port);
        assertThat(client.connectionCount()).isZero();
    }

    @Test
    void responseHeadersTimeoutRunsOnTheClockAfterTheRequestIsWritten() throws Exception {
        var reached = new CountDownLatch(1);
        RawServer server = server((socket, n) -> {
            server0(socket);
            reached.countDown();
            RawServer.awaitClose(socket); // never answers
        });
        var clock = new ManualClock();
        HttpClient client = client(HttpClient.builder("127.0.0.1", server.port())
                .clock(clock)
                .responseHeadersTimeout(Duration.ofSeconds(5)));

        var call = client.call(HttpRequest.get("/"));
        assertThat(reached.await(10, TimeUnit.SECONDS)).isTrue();
        await().atMost(WAIT).until(() -> clock.pendingTasks() == 1); // the headers timer is armed
        clock.advance(Duration.ofSeconds(5).minusNanos(1));
        assertThat(call).isNotDone();
        clock.advance(Duration.ofNanos(1));
        assertThat(call)
                .failsWithin(WAIT)
                .withThrowableThat()
                .havingCause()
                .isInstanceOfSatisfying(PhaseElapsedException.class, e -> {
                    assertThat(e.phase()).isEqualTo(PhaseElapsedException.Phase.RESPONSE_HEADERS);
                    assertThat(e.origin()).isEqualTo("http://127.0.0.1:" + server.port());
                });
        await().atMost(WAIT).until(() -> client.connectionCount() == 0);
    }

    @Test
    void aStalledBodyFailsAfterTheBodyIdleTimeout() throws Exception {
        RawServer server = server((socket, n) -> {
            server0(socket);
            RawServer.write(socket, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
            RawServer.awaitClose(socket); // the rest never comes
        });
        var clock = new ManualClock();
        HttpClient client = client(
                HttpClient.builder("127.0.0.1", server.port()).clock(clock).bodyIdleTimeout(Duration.ofSeconds(3)));

        HttpResponse response = client.call(HttpRequest.get("/")).get(10, TimeUnit.SECONDS);
        CompletableFuture<byte[]> body = response.body().collectBytes(100);
        // The subscription reaches the event loop asynchronously, and demand restarts the idle
        // count; so time moves a second at a time until the body fails, which must be within
        // three seconds of the last byte plus one step.
        long start = clock.elapsedNanos();
        await().atMost(WAIT).until(() -> {
            clock.advance(Duration.ofSeconds(1));
            return body.isDone();
        });
        assertThat(Duration.ofNanos(clock.elapsedNanos() - start))
                .isBetween(Duration.ofSeconds(3), Duration.ofSeconds(5));
        assertThat(body)
                .failsWithin(WAIT)
                .withThrowableThat()
                .havingCause()
                .isInstanceOfSatisfying(
                        PhaseElapsedException.class,
                        e -> assertThat(e.phase()).isEqualTo(PhaseElapsedException.Phase.BODY_IDLE));
        await().atMost(WAIT).until(() -> client.connectionCount() == 0);
    }

    /** Reads one request head, and its body if it declares a Content-Length. */
    private static String server0(Socket socket) throws IOException {
        String head = RawServer.readHeadOf(socket);
        if (head == null) {
            return null;
        }
        for (String line : head.split("\r\n", -1)) {
            if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                int length = Integer.parseInt(
                        line.substring("content-length:".length()).trim());
                socket.getInputStream().readNBytes(length);
            }
        }
        return head;
    }
}
