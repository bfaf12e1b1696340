package dev.belfry.http.server;

import dev.belfry.Futures;
import dev.belfry.Service;
import dev.belfry.http.BodyTooLargeException;
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
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2FrameStreamEvent;
import io.netty.handler.codec.http2.Http2FrameStreamException;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.collection.IntObjectHashMap;
import io.netty.util.concurrent.EventExecutor;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import org.jspecify.annotations.Nullable;

/**
 * Serves every stream of one HTTP/2 connection from the connection's own pipeline, right after
 * Netty's frame codec: a HEADERS frame becomes a Belfry request, DATA frames feed its body, and the
 * response goes out as frames on the same stream. No channel per stream and no detour through HTTP/1
 * objects: what a stream costs is its request, its response and one small record here.
 *
 * <p>Flow control follows the request body's demand: the bytes of a DATA frame are given back to
 * the client (a WINDOW_UPDATE) once the body's subscriber wants more, so a slow reader holds the
 * client to one stream window, never more. A response body is written while its stream is writable
 * (the peer's window and the socket), and paused otherwise.
 *
 * <p>Writes made while the connection is being read are flushed once when the read ends, so the
 * answers to every request in one read leave in one write; answers that complete later are flushed
 * at once. Event-loop confined: futures and publishers completing elsewhere hop back to it.
 */
final class Http2ServerHandler extends Http2FrameHandler {
    private static final System.Logger LOG = System.getLogger(Http2ServerHandler.class.getName());
    private static final AsciiString HOST = AsciiString.cached("host");
    private static final AsciiString COOKIE = AsciiString.cached("cookie");
    private static final AsciiString CONTENT_LENGTH = AsciiString.cached("content-length");

    private final Service<HttpRequest, HttpResponse> service;
    private final ServerLimits limits;
    private final IntObjectHashMap<Exchange> exchanges = new IntObjectHashMap<>();

    private @Nullable InetSocketAddress peer;

    Http2ServerHandler(Service<HttpRequest, HttpResponse> service, ServerLimits limits, Http2FrameCodec codec) {
        super(codec);
        this.service = service;
        this.limits = limits;
    }

    @Override
    protected void handlerAdded0(ChannelHandlerContext context) throws Exception {
        super.handlerAdded0(context);
        if (context.channel().remoteAddress() instanceof InetSocketAddress address) {
            peer = address;
        }
    }

    // ---- reading ----------------------------------------------------------------------------

    @Override
    protected void read(Object msg) {
        if (msg instanceof Http2HeadersFrame headers) {
            onHeaders(headers);
        } else if (msg instanceof Http2DataFrame data) {
            onData(data);
        } else if (msg instanceof Http2ResetFrame reset) {
            onReset(reset);
        } else {
            ReferenceCountUtil.release(msg); // connection frames: the codec has acted on them
        }
    }

    private void onHeaders(Http2HeadersFrame frame) {
        Http2FrameStream stream = frame.stream();
        Exchange existing = exchanges.get(stream.id());
        if (existing != null) {
            existing.onTrailers(frame);
            return;
        }
        Exchange exchange = new Exchange(stream);
        exchanges.put(stream.id(), exchange);
        exchange.start(frame.headers(), frame.isEndStream());
    }

    private void onData(Http2DataFrame frame) {
        Exchange exchange = exchanges.get(frame.stream().id());
        if (exchange == null) {
            // A stream already answered or rejected: drop the data, but give its bytes back to the
            // connection's window, which every stream shares.
            int credit = frame.initialFlowControlledBytes();
            Http2FrameStream stream = frame.stream();
            frame.release();
            consume(stream, credit);
            return;
        }
        exchange.onData(frame);
    }

    private void onReset(Http2ResetFrame frame) {
        Exchange exchange = exchanges.remove(frame.stream().id());
        if (exchange != null) {
            exchange.abort(new ConnectionClosedException(
                    "the client reset the stream (" + Http2Error.valueOf(frame.errorCode()) + ")"));
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
                    exchange.abort(new ConnectionClosedException("the stream closed before its response was complete"));
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
            Exchange exchange = exchanges.remove(stream.id());
            if (exchange != null) {
                exchange.abort(new ConnectionClosedException("stream error: " + streamError.getMessage()));
            }
            reset(stream, streamError.error());
            return;
        }
        if (Http2CodecUtil.getEmbeddedHttp2Exception(cause) != null) {
            // A connection error: the codec shows it here first, then sends GOAWAY with its code
            // and closes; a close from here would send GOAWAY NO_ERROR before it.
            LOG.log(System.Logger.Level.DEBUG, "HTTP/2 connection error; the codec closes the connection", cause);
            return;
        }
        LOG.log(System.Logger.Level.DEBUG, "closing HTTP/2 connection after an error", cause);
        context.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext context) throws Exception {
        if (!exchanges.isEmpty()) {
            List<Exchange> open = new ArrayList<>(exchanges.values());
            exchanges.clear();
            for (Exchange exchange : open) {
                exchange.abort(new ConnectionClosedException("the client closed the connection"));
            }
        }
        super.channelInactive(context);
    }

    // ---- writing ----------------------------------------------------------------------------

    private static boolean connectionSpecific(String name) {
        return switch (name) {
            case "connection", "transfer-encoding", "keep-alive", "upgrade", "proxy-connection" -> true;
            default -> false;
        };
    }

    /** One stream's exchange: its request, the body being read and the response being written. */
    private final class Exchange implements StreamBody.Source, BodyWriter.Owner, BodyWriter.Sink {
        private final Http2FrameStream stream;
        private @Nullable StreamBody body;
        private boolean readingBody;
        private long bodyBytes;
        private int owedCredit; // bytes of DATA delivered to the body and not yet given back
        private boolean isHead;
        private @Nullable CompletableFuture<HttpResponse> inflight;
        private boolean responseStarted;
        private @Nullable BodyWriter writer;
        private boolean done;

        Exchange(Http2FrameStream stream) {
            this.stream = stream;
        }

        void start(Http2Headers fields, boolean endOfStream) {
            CharSequence method = fields.method();
            CharSequence path = fields.path();
            if (method == null || path == null) {
                reject(400, "missing :method or :path");
                return;
            }
            int count = 0;
            long contentLength = -1;
            // Room for the fields without the usual four pseudo-header fields, plus host.
            Headers.Builder headers = Headers.builder(Math.max(fields.size() - 3, 0));
            StringBuilder cookies = null;
            boolean hasHost = false;
            try {
                for (Map.Entry<CharSequence, CharSequence> field : fields) {
                    CharSequence name = field.getKey();
                    if (name.length() > 0 && name.charAt(0) == ':') {
                        continue;
                    }
                    if (++count > limits.maxHeaderCount()) {
                        reject(431, "more than " + limits.maxHeaderCount() + " header fields");
                        return;
                    }
                    CharSequence value = field.getValue();
                    if (COOKIE.contentEquals(name)) {
                        // RFC 9113 section 8.2.3: cookie crumbs are joined back into one field.
                        cookies = cookies == null
                                ? new StringBuilder(value)
                                : cookies.append("; ").append(value);
                        continue;
                    }
                    if (CONTENT_LENGTH.contentEquals(name)) {
                        contentLength = Long.parseLong(value.toString());
                    } else if (HOST.contentEquals(name)) {
                        hasHost = true;
                    }
                    headers.add(name.toString(), value.toString());
                }
                if (cookies != null) {
                    headers.add("cookie", cookies.toString());
                }
                CharSequence authority = fields.authority();
                if (!hasHost && authority != null) {
                    headers.add("host", authority.toString());
                }
            } catch (NumberFormatException e) {
                reject(400, "invalid Content-Length");
                return;
            } catch (IllegalArgumentException e) {
                reject(400, e.getMessage());
                return;
            }
            if (contentLength > limits.maxRequestBodyBytes()) {
                reject(413, "request body larger than " + limits.maxRequestBodyBytes() + " bytes");
                return;
            }
            HttpRequest request;
            try {
                HttpMethod httpMethod = HttpMethod.of(method.toString());
                var builder = HttpRequest.builder(httpMethod, path.toString()).headers(headers.build());
                if (!endOfStream && contentLength != 0) {
                    StreamBody streamBody = new StreamBody(ctx().executor(), contentLength, this);
                    body = streamBody;
                    builder.body(streamBody);
                }
                if (peer != null) {
                    builder.attribute(HttpServer.REMOTE_ADDRESS, peer);
                }
                request = builder.build();
                isHead = httpMethod.equals(HttpMethod.HEAD);
            } catch (IllegalArgumentException e) {
                reject(400, e.getMessage());
                return;
            }
            readingBody = !endOfStream;
            CompletableFuture<HttpResponse> future = Futures.call(service, request);
            inflight = future;
            if (future.state() == Future.State.SUCCESS) {
                // Answered at once, as most handlers do: no callback and no task for the response.
                respond(future.resultNow(), null);
            } else {
                future.whenComplete((response, failure) -> onLoop(() -> respond(response, failure)));
            }
        }

        void onData(Http2DataFrame frame) {
            int credit = frame.initialFlowControlledBytes();
            if (!readingBody) {
                frame.release(); // the rest of a request already answered or failed
                consume(stream, credit);
                return;
            }
            ByteBuf data = frame.content();
            bodyBytes += data.readableBytes();
            if (bodyBytes > limits.maxRequestBodyBytes()) {
                frame.release();
                consume(stream, credit);
                reject(413, "request body larger than " + limits.maxRequestBodyBytes() + " bytes");
                failBody(new BodyTooLargeException(limits.maxRequestBodyBytes()));
                return;
            }
            StreamBody streamBody = body;
            if (streamBody == null || streamBody.finished() || !data.isReadable()) {
                frame.release();
                if (streamBody == null || streamBody.cancelled()) {
                    consume(stream, credit); // nobody will read it: keep the windows open
                } else {
                    owedCredit += credit;
                }
            } else {
                streamBody.offer(data); // ownership of the frame's buffer passes to the body
                owedCredit += credit;
            }
            if (frame.isEndStream()) {
                readingBody = false;
                if (streamBody != null) {
                    streamBody.end(Headers.empty());
                }
            }
            if (streamBody != null && streamBody.wantsMore()) {
                demand();
            }
        }

        void onTrailers(Http2HeadersFrame frame) {
            if (!readingBody || !frame.isEndStream()) {
                exchanges.remove(stream.id());
                abort(new ConnectionClosedException("HEADERS after the request's end, or trailers without END_STREAM"));
                reset(stream, Http2Error.PROTOCOL_ERROR);
                return;
            }
            readingBody = false;
            StreamBody streamBody = body;
            if (streamBody != null) {
                Headers.Builder trailers = Headers.builder();
                try {
                    for (Map.Entry<CharSequence, CharSequence> field : frame.headers()) {
                        trailers.add(field.getKey().toString(), field.getValue().toString());
                    }
                } catch (IllegalArgumentException e) {
                    streamBody.fail(new ConnectionClosedException("malformed trailers: " + e.getMessage()));
                    return;
                }
                streamBody.end(trailers.build());
            }
        }

        /** The request body's subscriber wants more: give the client back what it has read. */
        @Override
        public void demand() {
            int credit = owedCredit;
            owedCredit = 0;
            consume(stream, credit);
        }

        /** The body was cancelled or discarded: what is still on its way is dropped as it comes. */
        @Override
        public void cancelled() {
            int credit = owedCredit;
            owedCredit = 0;
            consume(stream, credit);
        }

        private void respond(@Nullable HttpResponse response, @Nullable Throwable failure) {
            if (done || inflight == null || !ctx().channel().isActive()) {
                if (response != null) {
                    response.body().discard();
                }
                return;
            }
            inflight = null;
            HttpResponse answer = FailureStatus.answer(response, failure, LOG);
            StreamBody streamBody = body;
            if (streamBody != null
                    && !streamBody.finished()
                    && !streamBody.hasSubscriber()
                    && answer.body() != streamBody) {
                streamBody.discard(); // the handler answered without reading it (nor sending it back)
            }
            writeHead(answer);
        }

        private void writeHead(HttpResponse response) {
            int status = response.status();
            DefaultHttp2Headers out =
                    new DefaultHttp2Headers(false, response.headers().size() + 2);
            out.status(HttpResponseStatus.valueOf(status).codeAsText());
            Headers fields = response.headers();
            fields.forEach((name, value) -> {
                if (!connectionSpecific(name)) {
                    out.add(WireText.of(name), WireText.of(value));
                }
            });
            boolean hasLength = fields.contains("content-length");
            boolean noBody = isHead || status == 204 || status == 304 || status < 200;
            long length = response.body().contentLength();
            if (!hasLength && length >= 0 && status != 204 && status != 304 && status >= 200) {
                out.set(CONTENT_LENGTH, ContentLengths.of(length));
            }
            responseStarted = true;
            if (noBody) {
                response.body().discard();
                finish(send(new DefaultHttp2HeadersFrame(out, true).stream(stream)));
                return;
            }
            if (response.body() instanceof FixedBody fixed) {
                // Held in memory: the head and the whole body go out together, with no subscription.
                byte[] bytes = fixed.bytes();
                if (bytes.length == 0) {
                    finish(send(new DefaultHttp2HeadersFrame(out, true).stream(stream)));
                } else {
                    send(new DefaultHttp2HeadersFrame(out, false).stream(stream));
                    finish(send(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(bytes), true).stream(stream)));
                }
                return;
            }
            send(new DefaultHttp2HeadersFrame(out, false).stream(stream));
            BodyWriter bodyWriter = new BodyWriter(this, response.body(), this, false);
            writer = bodyWriter;
            bodyWriter.start();
            if (!bodyWriter.wroteSinceFlush()) {
                flushSoon(); // the body is slow to start: let the client see the head now
            }
        }

        private void finish(ChannelFuture written) {
            if (readingBody) {
                written.addListener((ChannelFutureListener) f -> exchangeDone(f.isSuccess()));
            } else {
                // The request was read whole: once its last frame is queued, nothing is left for
                // this stream to do. If that write fails, the codec resets the stream (or closes
                // the connection) itself; not listening saves a listener per request.
                exchangeDone(true);
            }
            flushSoon();
        }

        private void exchangeDone(boolean written) {
            writer = null;
            if (done) {
                return;
            }
            done = true;
            if (exchanges.get(stream.id()) == this) {
                exchanges.remove(stream.id());
            }
            StreamBody streamBody = body;
            boolean bodyUnread = readingBody;
            readingBody = false;
            if (bodyUnread && streamBody != null && !streamBody.finished()) {
                if (streamBody.hasSubscriber()) {
                    // A handler still reading the body: nothing more of it will be read, so it hears
                    // that, and chunks it has not asked for yet are released.
                    streamBody.fail(
                            new ConnectionClosedException(
                                    "the response was complete before the request body was read whole; the rest of the body is not read"));
                } else {
                    streamBody.discard();
                }
            }
            if (!written) {
                reset(stream, Http2Error.CANCEL);
            } else if (bodyUnread) {
                // RFC 9113 section 8.1: the response is complete, so ask the client, without error,
                // to stop sending the request.
                reset(stream, Http2Error.NO_ERROR);
            }
        }

        /** Answers {@code status} with a short text and ends the stream, abandoning the exchange. */
        private void reject(int status, @Nullable String reason) {
            CompletableFuture<HttpResponse> future = inflight;
            inflight = null;
            if (future != null) {
                future.cancel(false);
            }
            BodyWriter bodyWriter = writer;
            writer = null;
            if (bodyWriter != null) {
                bodyWriter.cancel();
            }
            if (responseStarted) {
                done = true;
                exchanges.remove(stream.id());
                reset(stream, Http2Error.CANCEL);
                return;
            }
            responseStarted = true;
            String text =
                    HttpResponseStatus.valueOf(status).reasonPhrase() + (reason == null ? "" : ": " + reason) + "\n";
            ByteBuf content = Unpooled.copiedBuffer(text, StandardCharsets.UTF_8);
            DefaultHttp2Headers out = new DefaultHttp2Headers(false, 3);
            out.status(HttpResponseStatus.valueOf(status).codeAsText());
            out.set("content-type", HttpResponse.TEXT_UTF8);
            out.setInt(CONTENT_LENGTH, content.readableBytes());
            send(new DefaultHttp2HeadersFrame(out, false).stream(stream));
            finish(send(new DefaultHttp2DataFrame(content, true).stream(stream)));
        }

        /** The stream ended (reset, closed, or the connection went) before the exchange did. */
        void abort(Throwable cause) {
            done = true;
            failBody(cause);
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
        }

        private void failBody(Throwable cause) {
            StreamBody streamBody = body;
            if (streamBody != null && readingBody) {
                readingBody = false;
                streamBody.fail(cause);
            }
        }

        void writabilityChanged() {
            BodyWriter bodyWriter = writer;
            if (bodyWriter != null && isWritable()) {
                bodyWriter.resume();
            }
        }

        // ---- BodyWriter.Owner: the response body of this stream ----

        @Override
        public boolean isCurrent(BodyWriter bodyWriter) {
            return writer == bodyWriter;
        }

        @Override
        public void chunkFailed(BodyWriter bodyWriter, @Nullable Throwable cause) {
            bodyWriter.cancel(); // the stream or the connection is failing: its end ends the exchange
        }

        @Override
        public void bodyFailed(BodyWriter bodyWriter, Throwable failure) {
            writer = null;
            LOG.log(
                    System.Logger.Level.DEBUG,
                    "response body failed after its head was sent; resetting the stream",
                    failure);
            exchanges.remove(stream.id());
            abort(new ConnectionClosedException("response aborted"));
            reset(stream, Http2Error.CANCEL);
        }

        @Override
        public void bodyEnded(BodyWriter bodyWriter, LastHttpContent last) {
            writer = null;
            if (last.trailingHeaders().isEmpty()) {
                finish(send(new DefaultHttp2DataFrame(true).stream(stream)));
                return;
            }
            DefaultHttp2Headers trailers = new DefaultHttp2Headers(false);
            for (Map.Entry<String, String> field : last.trailingHeaders()) {
                trailers.add(field.getKey().toLowerCase(Locale.ROOT), field.getValue());
            }
            finish(send(new DefaultHttp2HeadersFrame(trailers, true).stream(stream)));
        }

        // ---- BodyWriter.Sink: DATA frames on this stream ----

        @Override
        public EventExecutor executor() {
            return ctx().executor();
        }

        @Override
        public ChannelFuture write(ByteBuf chunk) {
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
