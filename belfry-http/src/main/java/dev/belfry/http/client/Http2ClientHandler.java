package dev.belfry.http.client;

import dev.belfry.http.Body;
import dev.belfry.http.ConnectionClosedException;
import dev.belfry.http.FixedBody;
import dev.belfry.http.Headers;
import dev.belfry.http.HttpMethod;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.http.internal.BodyWriter;
import dev.belfry.http.internal.Http2FrameHandler;
import dev.belfry.http.internal.StreamBody;
import dev.belfry.http.internal.WireText;
import dev.belfry.time.Clock;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2FrameStreamEvent;
import io.netty.handler.codec.http2.Http2FrameStreamException;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.collection.IntObjectHashMap;
import io.netty.util.concurrent.EventExecutor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;

/**
 * Runs every stream of one h2c connection from the connection's own pipeline, right after Netty's
 * frame codec: a request goes out as one HEADERS frame built from Belfry's {@link HttpRequest} (and
 * its body as DATA frames), the response's HEADERS become a Belfry {@link HttpResponse} whose body
 * the DATA frames feed. No channel per stream and no detour through HTTP/1 objects.
 *
 * <p>It is also the connection's control end: the server's SETTINGS make the connection ready in
 * the {@link Pool} (with the server's stream limit as its capacity), a GOAWAY stops new streams on
 * it, and each stream's slot is given back to the pool when Netty closes the stream (or when it
 * could never be opened), exactly once.
 *
 * <p>Flow control follows the response body's demand: the bytes of a DATA frame are given back to
 * the server (a WINDOW_UPDATE) once the body's subscriber wants more, so a caller that does not read
 * holds the server to one stream window. A request body is written while its stream is writable
 * (the server's window and the socket) and paused otherwise.
 *
 * <p>Writes made while the connection is being read are flushed once when the read ends; requests
 * dispatched from other threads are queued and written by one event-loop task, with one flush for
 * all of them. Event-loop confined otherwise: futures, timers and publishers hop back to it.
 *
 * <p>Buffers: each request chunk passes to Netty's write (which releases it); each response DATA
 * buffer passes to the {@link StreamBody}, which owns it from then on; every other frame is
 * released here.
 */
final class Http2ClientHandler extends Http2FrameHandler {
    private static final System.Logger LOG = System.getLogger(Http2ClientHandler.class.getName());
    private static final AsciiString HTTP = AsciiString.cached("http");
    private static final AsciiString CONTENT_LENGTH = AsciiString.cached("content-length");

    private final Settings settings;
    private final Connection connection;
    private final Clock clock;
    private final AsciiString authority;
    /** Exchanges whose stream was opened, by stream id, until Netty closes the stream. */
    private final IntObjectHashMap<Exchange> exchanges = new IntObjectHashMap<>();
    /** The exchanges' timeouts, with one clock timer for the connection. */
    private final Deadlines deadlines;
    /** Requests dispatched from other threads, written by one event-loop task. */
    private final Queue<Exchange> queued = new ConcurrentLinkedQueue<>();

    private final AtomicBoolean drainScheduled = new AtomicBoolean();
    private final Runnable drain = this::drainQueued;

    private int capacity = Pool.UNLIMITED_STREAMS;
    private boolean goAwayTold;

    Http2ClientHandler(Settings settings, Connection connection, Http2FrameCodec codec) {
        super(codec);
        this.settings = settings;
        this.connection = connection;
        this.clock = settings.clock();
        this.authority = new AsciiString(settings.authority());
        this.deadlines = new Deadlines(clock, this::onLoop);
    }

    @Override
    public void channelActive(ChannelHandlerContext context) throws Exception {
        // Open the connection window beyond HTTP/2's 64 KiB default, so one stream's unread bytes do
        // not stall the others; each stream's own window still follows its body's demand.
        Http2Connection conn = codec.connection();
        int current = conn.local().flowController().windowSize(conn.connectionStream());
        conn.local().flowController().incrementWindowSize(conn.connectionStream(), Pool.CONNECTION_WINDOW - current);
        super.channelActive(context);
    }

    // ---- dispatching ------------------------------------------------------------------------

    /**
     * Starts {@code request} on a new stream (its slot already taken in the pool) and completes
     * {@code result} with the response. From any thread: off the event loop it is queued, and one
     * task writes every request queued meanwhile with one flush.
     */
    void dispatch(HttpRequest request, CompletableFuture<HttpResponse> result) {
        Exchange exchange = new Exchange(request, result);
        ChannelHandlerContext context = ctx();
        if (context.executor().inEventLoop()) {
            exchange.start();
            flushSoon();
            return;
        }
        queued.add(exchange);
        if (drainScheduled.compareAndSet(false, true)) {
            context.executor().execute(drain);
        }
    }

    private void drainQueued() {
        drainScheduled.set(false);
        boolean wrote = false;
        Exchange exchange;
        while ((exchange = queued.poll()) != null) {
            exchange.start();
            wrote = true;
        }
        if (wrote) {
            flushSoon();
        }
    }

    // ---- reading ----------------------------------------------------------------------------

    @Override
    protected void read(Object msg) {
        if (msg instanceof Http2DataFrame data) {
            Exchange exchange = exchanges.get(data.stream().id());
            if (exchange != null) {
                exchange.onData(data);
            } else {
                int credit = data.initialFlowControlledBytes();
                Http2FrameStream stream = data.stream();
                data.release();
                consume(stream, credit);
            }
        } else if (msg instanceof Http2HeadersFrame headers) {
            Exchange exchange = exchanges.get(headers.stream().id());
            if (exchange != null) {
                exchange.onHeaders(headers);
            }
        } else if (msg instanceof Http2ResetFrame reset) {
            Exchange exchange = exchanges.get(reset.stream().id());
            if (exchange != null) {
                exchange.onReset(reset.errorCode());
            }
        } else {
            try {
                if (msg instanceof Http2SettingsFrame frame) {
                    Long max = frame.settings().maxConcurrentStreams();
                    if (max != null) { // a later SETTINGS without the field keeps the limit
                        capacity = (int) Math.min(max, Integer.MAX_VALUE);
                    }
                    connection.pool.ready(connection, capacity);
                } else if (msg instanceof Http2GoAwayFrame) {
                    // Netty has closed the streams above its last stream id (they fail as never
                    // processed); the rest run to their end, and the pool opens no more here.
                    goAway();
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }
    }

    private void goAway() {
        if (!goAwayTold) {
            goAwayTold = true;
            connection.pool.goAway(connection);
        }
    }

    // ---- lifecycle --------------------------------------------------------------------------

    @Override
    public void userEventTriggered(ChannelHandlerContext context, Object event) throws Exception {
        if (event instanceof Http2FrameStreamEvent streamEvent) {
            Http2FrameStream stream = streamEvent.stream();
            Exchange exchange = exchanges.get(stream.id());
            if (exchange != null) {
                if (streamEvent.type() == Http2FrameStreamEvent.Type.Writability) {
                    exchange.writabilityChanged();
                } else if (stream.state() == Http2Stream.State.CLOSED) {
                    exchanges.remove(stream.id());
                    if (codec.connection().goAwayReceived()) {
                        // Netty closes the streams above a GOAWAY's last stream id before the GOAWAY
                        // frame reaches this handler: tell the pool first, so the freed slot is not
                        // handed to a waiter on a connection that opens no more streams.
                        goAway();
                    }
                    exchange.streamClosed();
                }
            }
            return;
        }
        super.userEventTriggered(context, event);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
        if (cause instanceof Http2FrameStreamException streamError) {
            // One stream broke the protocol (Netty resets nothing for a stream it handed up).
            Http2FrameStream stream = streamError.stream();
            LOG.log(System.Logger.Level.DEBUG, "resetting a stream after a protocol error", cause);
            Exchange exchange = exchanges.get(stream.id());
            if (exchange != null) {
                exchange.fail(
                        new ConnectionClosedException(
                                settings.origin() + ": malformed response: " + describe(streamError.getCause())),
                        streamError.error());
            } else {
                reset(stream, streamError.error());
            }
            return;
        }
        if (Http2CodecUtil.getEmbeddedHttp2Exception(cause) != null) {
            // A connection error: the codec shows it here first, then sends GOAWAY with its code and
            // closes; a close from here would send GOAWAY NO_ERROR before it. Every stream fails
            // when the connection closes.
            LOG.log(System.Logger.Level.DEBUG, "HTTP/2 connection error; the codec closes the connection", cause);
            return;
        }
        LOG.log(System.Logger.Level.DEBUG, "closing the HTTP/2 connection after an error", cause);
        context.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext context) throws Exception {
        // Netty closes every stream when the connection goes (each one's CLOSED event comes first);
        // anything still here, or still queued, never had a stream to close.
        drainQueued();
        deadlines.close();
        if (!exchanges.isEmpty()) {
            List<Exchange> open = new ArrayList<>(exchanges.values());
            exchanges.clear();
            for (Exchange exchange : open) {
                exchange.streamClosed();
            }
        }
        super.channelInactive(context);
    }

    // ---- writing ----------------------------------------------------------------------------

    private static String describe(@Nullable Throwable cause) {
        if (cause == null) {
            return "unknown error";
        }
        String message = cause.getMessage();
        return message == null ? cause.getClass().getSimpleName() : message;
    }

    private static boolean is(HttpMethod method, HttpMethod known) {
        return method.name().equals(known.name()); // cheaper than the record's generated equals
    }

    private static boolean expectsBody(HttpMethod method) {
        return is(method, HttpMethod.POST) || is(method, HttpMethod.PUT) || is(method, HttpMethod.PATCH);
    }

    private static final AsciiString GET = AsciiString.cached("GET");
    private static final AsciiString POST = AsciiString.cached("POST");

    /** The method's name; the common ones as constants the HPACK encoder need not copy. */
    private static CharSequence methodName(HttpMethod method) {
        String name = method.name();
        return switch (name) {
            case "GET" -> GET;
            case "POST" -> POST;
            default -> name;
        };
    }

    private static boolean connectionSpecific(String name) {
        return switch (name) {
            case "connection", "transfer-encoding", "keep-alive", "upgrade", "proxy-connection", "host" -> true;
            default -> false;
        };
    }

    /**
     * One request and its response on one stream. {@code active} until the exchange ends (the
     * response read whole and the request written whole, or a failure); the pool's slot is freed
     * separately, once, when the stream closes or could not be opened.
     */
    private final class Exchange extends Deadlines.Deadline
            implements StreamBody.Source, BodyWriter.Owner, BodyWriter.Sink {
        private final HttpRequest request;
        private final CompletableFuture<HttpResponse> result;
        private final boolean isHead;
        private final Http2FrameStream stream = newStream();

        private boolean active;
        private boolean slotFreed;
        private boolean requestDone;
        // The server reset the stream with NO_ERROR: it wants no more of the request body.
        private boolean requestStopped;
        private boolean headReceived;
        private boolean responseDone;
        private @Nullable StreamBody body;
        private int owedCredit; // bytes of DATA delivered to the body and not yet given back
        private @Nullable BodyWriter writer;
        private boolean timingHeaders;
        private long lastProgress;

        Exchange(HttpRequest request, CompletableFuture<HttpResponse> result) {
            this.request = request;
            this.result = result;
            this.isHead = is(request.method(), HttpMethod.HEAD);
        }

        // ---- starting ----

        void start() {
            ChannelHandlerContext context = ctx();
            Http2Connection conn = codec.connection();
            if (result.isDone()) {
                freeSlot(); // cancelled by its caller while it waited for the event loop: never sent
                return;
            }
            if (!context.channel().isActive()) {
                // The server closed the connection before a byte of the request was written.
                notOpened("the connection was closed before the request was written");
                return;
            }
            if (conn.goAwayReceived()) {
                notOpened("the server sent GOAWAY before the request's stream was opened");
                return;
            }
            if (!conn.local().canOpenStream()) {
                notOpened("could not open an HTTP/2 stream: the server's stream limit is reached");
                return;
            }
            active = true;
            result.whenComplete((r, f) -> {
                if (result.isCancelled()) {
                    onLoop(this::cancelledByCaller);
                }
            });
            Body requestBody = request.body();
            ChannelFuture head;
            if (requestBody instanceof FixedBody fixed && fixed.bytes().length == 0) {
                // No body: the head alone, ending the stream.
                head = context.write(new DefaultHttp2HeadersFrame(headers(0), true).stream(stream));
                head.addListener((ChannelFutureListener) f -> {
                    if (f.isSuccess()) {
                        requestWritten();
                    } else {
                        headFailed(f.cause());
                    }
                });
                opened();
            } else if (requestBody instanceof FixedBody fixed) {
                // Held in memory: the head and the whole body in one flush and no subscription, as
                // two frames, so a failure of the body (once the head may have reached the server)
                // is never taken for a request that was certainly not sent.
                byte[] bytes = fixed.bytes();
                head = context.write(new DefaultHttp2HeadersFrame(headers(bytes.length), false).stream(stream));
                head.addListener((ChannelFutureListener) f -> {
                    if (!f.isSuccess()) {
                        headFailed(f.cause());
                    }
                });
                if (!opened()) {
                    return;
                }
                context.write(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(bytes), true).stream(stream))
                        .addListener((ChannelFutureListener) f -> {
                            if (f.isSuccess()) {
                                requestWritten();
                            } else {
                                writeFailed(f.cause());
                            }
                        });
            } else {
                head = context.write(
                        new DefaultHttp2HeadersFrame(headers(requestBody.contentLength()), false).stream(stream));
                head.addListener((ChannelFutureListener) f -> {
                    if (!f.isSuccess()) {
                        headFailed(f.cause());
                    }
                });
                if (!opened()) {
                    return;
                }
                armBodyIdle();
                BodyWriter w = new BodyWriter(this, requestBody, this, true);
                writer = w;
                w.start();
            }
        }

        /**
         * After the head's write: keeps the exchange by its new stream's id until the stream closes
         * (whose event frees the slot); false if the exchange already failed.
         */
        private boolean opened() {
            int id = stream.id();
            if (id > 0 && !slotFreed && codec.connection().stream(id) != null) {
                exchanges.put(id, this);
            }
            return active && id > 0;
        }

        private Http2Headers headers(long length) {
            Headers fields = request.headers();
            DefaultHttp2Headers out = new DefaultHttp2Headers(false, fields.size() + 5);
            out.method(methodName(request.method()));
            out.scheme(HTTP);
            String host = fields.get("host");
            out.authority(host != null ? host : authority);
            out.path(request.target());
            boolean hasLength = false;
            for (Map.Entry<String, String> field : fields) {
                String name = field.getKey();
                if (connectionSpecific(name)) {
                    continue;
                }
                if (name.equals("te") && !field.getValue().equalsIgnoreCase("trailers")) {
                    continue; // RFC 9113 section 8.2.2: TE may only say "trailers"
                }
                hasLength |= name.equals("content-length");
                out.add(WireText.of(name), WireText.of(field.getValue()));
            }
            if (!hasLength && (length > 0 || (length == 0 && expectsBody(request.method())))) {
                out.setLong(CONTENT_LENGTH, length);
            }
            return out;
        }

        /** The stream could not be opened: nothing was sent; the slot is free at once. */
        private void notOpened(String why) {
            active = false;
            freeSlot();
            result.completeExceptionally(new NotSentException(settings.origin() + ": " + why));
        }

        private void headFailed(@Nullable Throwable cause) {
            if (!active || headReceived) {
                return;
            }
            fail(new NotSentException(settings.origin() + ": the request could not be written: " + describe(cause)));
            Http2Stream http2 = stream.id() > 0 ? codec.connection().stream(stream.id()) : null;
            if (http2 == null) {
                // The stream never came to be (or is gone already): no CLOSED event will free its slot.
                exchanges.remove(stream.id());
                freeSlot();
            }
        }

        private void requestWritten() {
            if (!active) {
                return;
            }
            requestDone = true;
            if (!headReceived) {
                armHeaders();
            }
            finishIfDone();
        }

        private void writeFailed(@Nullable Throwable cause) {
            if (active && !requestStopped) {
                fail(new ConnectionClosedException(
                        settings.origin() + ": the request could not be written whole: " + describe(cause)));
            }
        }

        // ---- reading ----

        void onHeaders(Http2HeadersFrame frame) {
            if (!active) {
                return;
            }
            Http2Headers fields = frame.headers();
            if (headReceived) {
                onTrailers(frame);
                return;
            }
            CharSequence statusText = fields.status();
            int status;
            try {
                status = statusText == null ? -1 : Integer.parseInt(statusText.toString());
            } catch (NumberFormatException e) {
                status = -1;
            }
            if (status < 100 || status > 999) {
                fail(
                        new ConnectionClosedException(
                                settings.origin() + ": malformed response: :status " + statusText),
                        Http2Error.PROTOCOL_ERROR);
                return;
            }
            if (status < 200) {
                if (frame.isEndStream()) {
                    fail(
                            new ConnectionClosedException(
                                    settings.origin() + ": malformed response: an informational head ends the stream"),
                            Http2Error.PROTOCOL_ERROR);
                }
                return; // 100 Continue, 103 Early Hints: the real response follows
            }
            long length = -1;
            HttpResponse response;
            StreamBody responseBody;
            try {
                Headers.Builder headers = Headers.builder();
                for (Map.Entry<CharSequence, CharSequence> field : fields) {
                    CharSequence name = field.getKey();
                    if (name.length() > 0 && name.charAt(0) == ':') {
                        continue;
                    }
                    if (CONTENT_LENGTH.contentEqualsIgnoreCase(name)) {
                        length = Long.parseLong(field.getValue().toString());
                    }
                    headers.add(name.toString(), field.getValue().toString());
                }
                if (isHead || status == 204 || status == 304 || frame.isEndStream()) {
                    length = 0;
                }
                responseBody = new StreamBody(ctx().executor(), length, this);
                response = HttpResponse.status(status)
                        .headers(headers.build())
                        .body(responseBody)
                        .build();
            } catch (IllegalArgumentException e) { // NumberFormatException included
                fail(
                        new ConnectionClosedException(settings.origin() + ": malformed response: " + e.getMessage()),
                        Http2Error.PROTOCOL_ERROR);
                return;
            }
            headReceived = true;
            body = responseBody;
            armBodyIdle();
            if (frame.isEndStream()) {
                responseEnded(responseBody, Headers.empty());
            }
            if (!result.complete(response)) {
                responseBody.discard(); // the caller gave up: the stream is reset (cancelled() below)
            }
        }

        private void onTrailers(Http2HeadersFrame frame) {
            StreamBody b = body;
            if (b == null || responseDone) {
                return;
            }
            if (!frame.isEndStream()) {
                fail(
                        new ConnectionClosedException(
                                settings.origin() + ": malformed response: trailers without END_STREAM"),
                        Http2Error.PROTOCOL_ERROR);
                return;
            }
            Headers trailers;
            try {
                Headers.Builder builder = Headers.builder();
                for (Map.Entry<CharSequence, CharSequence> field : frame.headers()) {
                    builder.add(field.getKey().toString(), field.getValue().toString());
                }
                trailers = builder.build();
            } catch (IllegalArgumentException e) {
                fail(
                        new ConnectionClosedException(settings.origin() + ": malformed trailers: " + e.getMessage()),
                        Http2Error.PROTOCOL_ERROR);
                return;
            }
            responseEnded(b, trailers);
        }

        void onData(Http2DataFrame frame) {
            int credit = frame.initialFlowControlledBytes();
            StreamBody b = body;
            if (!active || b == null || responseDone) {
                frame.release(); // a stream abandoned, or DATA before HEADERS (the codec rejects that)
                consume(stream, credit);
                return;
            }
            ByteBuf data = frame.content();
            if (data.isReadable() && !b.finished()) {
                lastProgress = clock.nanoTime();
                b.offer(data); // the body owns the frame's buffer now
                owedCredit += credit;
            } else {
                frame.release();
                if (b.cancelled()) {
                    consume(stream, credit); // nobody will read it: keep the windows open
                } else {
                    owedCredit += credit;
                }
            }
            if (frame.isEndStream()) {
                responseEnded(b, Headers.empty());
            } else if (b.wantsMore()) {
                demand();
            }
        }

        private void responseEnded(StreamBody b, Headers trailers) {
            responseDone = true;
            finishIfDone();
            b.end(trailers);
        }

        void onReset(long errorCode) {
            if (!active) {
                return;
            }
            if (errorCode == Http2Error.NO_ERROR.code()) {
                // RFC 9113 section 8.1: the server sent a complete response before the whole
                // request and asks for no more of it: stop writing; the response stands.
                stopWritingRequest();
                if (!responseDone) {
                    fail(
                            new ConnectionClosedException(settings.origin()
                                    + ": the server reset the stream (NO_ERROR) before its response ended"),
                            null);
                }
                return;
            }
            // Never a reset in answer to a reset (RFC 9113 section 5.4.2): Netty closes the stream.
            if (errorCode == Http2Error.REFUSED_STREAM.code() && !headReceived) {
                fail(
                        new NotSentException(settings.origin() + ": the server refused the stream (REFUSED_STREAM)"),
                        null);
                return;
            }
            Http2Error error = Http2Error.valueOf(errorCode);
            fail(
                    new ConnectionClosedException(settings.origin() + ": the server reset the stream ("
                            + (error == null ? "error " + errorCode : error.name()) + ")"),
                    null);
        }

        private void stopWritingRequest() {
            requestStopped = true;
            BodyWriter w = writer;
            writer = null;
            if (w != null) {
                w.cancel();
            }
            requestDone = true;
            finishIfDone();
        }

        /** The response body's subscriber wants more and nothing is queued: give back what it read. */
        @Override
        public void demand() {
            lastProgress = clock.nanoTime();
            int credit = owedCredit;
            owedCredit = 0;
            consume(stream, credit);
        }

        /** The response body was cancelled or discarded before its end: the exchange is abandoned. */
        @Override
        public void cancelled() {
            int credit = owedCredit;
            owedCredit = 0;
            if (!active || responseDone) {
                consume(stream, credit);
                return;
            }
            endExchange();
            reset(stream, Http2Error.CANCEL);
        }

        private void cancelledByCaller() {
            if (active && !headReceived) {
                endExchange();
                reset(stream, Http2Error.CANCEL);
            }
        }

        // ---- ending ----

        private void finishIfDone() {
            if (!active || !responseDone) {
                return;
            }
            endExchange();
            if (!requestDone) {
                // Answered before the request was written whole, without the server asking us to
                // stop: the stream cannot end cleanly, so reset it.
                reset(stream, Http2Error.CANCEL);
            }
            // Otherwise both sides ended: Netty closes the stream, which frees its slot.
        }

        /** Fails the exchange (its future, or its body once the head is in) and resets the stream. */
        void fail(Throwable cause) {
            fail(cause, Http2Error.CANCEL);
        }

        /** As {@link #fail(Throwable)}, resetting the stream with {@code error}, or not at all if null. */
        void fail(Throwable cause, @Nullable Http2Error error) {
            if (!active) {
                return;
            }
            StreamBody b = body;
            endExchange();
            if (b == null) {
                result.completeExceptionally(cause);
            } else if (!b.finished()) {
                b.fail(cause);
            }
            if (error != null) {
                reset(stream, error);
            }
        }

        private void endExchange() {
            active = false;
            cancelTimer();
            BodyWriter w = writer;
            writer = null;
            if (w != null) {
                w.cancel();
            }
        }

        /** Netty closed the stream (or the connection went): the slot is free; an exchange in flight fails. */
        void streamClosed() {
            if (active) {
                Http2Connection conn = codec.connection();
                int id = stream.id();
                boolean channelActive = ctx().channel().isActive();
                if (!headReceived
                        && (id <= 0
                                || (conn.goAwayReceived() && id > conn.local().lastStreamKnownByPeer()))) {
                    fail(new NotSentException(
                            settings.origin() + ": the server sent GOAWAY before processing the request's stream"));
                } else if (!channelActive) {
                    fail(new ConnectionClosedException(settings.origin()
                            + (headReceived
                                    ? ": the connection closed before the response body ended"
                                    : ": the connection closed before the response headers arrived")));
                } else {
                    fail(new ConnectionClosedException(settings.origin()
                            + (headReceived
                                    ? ": the stream closed before the response body ended"
                                    : ": the stream closed before the response headers arrived")));
                }
            }
            freeSlot();
        }

        private void freeSlot() {
            if (!slotFreed) {
                slotFreed = true;
                connection.pool.streamClosed(connection);
            }
        }

        // ---- timers ----

        private void armHeaders() {
            cancelTimer();
            timingHeaders = true;
            schedule(settings.responseHeadersTimeout().toNanos());
        }

        private void armBodyIdle() {
            long now = clock.nanoTime();
            lastProgress = now;
            if (armed()
                    && (!timingHeaders
                            || at() - now <= settings.bodyIdleTimeout().toNanos())) {
                // Already watching, or the headers timer fires no later than the body's idle limit
                // would: it is kept, and when it fires it checks the body's progress and re-arms
                // for what is left. One timer per exchange, not one per phase.
                timingHeaders = false;
                return;
            }
            cancelTimer();
            timingHeaders = false;
            schedule(settings.bodyIdleTimeout().toNanos());
        }

        private void schedule(long delayNanos) {
            deadlines.arm(this, delayNanos);
        }

        @Override
        void expired() {
            if (!active) {
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
            schedule(limit - (now - lastProgress));
        }

        private void cancelTimer() {
            deadlines.disarm(this);
        }

        void writabilityChanged() {
            BodyWriter w = writer;
            if (w != null && isWritable()) {
                lastProgress = clock.nanoTime();
                w.resume();
            }
        }

        // ---- BodyWriter.Owner: the request body of this stream ----

        @Override
        public boolean isCurrent(BodyWriter bodyWriter) {
            return writer == bodyWriter;
        }

        @Override
        public void chunkFailed(BodyWriter bodyWriter, @Nullable Throwable cause) {
            writeFailed(cause);
        }

        @Override
        public void bodyFailed(BodyWriter bodyWriter, Throwable failure) {
            writer = null;
            // The request is cut short: the server sees the stream reset, the caller the failure.
            fail(failure);
        }

        @Override
        public void bodyEnded(BodyWriter bodyWriter, LastHttpContent last) {
            writer = null;
            ChannelFuture end;
            if (last.trailingHeaders().isEmpty()) {
                end = send(new DefaultHttp2DataFrame(true).stream(stream));
            } else {
                DefaultHttp2Headers trailers = new DefaultHttp2Headers(false);
                for (Map.Entry<String, String> field : last.trailingHeaders()) {
                    trailers.add(field.getKey().toLowerCase(java.util.Locale.ROOT), field.getValue());
                }
                end = send(new DefaultHttp2HeadersFrame(trailers, true).stream(stream));
            }
            end.addListener((ChannelFutureListener) f -> {
                if (f.isSuccess()) {
                    requestWritten();
                } else {
                    writeFailed(f.cause());
                }
            });
            flushSoon();
        }

        // ---- BodyWriter.Sink: DATA frames on this stream ----

        @Override
        public EventExecutor executor() {
            return ctx().executor();
        }

        @Override
        public ChannelFuture write(ByteBuf chunk) {
            lastProgress = clock.nanoTime();
            return send(new DefaultHttp2DataFrame(chunk, false).stream(stream));
        }

        @Override
        public boolean isWritable() {
            Http2Stream http2 = codec.connection().stream(stream.id());
            return http2 != null && codec.connection().remote().flowController().isWritable(http2);
        }

        @Override
        public void flush() {
            ctx().flush();
        }
    }
}
