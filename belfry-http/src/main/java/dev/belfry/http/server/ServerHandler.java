package dev.belfry.http.server;

import dev.belfry.Futures;
import dev.belfry.Service;
import dev.belfry.http.BadRequestException;
import dev.belfry.http.BodyTooLargeException;
import dev.belfry.http.ConnectionClosedException;
import dev.belfry.http.FixedBody;
import dev.belfry.http.Headers;
import dev.belfry.http.HttpMethod;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.http.internal.BodyWriter;
import dev.belfry.http.internal.StreamBody;
import dev.belfry.http.internal.WireText;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelOutboundHandler;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * Serves the exchanges of one HTTP/1.1 connection, one exchange at a time (HTTP/2 connections are
 * served by {@link Http2ServerHandler}).
 *
 * <p>Event-loop confined: every field is touched only on the channel's event loop; futures and
 * publishers completing elsewhere hop back to it. Pipelined requests wait in {@code pending} until
 * the response before them is written, so they are answered in order, and the socket is not read
 * while they wait.
 */
final class ServerHandler extends ChannelDuplexHandler implements StreamBody.Source, StrictRequestDecoder.Listener {
    private static final System.Logger LOG = System.getLogger(ServerHandler.class.getName());
    private static final byte[] NO_BYTES = new byte[0];

    /** Asks an HTTP/1.1 connection to finish its exchange in flight and close. */
    enum Signal {
        DRAIN
    }

    /**
     * Response fields come from Belfry's {@link Headers}, whose names are already checked tokens and
     * whose values hold no CR, LF or NUL: Netty's checks would repeat that work on every field.
     */
    private static final HttpHeadersFactory RESPONSE_HEADERS =
            DefaultHttpHeadersFactory.headersFactory().withValidation(false);

    private final Service<HttpRequest, HttpResponse> service;
    private final ServerLimits limits;
    /** Netty's response encoder, which whole responses skip (they are written as bytes). */
    private final @Nullable HttpResponseEncoder encoder;
    /** Where whole responses are written: the encoder's context, so their bytes skip it. */
    private @Nullable ChannelHandlerContext bytesOut;
    /**
     * No outbound handler sits between {@link #bytesOut} and the socket, so bytes written from there
     * reach the channel's outbound buffer as they are: when that buffer is empty after a flush, the
     * kernel has every byte, and the exchange can end without a promise per response.
     */
    private boolean bytesReachSocket;

    private @Nullable ChannelHandlerContext ctx;
    private final ArrayDeque<HttpObject> pending = new ArrayDeque<>(2);
    private @Nullable ScheduledFuture<?> timer;
    private long timerAt; // when `timer` fires, on the event loop's ticker
    private long deadline; // when `deadlineAction` is due, while it is not null
    private @Nullable Runnable deadlineAction;
    private final Runnable onTimer = this::timerFired;
    private final Runnable onIdleTimeout = this::idleTimedOut;
    private final Runnable onHeaderReadTimeout = this::headerReadTimedOut;
    private boolean timingHead;

    // The exchange in flight.
    private boolean exchangeActive;
    private boolean processing; // in process(): a nested call leaves the work to the running loop
    private boolean readingBody;
    private @Nullable StreamBody requestBody;
    private long bodyBytes;
    private boolean expectContinue;
    private boolean keepAlive;
    private boolean isHead;
    private HttpVersion version = HttpVersion.HTTP_1_1;
    private @Nullable CompletableFuture<HttpResponse> inflight;
    private long exchangeCount;
    private boolean responseStarted;
    private @Nullable BodyWriter writer;
    private final ResponseBodies responseBodies = new ResponseBodies();

    private boolean closeAfter;
    private boolean closing;
    private boolean draining;

    ServerHandler(
            Service<HttpRequest, HttpResponse> service, ServerLimits limits, @Nullable HttpResponseEncoder encoder) {
        this.service = service;
        this.limits = limits;
        this.encoder = encoder;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext context) {
        this.ctx = context;
        ChannelHandlerContext encoding =
                encoder == null ? null : context.pipeline().context(encoder);
        this.bytesOut = encoding != null ? encoding : context;
        this.bytesReachSocket = nothingOutboundBefore(context.pipeline(), this.bytesOut);
        if (context.channel().isActive()) {
            waitForRequest();
        }
    }

    /** Whether no handler before {@code at} (towards the socket) handles outbound events. */
    private static boolean nothingOutboundBefore(ChannelPipeline pipeline, ChannelHandlerContext at) {
        for (Map.Entry<String, ChannelHandler> entry : pipeline) {
            if (entry.getKey().equals(at.name())) {
                return true;
            }
            if (entry.getValue() instanceof ChannelOutboundHandler) {
                return false;
            }
        }
        return false;
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext context) {
        stopTimer(); // upgraded to HTTP/2: this connection's HTTP/1.1 timers no longer apply
        releasePending();
    }

    @Override
    public void channelActive(ChannelHandlerContext context) throws Exception {
        waitForRequest();
        super.channelActive(context);
    }

    // ---- reading ----------------------------------------------------------------------------

    @Override
    public void channelRead(ChannelHandlerContext context, Object msg) {
        if (!(msg instanceof HttpObject object) || closing) {
            ReferenceCountUtil.release(msg);
            return;
        }
        pending.add(object);
        process();
    }

    private void process() {
        if (processing) {
            return; // an answer given inside the loop below: the loop goes on with what is pending
        }
        processing = true;
        try {
            processPending();
        } finally {
            processing = false;
        }
        readIfWanted();
    }

    private void processPending() {
        while (!pending.isEmpty() && !closing) {
            HttpObject next = pending.peek();
            if (next instanceof io.netty.handler.codec.http.HttpRequest head) {
                if (exchangeActive) {
                    break; // pipelined: answered after the response in flight
                }
                pending.poll();
                startExchange(head);
                if (head instanceof LastHttpContent) {
                    ReferenceCountUtil.release(head);
                }
            } else {
                pending.poll();
                onContent((HttpContent) next);
            }
        }
    }

    private void readIfWanted() {
        if (closing || ctx == null) {
            return;
        }
        if (!exchangeActive) {
            if (pending.isEmpty()) {
                ctx.read();
            }
        } else if (readingBody) {
            StreamBody body = requestBody;
            if (body != null && body.wantsMore()) {
                demand();
            }
        } else if (pending.isEmpty()) {
            // The request is read whole and its response is in flight: one more read notices a
            // client that goes away (cancelling the handler) and buffers at most one read of a
            // pipelined request.
            ctx.read();
        }
    }

    private void startExchange(io.netty.handler.codec.http.HttpRequest head) {
        cancelTimer();
        ConnectionCap.busy(ctx().channel());
        responseStarted = false; // a new exchange: a rejection below answers it before closing
        if (head.decoderResult().isFailure()) {
            Throwable cause = head.decoderResult().cause();
            rejectAndClose(statusForDecoderFailure(cause), describe(cause));
            return;
        }
        HttpHeaders nettyHeaders = head.headers();
        if (nettyHeaders.size() > limits.maxHeaderCount()) {
            rejectAndClose(431, "more than " + limits.maxHeaderCount() + " header fields");
            return;
        }
        version = head.protocolVersion();
        Headers fields;
        int hosts = 0;
        try {
            Headers.Builder headers = Headers.builder(nettyHeaders.size());
            // The decoder's own entries, not a String view of each: no object per field.
            for (var it = nettyHeaders.iteratorCharSequence(); it.hasNext(); ) {
                Map.Entry<CharSequence, CharSequence> field = it.next();
                CharSequence name = field.getKey();
                if (HttpHeaderNames.HOST.contentEqualsIgnoreCase(name)) {
                    hosts++;
                }
                headers.add(name.toString(), field.getValue().toString());
            }
            fields = headers.build();
        } catch (IllegalArgumentException e) {
            rejectAndClose(400, e.getMessage());
            return;
        }
        if (hosts > 1) {
            rejectAndClose(400, "more than one Host header");
            return;
        }
        if (hosts == 0 && version.equals(HttpVersion.HTTP_1_1)) {
            rejectAndClose(400, "missing Host header");
            return;
        }
        long contentLength;
        try {
            contentLength = HttpUtil.getContentLength(head, -1L);
        } catch (NumberFormatException e) {
            rejectAndClose(400, "invalid Content-Length");
            return;
        }
        if (contentLength > limits.maxRequestBodyBytes()) {
            rejectAndClose(413, "request body larger than " + limits.maxRequestBodyBytes() + " bytes");
            return;
        }
        boolean endOfStream = head instanceof LastHttpContent;
        boolean hasBody = !endOfStream && (contentLength > 0 || HttpUtil.isTransferEncodingChunked(head));
        HttpRequest request;
        StreamBody body = null;
        try {
            var builder = HttpRequest.builder(HttpMethod.of(head.method().name()), head.uri())
                    .headers(fields);
            if (hasBody) {
                body = new StreamBody(ctx().executor(), contentLength, this);
                builder.body(body);
            }
            if (ctx().channel().remoteAddress() instanceof InetSocketAddress peer) {
                builder.attribute(HttpServer.REMOTE_ADDRESS, peer);
            }
            request = builder.build();
        } catch (IllegalArgumentException e) {
            rejectAndClose(400, e.getMessage());
            return;
        }
        exchangeActive = true;
        readingBody = !endOfStream;
        requestBody = body;
        bodyBytes = 0;
        isHead = request.method().equals(HttpMethod.HEAD);
        keepAlive = HttpUtil.isKeepAlive(head);
        expectContinue = hasBody && HttpUtil.is100ContinueExpected(head);
        long exchange = ++exchangeCount;
        CompletableFuture<HttpResponse> future = Futures.call(service, request);
        inflight = future;
        if (future.state() == Future.State.SUCCESS) {
            // Answered at once, as most handlers do: no callback and no task for the response.
            respond(exchange, future.resultNow(), null);
        } else {
            future.whenComplete((response, failure) -> onLoop(() -> respond(exchange, response, failure)));
        }
    }

    private void onContent(HttpContent content) {
        if (!readingBody) {
            content.release(); // the rest of a rejected request, or a stray after an error
            return;
        }
        if (content.decoderResult().isFailure()) {
            content.release();
            String reason =
                    "malformed body: " + describe(content.decoderResult().cause());
            rejectAndClose(400, reason); // first, so the handler's failure that follows is ignored
            failRequestBody(new BadRequestException(reason));
            return;
        }
        ByteBuf data = content.content();
        bodyBytes += data.readableBytes();
        if (bodyBytes > limits.maxRequestBodyBytes()) {
            content.release();
            rejectAndClose(413, "request body larger than " + limits.maxRequestBodyBytes() + " bytes");
            failRequestBody(new BodyTooLargeException(limits.maxRequestBodyBytes()));
            return;
        }
        StreamBody body = requestBody;
        boolean last = content instanceof LastHttpContent;
        if (body == null || body.finished()) {
            content.release();
        } else if (data.isReadable()) {
            body.offer(data); // ownership of the content's buffer passes to the body
        } else {
            content.release();
        }
        if (last) {
            readingBody = false;
            if (body != null) {
                body.end(trailersOf((LastHttpContent) content));
            }
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

    /** The request body's subscriber wants more: read (after a 100 Continue if one is owed). */
    @Override
    public void demand() {
        if (closing || ctx == null) {
            return;
        }
        if (expectContinue) {
            expectContinue = false;
            write(
                    new DefaultFullHttpResponse(
                            HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE, Unpooled.EMPTY_BUFFER),
                    true);
        }
        ctx.read();
    }

    /** The request body was cancelled or discarded before its end. */
    @Override
    public void cancelled() {
        // HTTP/1.1 cannot find the next request without reading this body to the end: close after
        // the response.
        closeAfter = true;
    }

    @Override
    public void headStarted() {
        if (!exchangeActive && !timingHead && ctx != null) {
            timingHead = true;
            // A header-read timeout no shorter than the idle timeout would only extend the wait:
            // then the idle deadline, running since the last answer, bounds the head too.
            if (limits.headerReadTimeout().compareTo(limits.idleTimeout()) < 0) {
                arm(limits.headerReadTimeout(), onHeaderReadTimeout);
            }
        }
    }

    private void waitForRequest() {
        idle();
        readIfWanted();
    }

    /** Between requests: the idle timeout runs and the connection may be taken by the cap. */
    private void idle() {
        ConnectionCap.waiting(ctx().channel());
        timingHead = false;
        arm(limits.idleTimeout(), onIdleTimeout);
    }

    private void idleTimedOut() {
        if (!exchangeActive && !closing) {
            closing = true;
            ctx().close();
        }
    }

    private void headerReadTimedOut() {
        if (!exchangeActive && !closing) {
            rejectAndClose(408, "request headers not received within " + limits.headerReadTimeout());
        }
    }

    // ---- writing ----------------------------------------------------------------------------

    private void respond(long exchange, @Nullable HttpResponse response, @Nullable Throwable failure) {
        if (exchange != exchangeCount
                || inflight == null
                || closing
                || !ctx().channel().isActive()) {
            if (response != null) {
                response.body().discard();
            }
            return;
        }
        inflight = null;
        HttpResponse answer = FailureStatus.answer(response, failure, LOG);
        StreamBody body = requestBody;
        if (body != null && !body.finished() && !body.hasSubscriber() && answer.body() != body) {
            body.discard(); // the handler answered without reading it (nor sending it back)
        }
        if (expectContinue) {
            expectContinue = false; // never asked for: the client may or may not send it now
            closeAfter = true;
        }
        writeHead(answer);
    }

    private void writeHead(HttpResponse response) {
        int status = response.status();
        boolean noBody = isHead || status == 204 || status == 304 || status < 200;
        if (noBody || response.body() instanceof FixedBody) {
            writeWhole(response, status, noBody);
            return;
        }
        // A streamed body (a status that may have one, not a HEAD): the head through Netty's encoder,
        // then the body chunk by chunk as the client reads it.
        CharSequence[] added =
                connectionFields(response.headers(), status, response.body().contentLength());
        HttpHeaders out = RESPONSE_HEADERS.newHeaders();
        response.headers().forEach((name, value) -> {
            if (!connectionSpecific(name)) {
                out.add(WireText.of(name), WireText.of(value));
            }
        });
        for (int i = 0; i < added.length; i += 2) {
            if (added[i] != null) {
                out.add(added[i], added[i + 1]);
            }
        }
        responseStarted = true;
        write(new DefaultHttpResponse(version, HttpResponseStatus.valueOf(status), out), false);
        BodyWriter bodyWriter = new BodyWriter(ctx(), response.body(), responseBodies, false);
        writer = bodyWriter;
        bodyWriter.start();
        if (!bodyWriter.wroteSinceFlush()) {
            ctx().flush(); // the body is slow to start: let the client see the head now
        }
    }

    /**
     * The fields the connection adds to a response's own, as name-value pairs (null where none): the
     * framing (its {@code content-length}, else chunked on HTTP/1.1, else none and the close ends
     * the body) unless the handler set a length or the status has no body, and {@code connection:
     * close} when the connection closes after this answer ({@code keep-alive} for HTTP/1.0 when it
     * does not). Marks the connection to close when it must.
     */
    private CharSequence[] connectionFields(Headers fields, int status, long length) {
        CharSequence[] added = new CharSequence[4];
        if (!fields.contains("content-length") && status != 204 && status != 304 && status >= 200) {
            if (length >= 0) {
                added[0] = HttpHeaderNames.CONTENT_LENGTH;
                added[1] = ContentLengths.of(length);
            } else if (version.equals(HttpVersion.HTTP_1_1)) {
                added[0] = HttpHeaderNames.TRANSFER_ENCODING;
                added[1] = HttpHeaderValues.CHUNKED;
            } else {
                keepAlive = false; // HTTP/1.0: the close delimits the body
            }
        }
        if (!keepAlive || closeAfter || draining) {
            closeAfter = true;
            added[2] = HttpHeaderNames.CONNECTION;
            added[3] = HttpHeaderValues.CLOSE;
        } else if (version.equals(HttpVersion.HTTP_1_0)) {
            added[2] = HttpHeaderNames.CONNECTION;
            added[3] = HttpHeaderValues.KEEP_ALIVE;
        }
        return added;
    }

    /**
     * A response with no body, or one held in memory: the head and the body are laid out as bytes
     * ({@link WholeResponse}), with the connection's fields from {@link #connectionFields} as for a
     * streamed one, and written with one flush, from before the encoder.
     */
    private void writeWhole(HttpResponse response, int status, boolean noBody) {
        byte[] body = NO_BYTES;
        if (noBody) {
            response.body().discard();
        } else {
            body = ((FixedBody) response.body()).bytes();
        }
        Headers fields = response.headers();
        CharSequence[] added =
                connectionFields(fields, status, noBody ? response.body().contentLength() : body.length);
        responseStarted = true;
        // No framing field at all on a 1xx or 204 (RFC 9110, 8.6), as Netty's encoder strips it.
        Predicate<String> skip = status < 200 || status == 204
                ? name -> connectionSpecific(name) || name.equals("content-length")
                : ServerHandler::connectionSpecific;
        ByteBuf head = WholeResponse.head(ctx().alloc(), version, status, fields, skip, added, body);
        ChannelHandlerContext bytesOut = Objects.requireNonNull(this.bytesOut, "handler not added to a pipeline");
        if (body.length > WholeResponse.COPY_LIMIT) {
            bytesOut.write(head, bytesOut.voidPromise());
            writeLast(bytesOut, Unpooled.wrappedBuffer(body));
        } else {
            writeLast(bytesOut, head);
        }
    }

    /**
     * Writes and flushes the last bytes of a response and ends the exchange once the kernel has
     * them. Most writes go to the socket at once: then the exchange ends here, with no promise and no
     * listener. Otherwise (the socket's buffer full, or an outbound handler in between) it ends when
     * the write completes; a failed write ends it as failed (the connection closes).
     */
    private void writeLast(ChannelHandlerContext out, ByteBuf last) {
        if (bytesReachSocket) {
            // A failure here also reaches exceptionCaught through the void promise, which closes.
            out.writeAndFlush(last, out.voidPromise());
            ChannelOutboundBuffer buffered = out.channel().unsafe().outboundBuffer();
            if (buffered == null || !out.channel().isActive()) {
                exchangeDone(false);
                return;
            }
            if (buffered.totalPendingWriteBytes() == 0) {
                exchangeDone(true);
                return;
            }
            // Still buffered: an empty write completes once every byte before it is written.
            last = Unpooled.EMPTY_BUFFER;
        }
        out.writeAndFlush(last).addListener((ChannelFutureListener) f -> exchangeDone(f.isSuccess()));
    }

    private static boolean connectionSpecific(String name) {
        return name.equals("connection") || name.equals("transfer-encoding") || name.equals("keep-alive");
    }

    private void finishResponse(HttpObject last) {
        ChannelFuture written = ctx().writeAndFlush(last);
        written.addListener((ChannelFutureListener) f -> exchangeDone(f.isSuccess()));
    }

    private void exchangeDone(boolean written) {
        writer = null;
        if (!exchangeActive) {
            return;
        }
        exchangeActive = false;
        StreamBody body = requestBody;
        requestBody = null;
        boolean bodyUnread = readingBody;
        if (bodyUnread && body != null && !body.finished()) {
            if (body.hasSubscriber()) {
                // A handler still reading the body: nothing more of it will be read, so it hears
                // that, and chunks it has not asked for yet are released.
                body.fail(
                        new ConnectionClosedException(
                                "the response was complete before the request body was read whole; the rest of the body is not read"));
            } else {
                body.discard();
            }
        }
        if (written && closeAfter && bodyUnread && body != null) {
            // Answered before the request body was read whole, and the client may still be sending
            // it: a plain close would reset the connection under the client's upload, and the reset
            // can destroy the response before the client reads it. Half-close and drain instead.
            closing = true;
            stopTimer();
            releasePending();
            LingeringClose.closeAfterResponse(ctx().channel(), limits);
            return;
        }
        if (!written || closeAfter) {
            closing = true;
            ctx().close();
            return;
        }
        readingBody = false;
        idle();
        process(); // the next pipelined request, or one read for it
    }

    private void abortResponse(Throwable cause) {
        LOG.log(System.Logger.Level.DEBUG, "response body failed after its head was sent; closing", cause);
        failRequestBody(new ConnectionClosedException("response aborted"));
        exchangeActive = false;
        closing = true;
        ctx().close(); // the client sees a truncated body
    }

    /** Answers {@code status} with a short text and closes, abandoning any exchange in flight. */
    private void rejectAndClose(int status, @Nullable String reason) {
        closing = true;
        stopTimer();
        CompletableFuture<HttpResponse> future = inflight;
        inflight = null;
        if (future != null) {
            future.cancel(false);
        }
        releasePending();
        if (responseStarted || !ctx().channel().isActive()) {
            ctx().close();
            return;
        }
        responseStarted = true;
        String text = HttpResponseStatus.valueOf(status).reasonPhrase() + (reason == null ? "" : ": " + reason) + "\n";
        var response = new DefaultFullHttpResponse(
                version, HttpResponseStatus.valueOf(status), Unpooled.copiedBuffer(text, StandardCharsets.UTF_8));
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, HttpResponse.TEXT_UTF8)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
        response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        // A client told 413 is most likely still uploading, as is one whose body broke mid-way: close
        // lingering, so the answer is not lost to a reset (see LingeringClose).
        boolean linger = status == 413 || readingBody;
        ctx().writeAndFlush(response).addListener((ChannelFutureListener) f -> {
            if (linger && f.isSuccess()) {
                LingeringClose.closeAfterResponse(f.channel(), limits);
            } else {
                f.channel().close();
            }
        });
    }

    private void write(Object message, boolean flush) {
        ChannelFuture future = flush ? ctx().writeAndFlush(message) : ctx().write(message);
        future.addListener(ChannelFutureListener.FIRE_EXCEPTION_ON_FAILURE);
    }

    // ---- lifecycle --------------------------------------------------------------------------

    @Override
    public void userEventTriggered(ChannelHandlerContext context, Object event) throws Exception {
        if (event == Signal.DRAIN) {
            draining = true;
            if (!exchangeActive && !closing) {
                closing = true;
                context.close();
            }
            return;
        }
        super.userEventTriggered(context, event);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext context) throws Exception {
        BodyWriter bodyWriter = writer;
        if (bodyWriter != null && context.channel().isWritable()) {
            bodyWriter.resume();
        }
        super.channelWritabilityChanged(context);
    }

    @Override
    public void channelInactive(ChannelHandlerContext context) throws Exception {
        closing = true;
        stopTimer();
        releasePending();
        failRequestBody(new ConnectionClosedException("the client closed the connection"));
        CompletableFuture<HttpResponse> future = inflight;
        inflight = null;
        if (future != null) {
            future.cancel(false); // the client is gone: cancel the handler's work
        }
        BodyWriter bodyWriter = writer;
        writer = null;
        if (bodyWriter != null) {
            bodyWriter.cancel();
        }
        super.channelInactive(context);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
        LOG.log(System.Logger.Level.DEBUG, "closing connection after an error", cause);
        closing = true;
        context.close();
    }

    private void failRequestBody(Throwable cause) {
        StreamBody body = requestBody;
        if (body != null && readingBody) {
            readingBody = false;
            body.fail(cause);
        }
    }

    private void releasePending() {
        HttpObject object;
        while ((object = pending.poll()) != null) {
            ReferenceCountUtil.release(object);
        }
    }

    // One deadline at a time (idle, or reading a request head), checked by a timer that is moved
    // lazily: arming a deadline no earlier than the scheduled timer keeps that timer, which on firing
    // sees the later deadline and schedules itself again. A busy keep-alive connection thus
    // schedules and cancels nothing per request (it scheduled two timers and cancelled two before).
    private void arm(Duration delay, Runnable action) {
        long now = ctx().executor().ticker().nanoTime();
        deadline = now + delay.toNanos();
        deadlineAction = action;
        if (timer == null || deadline - timerAt < 0) {
            stopScheduled();
            schedule(now, deadline - now);
        }
    }

    private void schedule(long now, long delayNanos) {
        timerAt = now + delayNanos;
        timer = ctx().executor().schedule(onTimer, delayNanos, TimeUnit.NANOSECONDS);
    }

    /** Disarms the deadline; a timer already scheduled stays, finds nothing to do, and ends. */
    private void cancelTimer() {
        deadlineAction = null;
    }

    /** Disarms the deadline and cancels the timer: for a connection that is going away. */
    private void stopTimer() {
        deadlineAction = null;
        stopScheduled();
    }

    private void stopScheduled() {
        ScheduledFuture<?> current = timer;
        timer = null;
        if (current != null) {
            current.cancel(false);
        }
    }

    private void timerFired() {
        timer = null;
        Runnable action = deadlineAction;
        if (action == null || ctx == null) {
            return;
        }
        long now = ctx.executor().ticker().nanoTime();
        if (deadline - now > 0) {
            schedule(now, deadline - now); // moved later since this timer was scheduled
            return;
        }
        deadlineAction = null;
        action.run();
    }

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

    private static int statusForDecoderFailure(@Nullable Throwable cause) {
        if (cause instanceof TooLongHttpLineException) {
            return 414;
        }
        if (cause instanceof TooLongHttpHeaderException || cause instanceof TooLongFrameException) {
            return 431;
        }
        return 400;
    }

    private static String describe(@Nullable Throwable cause) {
        if (cause == null) {
            return "malformed request";
        }
        String message = cause.getMessage();
        return message == null ? cause.getClass().getSimpleName() : message;
    }

    /** Response bodies report here: each connection has one, and one body is written at a time. */
    private final class ResponseBodies implements BodyWriter.Owner {
        @Override
        public boolean isCurrent(BodyWriter bodyWriter) {
            return writer == bodyWriter;
        }

        @Override
        public void chunkFailed(BodyWriter bodyWriter, @Nullable Throwable cause) {
            bodyWriter.cancel(); // the connection is failing: its close ends the exchange
        }

        @Override
        public void bodyFailed(BodyWriter bodyWriter, Throwable failure) {
            writer = null;
            abortResponse(failure);
        }

        @Override
        public void bodyEnded(BodyWriter bodyWriter, LastHttpContent last) {
            finishResponse(last);
        }
    }
}
