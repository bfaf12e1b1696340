package dev.belfry.http.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.belfry.http.Body;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.http.server.HttpServer;
import dev.belfry.test.ManualClock;
import dev.belfry.test.NoNettyLeaks;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Idle eviction on a manual clock, reuse rules and backpressure, against Belfry's server. */
@ExtendWith(NoNettyLeaks.class)
@Timeout(60)
class PoolTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private final CompletableFuture<Void> release = new CompletableFuture<>();
    private final HttpServer server = HttpServer.builder(request -> switch (request.path()) {
                case "/big" ->
                    CompletableFuture.completedFuture(HttpResponse.status(200)
                            .body(Body.fromPublisher(new HttpClientLoopbackTest.Generated(1 << 20, 16 * 1024), 1 << 20))
                            .build());
                case "/stall" -> {
                    // Reads the upload only when the test says so.
                    yield release.thenCompose(unused -> HttpClientLoopbackTest.count(request.body()))
                            .thenApply(n -> HttpResponse.text(Long.toString(n)));
                }
                default -> CompletableFuture.completedFuture(HttpResponse.text("hi"));
            })
            .limits(dev.belfry.http.server.ServerLimits.defaults().withMaxRequestBodyBytes(1L << 30))
            .ioThreads(1)
            .shutdownGrace(Duration.ofSeconds(1))
            .start();
    private final ManualClock clock = new ManualClock();
    private HttpClient client;

    private HttpClient client(Protocol protocol) {
        client = HttpClient.builder("127.0.0.1", server.port())
                .protocol(protocol)
                .clock(clock)
                .idleTimeout(Duration.ofSeconds(30))
                .build();
        return client;
    }

    @AfterEach
    void close() {
        release.complete(null);
        if (client != null) {
            client.close();
        }
        server.close();
    }

    @ParameterizedTest
    @EnumSource(Protocol.class)
    void evictsAnIdleConnectionAtTheIdleTimeoutAndNotBefore(Protocol protocol) throws Exception {
        client = HttpClient.builder("127.0.0.1", server.port())
                .protocol(protocol)
                .clock(clock)
                .idleTimeout(Duration.ofSeconds(30))
                .responseHeadersTimeout(Duration.ofSeconds(5))
                .build();

        try (HttpResponse response = client.call(HttpRequest.get("/")).get(10, TimeUnit.SECONDS)) {
            assertThat(response.body().collectUtf8(16).get(10, TimeUnit.SECONDS))
                    .isEqualTo("hi");
        }
        // Two timers: the eviction's, and the connection's one timeout timer, still set for the
        // exchange's headers deadline (disarming leaves it); it fires, finds nothing due, and is
        // not set again.
        await().atMost(WAIT).until(() -> clock.pendingTasks() == 2);
        assertThat(clock.nextDelay()).isEqualTo(Duration.ofSeconds(5));
        clock.advance(Duration.ofSeconds(5));
        assertThat(clock.pendingTasks()).isEqualTo(1);
        assertThat(clock.nextDelay()).isEqualTo(Duration.ofSeconds(25));

        clock.advance(Duration.ofSeconds(25).minusNanos(1));
        assertThat(client.connectionCount()).isEqualTo(1);
        clock.advance(Duration.ofNanos(1));
        assertThat(client.connectionCount()).isZero();
        await().atMost(WAIT).until(() -> server.connectionCount() == 0);
        assertThat(clock.pendingTasks()).isZero();

        // The next call opens a new connection.
        try (HttpResponse again = client.call(HttpRequest.get("/")).get(10, TimeUnit.SECONDS)) {
            assertThat(again.body().collectUtf8(16).get(10, TimeUnit.SECONDS)).isEqualTo("hi");
        }
        assertThat(client.connectionsOpened()).isEqualTo(2);
    }

    @ParameterizedTest
    @EnumSource(Protocol.class)
    void aResponseBodyDiscardedEarlyIsNotReusedAsIfReadWhole(Protocol protocol) throws Exception {
        HttpClient client = client(protocol);

        HttpResponse big = client.call(HttpRequest.get("/big")).get(10, TimeUnit.SECONDS);
        big.close(); // discards the body before its end
        try (HttpResponse next = client.call(HttpRequest.get("/")).get(10, TimeUnit.SECONDS)) {
            assertThat(next.body().collectUtf8(16).get(10, TimeUnit.SECONDS)).isEqualTo("hi");
        }
        // HTTP/1.1 closes the connection whose body was not read whole; h2c resets only the stream.
        assertThat(client.connectionsOpened()).isEqualTo(protocol == Protocol.HTTP_1_1 ? 2 : 1);
    }

    @ParameterizedTest
    @EnumSource(Protocol.class)
    void aServerThatDoesNotReadStopsTheUploadBeingPulled(Protocol protocol) throws Exception {
        HttpClient client = client(protocol);
        var upload = new HttpClientLoopbackTest.Generated(256L << 20, 64 * 1024);

        var call = client.call(HttpRequest.post("/stall", Body.fromPublisher(upload, 256L << 20)));
        // The publisher is pulled until the socket buffers (or the stream's window) are full, then
        // stops: far less than the 256 MiB it offers.
        await().atMost(WAIT).until(() -> upload.pulled.get() > 0);
        // Stopped: two polls 200 ms apart see the same count (bounded by WAIT).
        AtomicLong seen = new AtomicLong(-1);
        await().atMost(WAIT).pollInterval(Duration.ofMillis(200)).until(() -> {
            long now = upload.pulled.get();
            return seen.getAndSet(now) == now;
        });
        assertThat(upload.pulled.get()).isLessThan(64L << 20);

        release.complete(null);
        try (HttpResponse response = call.get(30, TimeUnit.SECONDS)) {
            assertThat(response.body().collectUtf8(16).get(10, TimeUnit.SECONDS))
                    .isEqualTo(Long.toString(256L << 20));
        }
    }
}
