package dev.belfry.http.client;

import dev.belfry.http.Body;
import dev.belfry.http.ConnectionClosedException;
import dev.belfry.http.FixedBody;
import dev.belfry.http.Headers;
import dev.belfry.http.HttpMethod;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.http.internal.BodyWriter;
import dev.belfry.http.internal.StreamBody;
import dev.belfry.http.internal.WireText;
import dev.belfry.time.Clock;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * Runs the exchanges of one HTTP/1.1 connection, one after another (h2c streams run on {@link
 * Http2ClientHandler}).
 *
 * <p>Event-loop confined: every field is touched only on the channel's event loop; the caller's
 * cancellation, the request body's signals and the clock's timers hop to it. The socket is read
 * only while a response head is awaited or the response body's subscriber has
 * demand; an idle HTTP/1.1 connection keeps one read pending, so a close by the server is noticed
 * and the pool forgets the connection.
 *
 * <p>Buffers: each request chunk passes to Netty's write (which releases it); each response chunk
 * passes to the {@link StreamBody}, which owns it from then on; every other message is released
 * here.
 */
final class ExchangeHandler extends ChannelDuplexHandler implements StreamBody.Source {
    private final Settings settings;
    private final Connection connection;
    private final Clock clock;

    private @Nullable ChannelHandlerContext ctx;
    private boolean closing;

    // The exchange in flight.
    private long exchange;
    private boolean active;
    private @Nullable CompletableFuture<HttpResponse> result;
    private boolean isHead;
    private boolean requestClose;
    private boolean requestDone;
    private boolean headReceived;
    private boolean responseDone;
    private boolean informational;
    private boolean keepAlive;
    private @Nullable StreamBody body;
    private @Nullable BodyWriter writer;
    /** The connection's timeouts: one exchange's at a time, with one clock timer. */
    private final Deadlines deadlines;

    private final Deadlines.Deadline timeout = new Deadlines.Deadline() {
        @Override
        void expired() {
            timerFired(exchange);
        }
    };
    private boolean timingHeaders;
    private long lastProgress;

    ExchangeHandler(Settings settings, Connection connection) {
        this.settings = settings;
        this.connection = connection;
        this.clock = settings.clock();
        this.deadlines = new Deadlines(clock, this::onLoop);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext context) {
        this.ctx = context;
    }

    // ---- starting an exchange -----------------------------------------------------------------

    /** Writes {@code request} and completes {@code response} with the answer; on the event loop. */
    void start(HttpRequest request, CompletableFuture<HttpResponse> response) {
        if (!ctx().executor().inEventLoop()) {
            ctx().executor().execute(() -> start(request, response));
            return;
        }
        if (closing || active || !ctx().channel().isActive()) {
            // The server closed this kept-alive connection before a byte of the request was written.
            boolean wasActive = active;
            response.completeExceptionally(new NotSentException(
                    settings.origin() + ": the connection was closed before the request was written"));
            if (!wasActive) {
                connection.pool.release(connection, false);
            }
            return;
        }
        long id = ++exchange;
        active = true;
        result = response;
        requestDone = false;
        headReceived = false;
        responseDone = false;
        informational = false;
        keepAlive = true;
        body = null;
        isHead = request.method().equals(HttpMethod.HEAD);
        String connectionHeader = request.header("connection");
        requestClose = connectionHeader != null
                && connectionHeader.toLowerCase(java.util.Locale.ROOT).contains("close");
        response.whenComplete((r, f) -> {
            if (response.isCancelled()) {
                onLoop(() -> cancelledByCaller(id));
            }
        });

        Body requestBody = request.body();
        io.netty.handler.codec.http.HttpMethod method =
                io.netty.handler.codec.http.HttpMethod.valueOf(request.method().name());
        if (requestBody instanceof FixedBody fixed && fixed.bytes().length == 0) {
            // No body: the head alone, in one write and one flush.
            var full =
                    new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, request.target(), Unpooled.EMPTY_BUFFER);
            copyHeaders(request, full.headers(), 0);
            ctx().writeAndFlush(full).addListener((ChannelFutureListener) f -> {
                if (f.isSuccess()) {
                    requestWritten(id);
                } else {
                    headFailed(id, f.cause());
                }
            });
        } else if (requestBody instanceof FixedBody fixed) {
            // Held in memory: the head and the whole body go out with one flush and no subscription,
            // but as two writes, so that a failure of the body (once the head may have reached the
            // server) is never taken for a request that was certainly not sent.
            byte[] bytes = fixed.bytes();
            var head = new DefaultHttpRequest(HttpVersion.HTTP_1_1, method, request.target());
            copyHeaders(request, head.headers(), bytes.length);
            ctx().write(head).addListener((ChannelFutureListener) f -> {
                if (!f.isSuccess()) {
                    headFailed(id, f.cause());
                }
            });
            ctx().writeAndFlush(new DefaultLastHttpContent(Unpooled.wrappedBuffer(bytes)))
                    .addListener((ChannelFutureListener) f -> {
                        if (f.isSuccess()) {
                            requestWritten(id);
                        } else {
                            writeFailed(id, f.cause());
                        }
                    });
        } else {
            var head = new DefaultHttpRequest(HttpVersion.HTTP_1_1, method, request.target());
            copyHeaders(request, head.headers(), requestBody.contentLength());
            ctx().write(head).addListener((ChannelFutureListener) f -> {
                if (!f.isSuccess()) {
                    headFailed(id, f.cause());
                }
            });
            armBodyIdle();
            BodyWriter w = new BodyWriter(ctx(), requestBody, new RequestBody(id), true);
            writer = w;
            w.start();
        }
        readIfWanted();
    }

    private void copyHeaders(HttpRequest request, HttpHeaders out, long length) {
        for (Map.Entry<String, String> field : request.headers()) {
            out.add(WireText.of(field.getKey()), WireText.of(field.getValue()));
        }
        if (!out.contains(HttpHeaderNames.HOST)) {
            out.set(HttpHeaderNames.HOST, settings.authority());
        }
        if (out.contains(HttpHeaderNames.CONTENT_LENGTH) || out.contains(HttpHeaderNames.TRANSFER_ENCODING)) {
            return;
        }
        HttpMethod m = request.method();
        boolean expectsBody = m.equals(HttpMethod.POST) || m.equals(HttpMethod.PUT) || m.equals(HttpMethod.PATCH);
        if (length > 0 || (length == 0 && expectsBody)) {
            out.set(HttpHeaderNames.CONTENT_LENGTH, length);
        } else if (length < 0) {
            out.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
    }

    private void headFailed(long id, @Nullable Throwable cause) {
        if (id != exchange || !active || headReceived) {
            return;
        }
        fail(new NotSentException(settings.origin() + ": the request could not be written: " + describe(cause)));
    }

    private void requestWritten(long id) {
        if (id != exchange || !active) {
            return;
        }
        requestDone = true;
        if (!headReceived) {
            armHeaders();
        }
        finishIfDone();
    }

    // ---- reading the response -----------------------------------------------------------------

    @Override
    public void channelRead(ChannelHandlerContext context, Object msg) {
        if (!(msg instanceof HttpObject object) || !active || closing) {
            ReferenceCountUtil.release(msg);
            if (!active && !closing) {
                close(); // bytes with no request in flight: the stream cannot be trusted
            }
            return;
        }
        if (object instanceof io.netty.handler.codec.http.HttpResponse head) {
            if (!onHead(head)) {
                ReferenceCountUtil.release(msg);
                return;
            }
        }
        if (object instanceof HttpContent content) {
            onContent(content);
        }
    }

    /** Returns false if the head was refused (the message is then released by the caller). */
    private boolean onHead(io.netty.handler.codec.http.HttpResponse head) {
        int status = head.status().code();
        if (head.decoderResult().isFailure()) {
            fail(new ConnectionClosedException(settings.origin() + ": malformed response: "
                    + describe(head.decoderResult().cause())));
            return false;
        }
        if (status >= 100 && status < 200 && status != 101) {
            informational = true; // 100 Continue, 103 Early Hints: the real response follows
            return true;
        }
        if (headReceived) {
            fail(new ConnectionClosedException(settings.origin() + ": a second response head"));
            return false;
        }
        long length;
        HttpResponse response;
        StreamBody responseBody;
        try {
            length = isHead || status == 204 || status == 304 ? 0 : HttpUtil.getContentLength(head, -1L);
            Headers.Builder headers = Headers.builder();
            for (Map.Entry<String, String> field : head.headers()) {
                headers.add(field.getKey(), field.getValue());
            }
            responseBody = new StreamBody(ctx().executor(), length, this);
            response = HttpResponse.status(status)
                    .headers(headers.build())
                    .body(responseBody)
                    .build();
        } catch (IllegalArgumentException e) {
            fail(new ConnectionClosedException(settings.origin() + ": malformed response: " + e.getMessage()));
            return false;
        }
        headReceived = true;
        informational = false;
        keepAlive = HttpUtil.isKeepAlive(head);
        body = responseBody;
        armBodyIdle();
        CompletableFuture<HttpResponse> r = result;
        if (r == null || !r.complete(response)) {
            responseBody.discard(); // the caller gave up: the connection closes (cancelled() below)
        }
        return true;
    }

    private void onContent(HttpContent content) {
        boolean last = content instanceof LastHttpContent;
        if (informational) {
            informational = !last;
            content.release();
            return;
        }
        if (content.decoderResult().isFailure()) {
            content.release();
            fail(new ConnectionClosedException(settings.origin() + ": malformed response body: "
                    + describe(content.decoderResult().cause())));
            return;
        }
        StreamBody b = body;
        if (b == null) {
            content.release();
            return;
        }
        ByteBuf data = content.content();
        Headers trailers = last ? trailersOf((LastHttpContent) content) : Headers.empty();
        if (data.isReadable() && !b.finished()) {
            lastProgress = clock.nanoTime();
            b.offer(data); // the body owns the content's buffer now
        } else {
            content.release();
        }
        if (last && active) {
            responseDone = true;
            // The connection goes back to the pool before the body's subscriber hears the end, so
            // a caller that sends its next request from onComplete finds it free.
            finishIfDone();
            b.end(trailers);
        }
    }

    private static Headers trailersOf(LastHttpContent last) {
        HttpHeaders trailing = last.trailingHeaders();
        if (trailing.isEmpty()) {
            return Headers.empty();
        }
        Headers.Builder trailers = Headers.builder();
        for (Map.Entry<String, String> field : trailing) {
            trailers.add(field.getKey(), field.getValue());
        }
        return trailers.build();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext context) {
        readIfWanted();
        context.fireChannelReadComplete();
    }

    private void readIfWanted() {
        ChannelHandlerContext context = ctx;
        if (context == null || closing || !context.channel().isActive()) {
            return;
        }
        if (!active) {
            context.read(); // idle keep-alive: notice the server closing it
            return;
        }
        StreamBody b = body;
        if (!headReceived || informational || (b != null && b.wantsMore())) {
            context.read();
        }
    }

    /** The response body's subscriber wants more and nothing is queued. */
    @Override
    public void demand() {
        if (active && !closing && ctx != null) {
            lastProgress = clock.nanoTime();
            ctx.read();
        }
    }

    /** The response body was cancelled or discarded before its end: the exchange is abandoned. */
    @Override
    public void cancelled() {
        if (!active || responseDone) {
            return;
        }
        endExchange();
        close(); // the rest of the body is still on the wire
    }

    // ---- ending -------------------------------------------------------------------------------

    private void finishIfDone() {
        if (!active || !responseDone) {
            return;
        }
        if (!requestDone) {
            // Answered before the request was written whole: stop writing; the connection cannot
            // carry another exchange.
            endExchange();
            close();
            return;
        }
        endExchange();
        if (keepAlive && !requestClose && ctx().channel().isActive()) {
            connection.pool.release(connection, true);
            readIfWanted();
        } else {
            closing = true;
            connection.pool.release(connection, false);
            ctx().close();
        }
    }

    /** Fails the exchange in flight with {@code cause} (its future, or its body once the head is in) and closes. */
    private void fail(Throwable cause) {
        if (!active) {
            return;
        }
        CompletableFuture<HttpResponse> r = result;
        StreamBody b = body;
        endExchange();
        if (b == null) {
            if (r != null) {
                r.completeExceptionally(cause);
            }
        } else if (!b.finished()) {
            b.fail(cause);
        }
        close();
    }

    private void endExchange() {
        active = false;
        result = null;
        body = null;
        cancelTimer();
        BodyWriter w = writer;
        writer = null;
        if (w != null) {
            w.cancel();
        }
    }

    private void close() {
        if (!closing && ctx != null) {
            closing = true;
            ctx.close();
        }
    }

    private void cancelledByCaller(long id) {
        if (id == exchange && active && !headReceived) {
            endExchange();
            close();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext context) throws Exception {
        BodyWriter w = writer;
        if (w != null && context.channel().isWritable()) {
            lastProgress = clock.nanoTime();
            w.resume();
        }
        super.channelWritabilityChanged(context);
    }

    @Override
    public void channelInactive(ChannelHandlerContext context) throws Exception {
        closing = true;
        deadlines.close();
        if (active) {
            fail(
                    headReceived
                            ? new ConnectionClosedException(
                                    settings.origin() + ": the connection closed before the response body ended")
                            : new ConnectionClosedException(
                                    settings.origin() + ": the connection closed before the response headers arrived"));
        }
        super.channelInactive(context);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
        if (active) {
            fail(new ConnectionClosedException(settings.origin() + ": connection error: " + describe(cause)));
        }
        close();
    }

    // ---- timers -------------------------------------------------------------------------------

    private void armHeaders() {
        cancelTimer();
        timingHeaders = true;
        deadlines.arm(timeout, settings.responseHeadersTimeout().toNanos());
    }

    private void armBodyIdle() {
        lastProgress = clock.nanoTime();
        if (timeout.armed() && !timingHeaders) {
            return; // already watching
        }
        cancelTimer();
        timingHeaders = false;
        deadlines.arm(timeout, settings.bodyIdleTimeout().toNanos());
    }

    private void timerFired(long id) {
        if (id != exchange || !active) {
            return;
        }
        if (timingHeaders) {
            if (!headReceived) {
                fail(new PhaseElapsedException(
                        settings.origin(),
                        PhaseElapsedException.Phase.RESPONSE_HEADERS,
                        settings.responseHeadersTimeout()));
            }
            return;
        }
        long now = clock.nanoTime();
        long limit = settings.bodyIdleTimeout().toNanos();
        StreamBody b = body;
        BodyWriter w = writer;
        boolean waitingOnPeer = (b != null && b.wantsMore()) || (w != null && w.waitingForWritability());
        if (!waitingOnPeer) {
            lastProgress = now; // the consumer (or the request's publisher) is the slow one
        } else if (now - lastProgress >= limit) {
            fail(new PhaseElapsedException(
                    settings.origin(), PhaseElapsedException.Phase.BODY_IDLE, settings.bodyIdleTimeout()));
            return;
        }
        if (!headReceived && requestDone) {
            armHeaders();
            return;
        }
        deadlines.arm(timeout, limit - (now - lastProgress));
    }

    private void cancelTimer() {
        deadlines.disarm(timeout);
    }

    // ---- helpers ------------------------------------------------------------------------------

    private ChannelHandlerContext ctx() {
        ChannelHandlerContext context = ctx;
        if (context == null) {
            throw new IllegalStateException("handler not added to a pipeline");
        }
        return context;
    }

    private void onLoop(Runnable task) {
        var executor = ctx().executor();
        if (executor.inEventLoop()) {
            task.run();
        } else {
            executor.execute(task);
        }
    }

    private static String describe(@Nullable Throwable cause) {
        if (cause == null) {
            return "unknown error";
        }
        String message = cause.getMessage();
        return message == null ? cause.getClass().getSimpleName() : message;
    }

    /** A request body reports here: the owner of one exchange's writer. */
    private final class RequestBody implements BodyWriter.Owner {
        private final long id;

        RequestBody(long id) {
            this.id = id;
        }

        @Override
        public boolean isCurrent(BodyWriter bodyWriter) {
            return writer == bodyWriter;
        }

        @Override
        public void chunkFailed(BodyWriter bodyWriter, @Nullable Throwable cause) {
            writeFailed(id, cause);
        }

        @Override
        public void bodyFailed(BodyWriter bodyWriter, Throwable failure) {
            writer = null;
            // The request is cut short: the server sees a truncated request (the connection
            // closes) and the caller the publisher's failure.
            fail(failure);
        }

        @Override
        public void bodyEnded(BodyWriter bodyWriter, LastHttpContent last) {
            writer = null;
            ctx().writeAndFlush(last).addListener((ChannelFutureListener) f -> {
                if (f.isSuccess()) {
                    requestWritten(id);
                } else {
                    writeFailed(id, f.cause());
                }
            });
        }
    }

    private void writeFailed(long id, @Nullable Throwable cause) {
        if (id == exchange && active) {
            fail(new ConnectionClosedException(
                    settings.origin() + ": the request could not be written whole: " + describe(cause)));
        }
    }
}
