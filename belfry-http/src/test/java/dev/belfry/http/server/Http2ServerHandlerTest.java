package dev.belfry.http.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.Service;
import dev.belfry.http.Headers;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.test.NoNettyLeaks;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2ChannelDuplexHandler;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The HTTP/2 server's connection handler, between two embedded channels: a client made of Netty's
 * frame codec, and the server's HTTP/2 pipeline as {@link HttpServer} builds it. The test moves the
 * bytes between them, so every step (and every flow-control window) is exact.
 */
@ExtendWith(NoNettyLeaks.class)
class Http2ServerHandlerTest {
    private static final int WINDOW = 65_535; // the initial stream and connection windows

    private Service<HttpRequest, HttpResponse> service =
            request -> CompletableFuture.completedFuture(HttpResponse.text("hello " + request.path()));
    private final Client client = new Client();
    private final EmbeddedChannel clientChannel =
            new EmbeddedChannel(Http2FrameCodecBuilder.forClient().build(), client);
    private final EmbeddedChannel server = new EmbeddedChannel();

    private void start(ServerLimits limits) {
        new HttpServer.Pipelines(request -> service.call(request), limits, Duration.ofSeconds(1))
                .http2(server.pipeline());
        pump();
    }

    @AfterEach
    void close() {
        client.release();
        clientChannel.finishAndReleaseAll();
        server.finishAndReleaseAll();
    }

    /** Moves bytes both ways until neither side has anything more to send. */
    private void pump() {
        boolean moved = true;
        while (moved) {
            moved = false;
            clientChannel.runPendingTasks();
            server.runPendingTasks();
            for (Object out; (out = clientChannel.readOutbound()) != null; ) {
                server.writeInbound(out);
                moved = true;
            }
            for (Object out; (out = server.readOutbound()) != null; ) {
                clientChannel.writeInbound(out);
                moved = true;
            }
        }
    }

    /** Moves the client's bytes to the server one byte per read. */
    private void pumpByteByByte() {
        clientChannel.runPendingTasks();
        for (Object out; (out = clientChannel.readOutbound()) != null; ) {
            ByteBuf bytes = (ByteBuf) out;
            while (bytes.isReadable()) {
                server.writeInbound(bytes.readRetainedSlice(1));
            }
            bytes.release();
        }
        pump();
    }

    private static Http2Headers get(String path) {
        return new DefaultHttp2Headers()
                .method("GET")
                .scheme("http")
                .authority("example.test:8080")
                .path(path);
    }

    private static Http2Headers post(String path) {
        return new DefaultHttp2Headers()
                .method("POST")
                .scheme("http")
                .authority("example.test")
                .path(path);
    }

    private static ByteBuf bytes(int n, int seed) {
        byte[] data = new byte[n];
        for (int i = 0; i < n; i++) {
            data[i] = (byte) (seed + i * 31);
        }
        return Unpooled.wrappedBuffer(data);
    }

    @Test
    void aRequestArrivesAsBelfrysMessageWithHostFromAuthorityAndCookieCrumbsJoined() {
        AtomicReference<HttpRequest> seen = new AtomicReference<>();
        service = request -> {
            seen.set(request);
            return CompletableFuture.completedFuture(HttpResponse.text("hi"));
        };
        start(ServerLimits.defaults());
        Http2Headers headers =
                get("/users/7?x=1").add("cookie", "a=1").add("x-trace", "t").add("cookie", "b=2");
        Http2FrameStream stream = client.send(headers, true);
        pump();

        HttpRequest request = seen.get();
        assertThat(request).isNotNull();
        assertThat(request.method().name()).isEqualTo("GET");
        assertThat(request.path()).isEqualTo("/users/7");
        assertThat(request.headers().get("host")).isEqualTo("example.test:8080");
        assertThat(request.headers().getAll("cookie")).containsExactly("a=1; b=2");
        assertThat(request.headers().get("x-trace")).isEqualTo("t");
        assertThat(request.headers().names()).noneMatch(name -> name.startsWith(":"));
        assertThat(client.status(stream)).isEqualTo("200");
        assertThat(client.body(stream)).isEqualTo("hi");
        assertThat(client.ended(stream)).isTrue();
    }

    @Test
    void aRequestFedOneByteAtATimeIsAnsweredWhole() {
        service = request ->
                request.body().collectUtf8(1 << 20).thenApply(text -> HttpResponse.text("got " + text.length()));
        start(ServerLimits.defaults());
        Http2FrameStream stream = client.send(post("/upload"), false);
        client.data(stream, bytes(3000, 1), true);
        pumpByteByByte();

        assertThat(client.status(stream)).isEqualTo("200");
        assertThat(client.body(stream)).isEqualTo("got 3000");
    }

    @Test
    void aRequestBodyIsCreditedBackOnlyAsItsSubscriberAsksForMore() {
        ManualSubscriber reader = new ManualSubscriber();
        service = request -> {
            request.body().subscribeBuffers(reader);
            return new CompletableFuture<>(); // answers after the test is done reading
        };
        start(ServerLimits.defaults());
        Http2FrameStream stream = client.send(post("/upload"), false);
        int total = 3 * WINDOW;
        client.data(stream, bytes(total, 7), true);
        pump();

        // Nothing asked for yet: the client sent one stream window and stopped.
        assertThat(reader.received).isZero();
        assertThat(client.codec().connection().remote().flowController().windowSize(client.http2(stream)))
                .as("the client's send window for the stream")
                .isZero();

        // One chunk (one DATA frame of 16,384 bytes) read: the other three of the window wait in the
        // body, so nothing is credited back yet.
        reader.request(1);
        pump();
        assertThat(reader.received).isEqualTo(16_384);
        assertThat(client.codec().connection().remote().flowController().windowSize(client.http2(stream)))
                .isZero();

        // The rest of the window read, and one more chunk wanted: the window is credited back, the
        // client sends the next one, and one chunk of it is read.
        reader.request(4);
        pump();
        assertThat(reader.received).isEqualTo(WINDOW + 16_384);
        assertThat(client.codec().connection().remote().flowController().windowSize(client.http2(stream)))
                .isZero();

        reader.request(Long.MAX_VALUE);
        pump();
        assertThat(reader.received).isEqualTo(total);
        assertThat(reader.failure).isNull();
        assertThat(reader.completed).isTrue();
        assertThat(reader.digest).isEqualTo(ManualSubscriber.digestOf(bytes(total, 7)));
    }

    @Test
    void anAnswerBeforeTheBodyEndsResetsTheStreamWithNoErrorAndLeavesTheConnectionWindowOpen() {
        service = request -> switch (request.path()) {
            case "/early" -> CompletableFuture.completedFuture(HttpResponse.text("early"));
            default -> request.body().collectBytes(1 << 20).thenApply(body -> HttpResponse.text("read " + body.length));
        };
        start(ServerLimits.defaults());
        Http2FrameStream early = client.send(post("/early"), false);
        client.data(early, bytes(WINDOW - 1000, 3), false);
        pump();

        assertThat(client.status(early)).isEqualTo("200");
        assertThat(client.body(early)).isEqualTo("early");
        assertThat(client.reset(early)).isEqualTo(Http2Error.NO_ERROR.code());

        // The bytes the first stream sent are back in the connection's window: a second stream
        // may send a full window and more.
        Http2FrameStream next = client.send(post("/read"), false);
        client.data(next, bytes(2 * WINDOW, 5), true);
        pump();
        assertThat(client.body(next)).isEqualTo("read " + 2 * WINDOW);
    }

    @Test
    void aBodyPastTheLimitGets413AndTheHandlerSeesItFail() {
        CompletableFuture<byte[]> read = new CompletableFuture<>();
        service = request -> {
            request.body().collectBytes(1 << 20).whenComplete((body, failure) -> {
                if (failure != null) {
                    read.completeExceptionally(failure);
                } else {
                    read.complete(body);
                }
            });
            return new CompletableFuture<>();
        };
        start(ServerLimits.defaults().withMaxRequestBodyBytes(10_000));
        Http2FrameStream stream = client.send(post("/upload"), false);
        client.data(stream, bytes(20_000, 1), true);
        pump();

        assertThat(client.status(stream)).isEqualTo("413");
        assertThat(client.body(stream)).startsWith("Request Entity Too Large");
        assertThat(read).isCompletedExceptionally();
    }

    @Test
    void aResetFromTheClientCancelsTheHandlersWorkAndFailsTheBody() {
        CompletableFuture<HttpResponse> answer = new CompletableFuture<>();
        CompletableFuture<byte[]> read = new CompletableFuture<>();
        service = request -> {
            request.body()
                    .collectBytes(1 << 20)
                    .whenComplete((body, failure) -> read.completeExceptionally(
                            failure != null ? failure : new AssertionError("the body completed")));
            return answer;
        };
        start(ServerLimits.defaults());
        Http2FrameStream stream = client.send(post("/upload"), false);
        client.data(stream, bytes(1000, 1), false);
        pump();
        assertThat(answer).isNotDone();

        clientChannel.writeOutbound(new DefaultHttp2ResetFrame(Http2Error.CANCEL).stream(stream));
        pump();
        assertThat(answer).isCancelled();
        assertThat(read).isCompletedExceptionally();
    }

    @Test
    void requestTrailersReachTheBodyAndHeadIsAnsweredWithoutABody() {
        AtomicReference<Headers> trailers = new AtomicReference<>();
        service = request -> {
            if (request.method().name().equals("HEAD")) {
                return CompletableFuture.completedFuture(HttpResponse.text("not sent"));
            }
            return request.body()
                    .collectUtf8(1024)
                    .thenCompose(text -> request.body().trailers().thenApply(fields -> {
                        trailers.set(fields);
                        return HttpResponse.text(text);
                    }));
        };
        start(ServerLimits.defaults());
        Http2FrameStream upload = client.send(post("/t"), false);
        client.data(upload, Unpooled.copiedBuffer("abc", StandardCharsets.UTF_8), false);
        client.send(upload, new DefaultHttp2Headers().add("x-checksum", "42"), true);
        Http2FrameStream head = client.send(
                new DefaultHttp2Headers()
                        .method("HEAD")
                        .scheme("http")
                        .authority("example.test")
                        .path("/h"),
                true);
        pump();

        assertThat(client.body(upload)).isEqualTo("abc");
        assertThat(trailers.get()).isNotNull();
        assertThat(trailers.get().get("x-checksum")).isEqualTo("42");
        assertThat(client.status(head)).isEqualTo("200");
        assertThat(client.headers(head).get("content-length").toString()).isEqualTo("8");
        assertThat(client.body(head)).isEmpty();
        assertThat(client.ended(head)).isTrue();
    }

    /** A subscriber that asks for chunks only when the test says so; it keeps a digest of the bytes. */
    private static final class ManualSubscriber implements Flow.Subscriber<ByteBuf> {
        private Flow.@Nullable Subscription subscription;
        long received;
        long digest = 17;
        boolean completed;

        @Nullable
        Throwable failure;

        static long digestOf(ByteBuf data) {
            long d = 17;
            while (data.isReadable()) {
                d = d * 31 + data.readByte();
            }
            data.release();
            return d;
        }

        void request(long n) {
            Flow.Subscription s = subscription;
            assertThat(s).isNotNull();
            s.request(n);
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
        }

        @Override
        public void onNext(ByteBuf chunk) {
            received += chunk.readableBytes();
            while (chunk.isReadable()) {
                digest = digest * 31 + chunk.readByte();
            }
            chunk.release();
        }

        @Override
        public void onError(Throwable failure) {
            this.failure = failure;
        }

        @Override
        public void onComplete() {
            completed = true;
        }
    }

    /** The client's end: opens streams and keeps what the server sent on each. */
    private static final class Client extends Http2ChannelDuplexHandler {
        private final List<Object> frames = new ArrayList<>();
        private @Nullable ChannelHandlerContext context;

        @Override
        public void handlerAdded0(ChannelHandlerContext ctx) {
            context = ctx;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Http2HeadersFrame || msg instanceof Http2DataFrame || msg instanceof Http2ResetFrame) {
                frames.add(msg);
            } else {
                ReferenceCountUtil.release(msg);
            }
        }

        Http2FrameCodec codec() {
            ChannelHandlerContext ctx = context;
            assertThat(ctx).isNotNull();
            return ctx.pipeline().get(Http2FrameCodec.class);
        }

        io.netty.handler.codec.http2.Http2Stream http2(Http2FrameStream stream) {
            return codec().connection().stream(stream.id());
        }

        Http2FrameStream send(Http2Headers headers, boolean endStream) {
            Http2FrameStream stream = newStream();
            send(stream, headers, endStream);
            return stream;
        }

        void send(Http2FrameStream stream, Http2Headers headers, boolean endStream) {
            ChannelHandlerContext ctx = context;
            assertThat(ctx).isNotNull();
            ctx.writeAndFlush(new DefaultHttp2HeadersFrame(headers, endStream).stream(stream));
        }

        void data(Http2FrameStream stream, ByteBuf data, boolean endStream) {
            ChannelHandlerContext ctx = context;
            assertThat(ctx).isNotNull();
            ctx.writeAndFlush(new DefaultHttp2DataFrame(data, endStream).stream(stream));
        }

        Http2Headers headers(Http2FrameStream stream) {
            for (Object frame : frames) {
                if (frame instanceof Http2HeadersFrame headers
                        && headers.stream().id() == stream.id()) {
                    return headers.headers();
                }
            }
            throw new AssertionError("no HEADERS on stream " + stream.id() + " in " + frames);
        }

        String status(Http2FrameStream stream) {
            CharSequence status = headers(stream).status();
            return status == null ? "" : status.toString();
        }

        String body(Http2FrameStream stream) {
            StringBuilder text = new StringBuilder();
            for (Object frame : frames) {
                if (frame instanceof Http2DataFrame data && data.stream().id() == stream.id()) {
                    text.append(data.content().toString(StandardCharsets.UTF_8));
                }
            }
            return text.toString();
        }

        boolean ended(Http2FrameStream stream) {
            for (Object frame : frames) {
                if (frame instanceof Http2HeadersFrame headers
                        && headers.stream().id() == stream.id()
                        && headers.isEndStream()) {
                    return true;
                }
                if (frame instanceof Http2DataFrame data && data.stream().id() == stream.id() && data.isEndStream()) {
                    return true;
                }
            }
            return false;
        }

        long reset(Http2FrameStream stream) {
            for (Object frame : frames) {
                if (frame instanceof Http2ResetFrame reset && reset.stream().id() == stream.id()) {
                    return reset.errorCode();
                }
            }
            return -1;
        }

        void release() {
            frames.forEach(ReferenceCountUtil::release);
            frames.clear();
        }
    }
}
