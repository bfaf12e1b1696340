package dev.belfry.http.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.Service;
import dev.belfry.UnprocessedException;
import dev.belfry.http.Body;
import dev.belfry.http.ConnectionClosedException;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.reconnect.ConnectFailedException;
import dev.belfry.retry.RetryLayer;
import dev.belfry.retry.RetryPolicy;
import dev.belfry.test.NoNettyLeaks;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameStream;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * h2c servers that refuse streams or go away, and the core's retry over the client repeating
 * exactly what was never sent.
 */
@ExtendWith(NoNettyLeaks.class)
@Timeout(60)
class Http2FailuresTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
    }

    private HttpClient client(int port, Protocol protocol) {
        HttpClient client =
                HttpClient.builder("127.0.0.1", port).protocol(protocol).build();
        closeables.add(0, client);
        return client;
    }

    private static Service<HttpRequest, HttpResponse> retrying(HttpClient client) {
        return RetryLayer.of(RetryPolicy.<HttpRequest, HttpResponse>standard().build())
                .wrap(client);
    }

    /** The server refuses the first stream it sees and answers every other. */
    private RawH2Server refusingFirst() {
        java.util.Set<Integer> seen = java.util.concurrent.ConcurrentHashMap.newKeySet();
        RawH2Server server = new RawH2Server((ctx, codec, headers, connection) -> {
            if (!seen.add(headers.stream().id())) {
                return; // trailers of a stream already seen
            }
            if (seen.size() == 1) {
                ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.REFUSED_STREAM).stream(headers.stream()));
            } else {
                RawH2Server.answer(ctx, headers.stream(), "ok " + seen.size());
            }
        });
        closeables.add(server);
        return server;
    }

    @Test
    void aRefusedStreamIsUnprocessed() throws Exception {
        RawH2Server server = refusingFirst();
        HttpClient client = client(server.port(), Protocol.H2C);

        assertThat(client.call(HttpRequest.post("/", Body.of("x"))))
                .failsWithin(WAIT)
                .withThrowableThat()
                .havingCause()
                .isInstanceOf(NotSentException.class)
                .isInstanceOf(UnprocessedException.class)
                .withMessageContaining("REFUSED_STREAM");
        // The connection stays usable: the next stream is answered on it.
        try (HttpResponse next = client.call(HttpRequest.get("/")).get(10, TimeUnit.SECONDS)) {
            assertThat(next.body().collectUtf8(64).get(10, TimeUnit.SECONDS)).isEqualTo("ok 2");
        }
        assertThat(client.connectionsOpened()).isEqualTo(1);
    }

    @Test
    void theRetryRepeatsARefusedPostOnce() throws Exception {
        RawH2Server server = refusingFirst();
        HttpClient client = client(server.port(), Protocol.H2C);

        HttpResponse response = retrying(client)
                .call(HttpRequest.post("/", Body.of("not idempotent")))
                .get(10, TimeUnit.SECONDS);
        assertThat(response.body().collectUtf8(64).get(10, TimeUnit.SECONDS)).isEqualTo("ok 2");
        assertThat(server.streams.get()).isEqualTo(2);
    }

    @Test
    void streamsAboveAGoAwaysLastStreamIdAreUnprocessedAndTheNextCallOpensANewConnection() throws Exception {
        var first = new Http2FrameStream[1];
        RawH2Server server = new RawH2Server((ctx, codec, headers, connection) -> {
            if (connection > 1) {
                RawH2Server.answer(ctx, headers.stream(), "fresh");
            } else if (first[0] == null) {
                first[0] = headers.stream(); // held until the second stream arrives
            } else {
                // GOAWAY naming the first stream as the last processed: the second never was.
                codec.goAway(
                        ctx.pipeline().context(codec),
                        first[0].id(),
                        Http2Error.NO_ERROR.code(),
                        Unpooled.EMPTY_BUFFER,
                        ctx.newPromise());
                RawH2Server.answer(ctx, first[0], "processed");
            }
        });
        closeables.add(server);
        HttpClient client = client(server.port(), Protocol.H2C);

        var a = client.call(HttpRequest.post("/", Body.of("a")));
        var b = client.call(HttpRequest.post("/", Body.of("b")));

        try (HttpResponse processed = a.get(10, TimeUnit.SECONDS)) {
            assertThat(processed.body().collectUtf8(64).get(10, TimeUnit.SECONDS))
                    .isEqualTo("processed");
        }
        assertThat(b)
                .failsWithin(WAIT)
                .withThrowableThat()
                .havingCause()
                .isInstanceOf(NotSentException.class)
                .withMessageContaining("GOAWAY");
        try (HttpResponse fresh = client.call(HttpRequest.get("/")).get(10, TimeUnit.SECONDS)) {
            assertThat(fresh.body().collectUtf8(64).get(10, TimeUnit.SECONDS)).isEqualTo("fresh");
        }
        assertThat(client.connectionsOpened()).isEqualTo(2);
    }

    @Test
    void theRetryDoesNotRepeatAPostTheServerMayHaveSeen() throws Exception {
        // Reads the request and closes without answering: the request may have been processed.
        RawServer server = new RawServer((socket, n) -> RawServer.readHeadOf(socket));
        closeables.add(server);
        HttpClient client = client(server.port(), Protocol.HTTP_1_1);

        assertThat(retrying(client).call(HttpRequest.post("/", Body.of("x"))))
                .failsWithin(WAIT)
                .withThrowableThat()
                .havingCause()
                .isInstanceOf(ConnectionClosedException.class);
        assertThat(server.accepted.get()).isEqualTo(1);
    }

    @Test
    void theRetryRepeatsARefusedConnect() throws Exception {
        int port;
        try (ServerSocket probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        HttpClient client = client(port, Protocol.HTTP_1_1);

        assertThat(retrying(client).call(HttpRequest.post("/", Body.of("x"))))
                .failsWithin(WAIT)
                .withThrowableThat()
                .havingCause()
                .isInstanceOf(ConnectFailedException.class);
        assertThat(client.connectionsOpened()).isEqualTo(3); // the standard policy's three attempts
    }
}
