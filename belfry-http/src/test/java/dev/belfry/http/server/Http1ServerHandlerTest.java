package dev.belfry.http.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.OverloadedException;
import dev.belfry.Service;
import dev.belfry.http.Body;
import dev.belfry.http.ConnectionClosedException;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.test.NoNettyLeaks;
import dev.belfry.timeout.ElapsedException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.Http2FrameCodec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The HTTP/1.1 connection handler on an {@link EmbeddedChannel}: every input is fed whole, one byte
 * at a time, and in seeded random fragments, and must give the same answer.
 */
@ExtendWith(NoNettyLeaks.class)
class Http1ServerHandlerTest {
    enum Feed {
        WHOLE,
        BYTE_BY_BYTE,
        RANDOM_FRAGMENTS
    }

    private final List<HttpRequest> seen = new ArrayList<>();
    private final List<CompletableFuture<HttpResponse>> held = new ArrayList<>();
    private boolean hold;
    private final Service<HttpRequest, HttpResponse> echo = request -> {
        seen.add(request);
        if (hold) {
            var future = new CompletableFuture<HttpResponse>();
            held.add(future);
            return future;
        }
        if (request.path().equals("/echo")) {
            return request.body()
                    .collectUtf8(1 << 20)
                    .thenApply(text -> HttpResponse.text("got " + text + " "
                            + request.body().trailers().toCompletableFuture().join()));
        }
        if (request.path().equals("/stream")) {
            // Streams the request body back as the response body: full duplex.
            return CompletableFuture.completedFuture(
                    HttpResponse.status(200).body(request.body()).build());
        }
        if (request.path().equals("/none")) {
            return CompletableFuture.completedFuture(HttpResponse.of(204));
        }
        if (request.path().equals("/none-framed")) {
            // Framing fields a 204 must not carry (RFC 9110, 8.6 and 6.1): the server drops them.
            return CompletableFuture.completedFuture(HttpResponse.status(204)
                    .header("content-length", "0")
                    .header("transfer-encoding", "chunked")
                    .header("x-kept", "yes")
                    .build());
        }
        if (request.path().equals("/overloaded")) {
            return CompletableFuture.failedFuture(new OverloadedException("full"));
        }
        if (request.path().equals("/slow")) {
            return CompletableFuture.failedFuture(new ElapsedException(Duration.ofSeconds(1)));
        }
        if (request.path().equals("/bug")) {
            throw new IllegalStateException("secret internals");
        }
        return CompletableFuture.completedFuture(HttpResponse.text("hello " + request.target()));
    };
    private ServerLimits limits = ServerLimits.defaults();
    private EmbeddedChannel channel = newChannel();

    private EmbeddedChannel newChannel() {
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.freezeTime();
        new HttpServer.Pipelines(echo, limits, Duration.ofSeconds(1)).http1(ch.pipeline());
        return ch;
    }

    @AfterEach
    void closeChannel() {
        channel.finishAndReleaseAll();
    }

    private void feed(String input, Feed how, long seed) {
        byte[] bytes = input.getBytes(StandardCharsets.ISO_8859_1);
        Random random = new Random(seed);
        int at = 0;
        while (at < bytes.length && channel.isOpen()) {
            int size = switch (how) {
                case WHOLE -> bytes.length;
                case BYTE_BY_BYTE -> 1;
                case RANDOM_FRAGMENTS -> 1 + random.nextInt(Math.min(16, bytes.length - at));
            };
            size = Math.min(size, bytes.length - at);
            channel.writeInbound(Unpooled.wrappedBuffer(bytes, at, size));
            at += size;
        }
        channel.runPendingTasks();
    }

    private String output() {
        StringBuilder out = new StringBuilder();
        ByteBuf buf;
        while ((buf = channel.readOutbound()) != null) {
            out.append(buf.toString(StandardCharsets.ISO_8859_1));
            buf.release();
        }
        return out.toString();
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(Feed.class)
    void answersAGetAndKeepsTheConnection(Feed how) {
        feed("GET /a?b=1 HTTP/1.1\r\nHost: x\r\n\r\n", how, 1);

        String out = output();
        assertThat(out).startsWith("HTTP/1.1 200 OK\r\n");
        assertThat(out).contains("content-length: 12\r\n").endsWith("\r\n\r\nhello /a?b=1");
        assertThat(channel.isOpen()).isTrue();
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(Feed.class)
    void readsAChunkedBodyWithTrailers(Feed how) {
        String head = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
        String chunks = "3\r\nabc\r\n2\r\nde\r\n0\r\nx-sum: 5\r\n\r\n";
        feed(head.concat(chunks), how, 2);

        assertThat(output()).startsWith("HTTP/1.1 200 OK").endsWith("got abcde [x-sum: 5]");
        assertThat(channel.isOpen()).isTrue();
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(Feed.class)
    void answersQueuedPipelinedRequestsAnsweredAtOnceAllInOrder(Feed how) {
        // The first is held, so the others queue; once it is answered, each of the others is
        // answered inside the loop that takes the next one off the queue.
        String pipelined = "GET /1 HTTP/1.1\r\nHost: x\r\n\r\n"
                .concat("GET /2 HTTP/1.1\r\nHost: x\r\n\r\n")
                .concat("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok")
                .concat("GET /3 HTTP/1.1\r\nHost: x\r\n\r\n");
        hold = true;
        feed(pipelined, how, 7);
        assertThat(seen).extracting(HttpRequest::path).containsExactly("/1");

        hold = false;
        held.get(0).complete(HttpResponse.text("hello /1"));
        channel.runPendingTasks();

        String out = output();
        assertThat(seen).extracting(HttpRequest::path).containsExactly("/1", "/2", "/echo", "/3");
        assertThat(out.split("HTTP/1.1 200 OK", -1)).hasSize(5);
        assertThat(java.util.List.of(
                        out.indexOf("hello /1"),
                        out.indexOf("hello /2"),
                        out.indexOf("got ok []"),
                        out.indexOf("hello /3")))
                .doesNotContain(-1)
                .isSorted();
        assertThat(channel.isOpen()).isTrue();
    }

    @Test
    void answersPipelinedRequestsInOrderEvenWhenTheFirstIsSlower() {
        hold = true;
        feed("GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n", Feed.WHOLE, 0);
        assertThat(seen).as("the second waits for the first response").hasSize(1);

        held.get(0).complete(HttpResponse.text("first"));
        channel.runPendingTasks();
        assertThat(seen).hasSize(2);
        held.get(1).complete(HttpResponse.text("second"));
        channel.runPendingTasks();

        String out = output();
        assertThat(out.indexOf("first")).isLessThan(out.indexOf("second")).isPositive();
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(Feed.class)
    void upgradesToH2cOnALaterRequestOfAKeptAliveConnection(Feed how) {
        feed("GET /1 HTTP/1.1\r\nHost: x\r\n\r\n", how, 4);
        assertThat(output()).startsWith("HTTP/1.1 200 OK").endsWith("hello /1");
        feed("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", how, 5);
        assertThat(output()).startsWith("HTTP/1.1 200 OK").endsWith("got abc []");

        String upgrade = String.join(
                "\r\n",
                "GET /up HTTP/1.1",
                "Host: x",
                "Connection: Upgrade, HTTP2-Settings",
                "Upgrade: h2c",
                "HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA",
                "",
                "");
        feed(upgrade, how, 6);

        assertThat(output()).startsWith("HTTP/1.1 101 Switching Protocols\r\n");
        assertThat(channel.pipeline().get(Http2FrameCodec.class)).isNotNull();
        assertThat(seen).extracting(HttpRequest::path).containsExactly("/1", "/echo", "/up");
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(Feed.class)
    void findsAFoldedFieldAmongManyAfterRequestsWithoutBodies(Feed how) {
        StringBuilder fields = new StringBuilder();
        for (int i = 0; i < 20; i++) {
            fields.append("X-F").append(i).append(": value ").append(i).append("\r\n");
        }
        feed(
                "GET /1 HTTP/1.1\r\nHost: x\r\n" + fields + "\r\n" + "GET /2 HTTP/1.1\r\nHost: x\r\n" + fields
                        + "X-Last: a\r\n\tb\r\n\r\n",
                how,
                5);

        String out = output();
        assertThat(out).startsWith("HTTP/1.1 200 OK").contains("hello /1");
        assertThat(out.substring(out.indexOf("hello /1"))).contains("HTTP/1.1 400 Bad Request");
        assertThat(seen).extracting(HttpRequest::path).containsExactly("/1");
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void headGetsTheHeadersOfAGetWithoutTheBody() {
        feed("HEAD /h HTTP/1.1\r\nHost: x\r\n\r\nGET /g HTTP/1.1\r\nHost: x\r\n\r\n", Feed.WHOLE, 0);

        String out = output();
        assertThat(out)
                .startsWith("HTTP/1.1 200 OK\r\n")
                .contains("content-length: 8\r\n\r\nHTTP/1.1 200 OK")
                .endsWith("hello /g");
    }

    @Test
    void noContentHasNoBodyAndNoLength() {
        feed("GET /none HTTP/1.1\r\nHost: x\r\n\r\n", Feed.WHOLE, 0);

        String out = output();
        assertThat(out).startsWith("HTTP/1.1 204 No Content\r\n").endsWith("\r\n\r\n");
        assertThat(out.toLowerCase(java.util.Locale.ROOT))
                .doesNotContain("content-length")
                .doesNotContain("chunked");
    }

    @Test
    void framingFieldsAHandlerPutOnA204AreDropped() {
        feed("GET /none-framed HTTP/1.1\r\nHost: x\r\n\r\nGET /g HTTP/1.1\r\nHost: x\r\n\r\n", Feed.WHOLE, 0);

        assertThat(output())
                .isEqualTo(
                        "HTTP/1.1 204 No Content\r\nx-kept: yes\r\n\r\n"
                                + "HTTP/1.1 200 OK\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 8\r\n\r\nhello /g");
    }

    @Test
    void sendsContinueOnlyWhenTheHandlerAsksForTheBody() {
        hold = true;
        feed("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n", Feed.WHOLE, 0);
        assertThat(output()).as("no 100 before the handler reads").isEmpty();

        var body = seen.get(0).body().collectUtf8(10);
        channel.runPendingTasks();
        assertThat(output()).isEqualTo("HTTP/1.1 100 Continue\r\n\r\n");

        feed("abc", Feed.WHOLE, 0);
        assertThat(body.join()).isEqualTo("abc");
        held.get(0).complete(HttpResponse.text("ok"));
        channel.runPendingTasks();
        assertThat(output()).startsWith("HTTP/1.1 200 OK");
    }

    @Test
    void streamsTheRequestBodyBackAsTheResponse() {
        feed("POST /stream HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", Feed.BYTE_BY_BYTE, 0);

        String out = output();
        assertThat(out)
                .startsWith("HTTP/1.1 200 OK")
                .contains("content-length: 5")
                .endsWith("hello");
        assertThat(channel.isOpen()).isTrue();
    }

    @Test
    void failuresMapToStatusesWithoutStackTraces() {
        feed("GET /overloaded HTTP/1.1\r\nHost: x\r\n\r\n", Feed.WHOLE, 0);
        assertThat(output()).startsWith("HTTP/1.1 503 ");
        feed("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n", Feed.WHOLE, 0);
        assertThat(output()).startsWith("HTTP/1.1 504 ");
        feed("GET /bug HTTP/1.1\r\nHost: x\r\n\r\n", Feed.WHOLE, 0);
        String out = output();
        assertThat(out).startsWith("HTTP/1.1 500 ").endsWith("internal server error\n");
        assertThat(out).doesNotContain("secret").doesNotContain("Exception");
        assertThat(channel.isOpen()).isTrue();
    }

    static Stream<Arguments> malformed() {
        String big = "x".repeat(20_000);
        StringBuilder many = new StringBuilder();
        for (int i = 0; i < 101; i++) {
            many.append("h").append(i).append(": v\r\n");
        }
        return Stream.of(
                Arguments.of(
                        "CL with TE",
                        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                        400),
                Arguments.of(
                        "duplicate CL",
                        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
                        400),
                Arguments.of("bare LF", "GET / HTTP/1.1\nHost: x\n\n", 400),
                Arguments.of("obs-fold", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n  b\r\n\r\n", 400),
                Arguments.of("NUL in a header", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n", 400),
                Arguments.of(
                        "bad chunk size",
                        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
                        400),
                Arguments.of("missing Host", "GET / HTTP/1.1\r\n\r\n", 400),
                Arguments.of("duplicate Host", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
                Arguments.of("space before colon", "GET / HTTP/1.1\r\nHost: x\r\nX-A : b\r\n\r\n", 400),
                Arguments.of("oversized headers", "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + big + "\r\n\r\n", 431),
                Arguments.of("too many headers", "GET / HTTP/1.1\r\nHost: x\r\n" + many + "\r\n", 431),
                Arguments.of("long request line", "GET /" + big + " HTTP/1.1\r\nHost: x\r\n\r\n", 414),
                Arguments.of(
                        "body over the limit",
                        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n",
                        413));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformed")
    void rejectsMalformedRequestsAndCloses(String name, String input, int status) {
        for (Feed how : Feed.values()) {
            channel.finishAndReleaseAll();
            seen.clear();
            channel = newChannel();

            feed(input, how, 3);

            assertThat(output())
                    .as(name + " fed " + how)
                    .startsWith("HTTP/1.1 " + status + " ")
                    .contains("connection: close");
            assertThat(channel.isOpen()).as(name + " fed " + how + " closes").isFalse();
            if (!name.equals("bad chunk size")) {
                assertThat(seen).as("the service never sees " + name).isEmpty();
            }
        }
    }

    @Test
    void aStreamedBodyOverTheLimitIs413() {
        channel.finishAndReleaseAll();
        limits = ServerLimits.defaults().withMaxRequestBodyBytes(4);
        channel = newChannel();

        feed(
                "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n",
                Feed.WHOLE,
                0);

        assertThat(output()).startsWith("HTTP/1.1 413 ");
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void aSlowRequestHeadGets408AtTheHeaderReadTimeout() {
        feed("GET / HTTP/1.1\r\nHost:", Feed.WHOLE, 0);

        channel.advanceTimeBy(limits.headerReadTimeout().toMillis() - 1, TimeUnit.MILLISECONDS);
        channel.runScheduledPendingTasks();
        assertThat(channel.isOpen()).isTrue();
        channel.advanceTimeBy(1, TimeUnit.MILLISECONDS);
        channel.runScheduledPendingTasks();

        assertThat(output()).startsWith("HTTP/1.1 408 ");
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void anIdleKeepAliveConnectionClosesSilentlyAtTheIdleTimeout() {
        feed("GET / HTTP/1.1\r\nHost: x\r\n\r\n", Feed.WHOLE, 0);
        assertThat(output()).startsWith("HTTP/1.1 200");

        channel.advanceTimeBy(limits.idleTimeout().toMillis() - 1, TimeUnit.MILLISECONDS);
        channel.runScheduledPendingTasks();
        assertThat(channel.isOpen()).isTrue();
        channel.advanceTimeBy(1, TimeUnit.MILLISECONDS);
        channel.runScheduledPendingTasks();

        assertThat(output()).isEmpty();
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void aClientThatLeavesCancelsTheHandlerAndFailsTheBody() {
        hold = true;
        feed("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc", Feed.WHOLE, 0);
        var body = seen.get(0).body().collectUtf8(100);
        channel.runPendingTasks();

        channel.close();
        channel.runPendingTasks();

        assertThat(held.get(0)).isCancelled();
        assertThat(body).isCompletedExceptionally();
    }

    @Test
    void anUnreadBodyClosesTheConnectionAfterTheResponse() {
        feed("POST /plain HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc", Feed.WHOLE, 0);

        assertThat(output()).startsWith("HTTP/1.1 200").contains("connection: close");
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void aResponseBodyFromAPublisherIsChunked() {
        channel.finishAndReleaseAll();
        channel = new EmbeddedChannel();
        Service<HttpRequest, HttpResponse> streaming =
                request -> CompletableFuture.completedFuture(HttpResponse.status(200)
                        .body(Body.fromPublisher(Body.of("part").publisher(), -1))
                        .build());
        new HttpServer.Pipelines(streaming, limits, Duration.ofSeconds(1)).http1(channel.pipeline());

        feed("GET / HTTP/1.1\r\nHost: x\r\n\r\n", Feed.WHOLE, 0);

        assertThat(output()).contains("transfer-encoding: chunked").endsWith("\r\n\r\n4\r\npart\r\n0\r\n\r\n");
    }

    @Test
    void aHandlerStillReadingTheBodyWhenItsResponseEndsGetsAnErrorAndNoChunkIsLeft() {
        hold = true;
        List<String> peeked = new ArrayList<>();
        List<Throwable> errors = new ArrayList<>();
        feed("POST /peek HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n", Feed.WHOLE, 0);
        assertThat(seen).hasSize(1);
        // The handler reads one chunk and then answers, without asking for more.
        seen.get(0).body().subscribeBuffers(new java.util.concurrent.Flow.Subscriber<ByteBuf>() {
            @Override
            public void onSubscribe(java.util.concurrent.Flow.Subscription subscription) {
                subscription.request(1);
            }

            @Override
            public void onNext(ByteBuf item) {
                peeked.add(item.toString(StandardCharsets.US_ASCII));
                item.release();
            }

            @Override
            public void onError(Throwable throwable) {
                errors.add(throwable);
            }

            @Override
            public void onComplete() {
                errors.add(new AssertionError("completed"));
            }
        });
        channel.runPendingTasks();
        feed("first", Feed.WHOLE, 0);
        feed("second", Feed.WHOLE, 0); // queued: the handler asked for one chunk only
        assertThat(peeked).containsExactly("first");

        held.get(0).complete(HttpResponse.text("early"));
        channel.runPendingTasks();

        assertThat(output()).startsWith("HTTP/1.1 200 OK").endsWith("early");
        // The rest of the body will never be read: the handler hears so, and the queued chunk is
        // released (the leak check after the test fails otherwise).
        assertThat(errors).singleElement().isInstanceOf(ConnectionClosedException.class);
        assertThat(peeked).containsExactly("first");
    }
}
