package dev.belfry.http.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.belfry.http.Body;
import dev.belfry.http.Headers;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.http.server.HttpServer;
import dev.belfry.test.ManualClock;
import dev.belfry.test.NoNettyLeaks;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Error;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** h2c streams run on the connection's handler: flow-control credit, trailers and timers per stream. */
@ExtendWith(NoNettyLeaks.class)
@Timeout(60)
class Http2StreamsTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final int CHUNK = 16 * 1024;
    private static final long BODY = 8L << 20;

    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
    }

    private <T extends AutoCloseable> T closing(T closeable) {
        closeables.add(0, closeable);
        return closeable;
    }

    @Test
    void creditIsGivenBackOnlyAsTheBodyIsReadSoAnUnreadBodyStallsAtTheStreamWindow() throws Exception {
        var big = new HttpClientLoopbackTest.Generated(BODY, CHUNK);
        HttpServer server = closing(HttpServer.builder(request -> CompletableFuture.completedFuture(
                        request.path().equals("/big")
                                ? HttpResponse.status(200)
                                        .body(Body.fromPublisher(big, BODY))
                                        .build()
                                : HttpResponse.text("small")))
                .ioThreads(1)
                .shutdownGrace(Duration.ofSeconds(1))
                .start());
        HttpClient client = closing(HttpClient.builder("127.0.0.1", server.port())
                .protocol(Protocol.H2C)
                .build());

        HttpResponse response = client.call(HttpRequest.get("/big")).get(10, TimeUnit.SECONDS);
        // Nobody reads the body: the server fills the stream's window and no more.
        await().atMost(WAIT).until(() -> big.pulled.get() >= Pool.STREAM_WINDOW);

        // The connection's other streams go on meanwhile. Each answer passes through the server's
        // one event loop, the loop that would pull more of the body were any credit given back,
        // and through the client's: after three round trips, bytes beyond the window would show.
        for (int i = 0; i < 3; i++) {
            try (HttpResponse other = client.call(HttpRequest.get("/")).get(10, TimeUnit.SECONDS)) {
                assertThat(other.body().collectUtf8(64).get(10, TimeUnit.SECONDS))
                        .isEqualTo("small");
            }
        }
        assertThat(big.pulled.get()).isBetween((long) Pool.STREAM_WINDOW, (long) Pool.STREAM_WINDOW + 2 * CHUNK);

        // Reading gives the credit back: the whole body arrives.
        assertThat(HttpClientLoopbackTest.count(response.body()).get(30, TimeUnit.SECONDS))
                .isEqualTo(BODY);
        assertThat(big.pulled.get()).isEqualTo(BODY);
        assertThat(client.connectionsOpened()).isEqualTo(1);
    }

    @Test
    void responseTrailersReachTheBody() throws Exception {
        RawH2Server server = closing(new RawH2Server((ctx, codec, headers, connection) -> {
            var stream = headers.stream();
            ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200"), false).stream(stream));
            ctx.write(new DefaultHttp2DataFrame(Unpooled.copiedBuffer("body", StandardCharsets.UTF_8), false)
                    .stream(stream));
            ctx.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().add("grpc-status", "0"), true)
                    .stream(stream));
        }));
        HttpClient client = closing(HttpClient.builder("127.0.0.1", server.port())
                .protocol(Protocol.H2C)
                .build());

        try (HttpResponse response = client.call(HttpRequest.get("/")).get(10, TimeUnit.SECONDS)) {
            assertThat(response.status()).isEqualTo(200);
            assertThat(response.body().collectUtf8(64).get(10, TimeUnit.SECONDS))
                    .isEqualTo("body");
            assertThat(response.body().trailers().toCompletableFuture().get(10, TimeUnit.SECONDS))
                    .isEqualTo(Headers.of("grpc-status", "0"));
        }
    }

    @Test
    void theResponseHeadersTimeoutResetsTheStreamAndFreesItsSlot() throws Exception {
        var seen = new java.util.concurrent.atomic.AtomicInteger();
        RawH2Server server = closing(new RawH2Server((ctx, codec, headers, connection) -> {
            if (seen.incrementAndGet() > 1) {
                RawH2Server.answer(ctx, headers.stream(), "second");
            } // the first stream is never answered
        }));
        var clock = new ManualClock();
        HttpClient client = closing(HttpClient.builder("127.0.0.1", server.port())
                .protocol(Protocol.H2C)
                .clock(clock)
                .responseHeadersTimeout(Duration.ofSeconds(5))
                .build());

        var call = client.call(HttpRequest.get("/"));
        await().atMost(WAIT).until(() -> server.streams.get() == 1 && clock.pendingTasks() == 1);
        clock.advance(Duration.ofSeconds(5).minusNanos(1));
        assertThat(call).isNotDone();
        clock.advance(Duration.ofNanos(1));

        assertThat(call)
                .failsWithin(WAIT)
                .withThrowableThat()
                .havingCause()
                .isInstanceOf(PhaseElapsedException.class)
                .withMessageContaining("no response headers");
        await().atMost(WAIT).until(() -> !server.resets.isEmpty());
        assertThat(server.resets).containsExactly(Http2Error.CANCEL.code());
        try (HttpResponse next = client.call(HttpRequest.get("/")).get(10, TimeUnit.SECONDS)) {
            assertThat(next.body().collectUtf8(64).get(10, TimeUnit.SECONDS)).isEqualTo("second");
        }
        assertThat(client.connectionsOpened()).isEqualTo(1);
    }

    @Test
    void aStalledBodyFailsAtTheBodyIdleTimeoutCountedFromItsLastProgress() throws Exception {
        RawH2Server server = closing(new RawH2Server((ctx, codec, headers, connection) -> {
            var stream = headers.stream();
            ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200"), false).stream(stream));
            ctx.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.copiedBuffer("part", StandardCharsets.UTF_8), false)
                    .stream(stream)); // and never the rest
        }));
        var clock = new ManualClock();
        // The headers timer (5 s) is due before the body's idle limit (10 s) would be: the one timer
        // serves both, re-armed for the rest of the idle limit when it fires.
        HttpClient client = closing(HttpClient.builder("127.0.0.1", server.port())
                .protocol(Protocol.H2C)
                .clock(clock)
                .responseHeadersTimeout(Duration.ofSeconds(5))
                .bodyIdleTimeout(Duration.ofSeconds(10))
                .build());

        HttpResponse response = client.call(HttpRequest.get("/")).get(10, TimeUnit.SECONDS);
        var body = response.body().collectUtf8(64);
        await().atMost(WAIT).until(() -> clock.pendingTasks() == 1);
        clock.advance(Duration.ofSeconds(5));
        await().atMost(WAIT).until(() -> clock.pendingTasks() == 1); // re-armed for the rest
        clock.advance(Duration.ofSeconds(5).minusNanos(1));
        assertThat(body).isNotDone();
        clock.advance(Duration.ofNanos(1));

        assertThat(body)
                .failsWithin(WAIT)
                .withThrowableThat()
                .havingCause()
                .isInstanceOf(PhaseElapsedException.class)
                .withMessageContaining("no body progress");
        await().atMost(WAIT).until(() -> !server.resets.isEmpty());
        assertThat(server.resets).containsExactly(Http2Error.CANCEL.code());
    }
}
