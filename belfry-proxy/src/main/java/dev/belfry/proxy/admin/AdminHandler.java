package dev.belfry.proxy.admin;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.AsciiString;
import io.netty.util.Attribute;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One admin connection: answers each aggregated request through {@link Routes}, in request order.
 *
 * <p>Requests are released by {@link SimpleChannelInboundHandler} as soon as they are routed: nothing
 * keeps a reference to them. Responses are built from {@link Reply} bytes only when written, so a
 * pending answer for a connection that closes holds no buffer. Pipelined requests are answered in
 * order: while an answer is pending (a reload), reading pauses, so the queue holds at most what one
 * read decoded.
 *
 * <p>A connection waiting for a request (just accepted, or after its last answer) must send a whole
 * request within the idle timeout: bytes that trickle in do not extend it, so a client cannot hold
 * a connection by sending a header line now and then. Runs on the connection's event loop only.
 */
final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);
    private static final AsciiString X_CONTENT_TYPE_OPTIONS = AsciiString.cached("x-content-type-options");
    private static final String CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";

    /**
     * The timer that closes the connection if no whole request arrives in time, set while it waits
     * for one and absent while a request is being answered. The server closes the connection whose
     * timer is nearest (the longest waiting) to make room when it is full.
     */
    static final AttributeKey<ScheduledFuture<?>> REQUEST_DEADLINE =
            AttributeKey.valueOf(AdminHandler.class, "requestDeadline");

    private final Routes routes;
    private final long requestTimeoutMillis;
    private final ArrayDeque<Pending> queue = new ArrayDeque<>();
    // Set once a response that closes the connection is written: later requests are dropped.
    private boolean closing;

    private record Pending(CompletableFuture<Reply> reply, boolean keepAlive, boolean http10, boolean head) {}

    AdminHandler(Routes routes, long requestTimeoutMillis) {
        this.routes = routes;
        this.requestTimeoutMillis = requestTimeoutMillis;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        awaitRequest(ctx);
    }

    private void awaitRequest(ChannelHandlerContext ctx) {
        Attribute<ScheduledFuture<?>> deadline = ctx.channel().attr(REQUEST_DEADLINE);
        if (deadline.get() == null && ctx.channel().isOpen()) {
            deadline.set(ctx.executor()
                    .schedule(
                            () -> {
                                deadline.set(null);
                                if (queue.isEmpty()) {
                                    ctx.close();
                                }
                            },
                            requestTimeoutMillis,
                            TimeUnit.MILLISECONDS));
        }
    }

    private static void requestArrived(ChannelHandlerContext ctx) {
        ScheduledFuture<?> deadline = ctx.channel().attr(REQUEST_DEADLINE).getAndSet(null);
        if (deadline != null) {
            deadline.cancel(false);
        }
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        requestArrived(ctx);
        if (closing) {
            return;
        }
        if (request.decoderResult().isFailure()) {
            Reply reply = malformed(request.decoderResult().cause());
            // Whatever follows a request the decoder could not read is not trusted: stop reading.
            ctx.channel().config().setAutoRead(false);
            enqueue(ctx, new Pending(CompletableFuture.completedFuture(reply.closing()), false, false, false));
            return;
        }
        HttpMethod method = request.method();
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        boolean http10 = request.protocolVersion().equals(HttpVersion.HTTP_1_0);
        boolean head = method.equals(HttpMethod.HEAD);
        String path;
        try {
            path = new QueryStringDecoder(request.uri()).path();
        } catch (IllegalArgumentException e) {
            Reply reply = Reply.text(HttpResponseStatus.BAD_REQUEST, "bad request: unreadable path");
            enqueue(ctx, new Pending(CompletableFuture.completedFuture(reply.closing()), false, http10, head));
            return;
        }
        enqueue(ctx, new Pending(routes.route(method, path, request.headers()), keepAlive, http10, head));
    }

    private static Reply malformed(Throwable cause) {
        if (cause instanceof TooLongHttpHeaderException) {
            return Reply.text(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "request headers too large");
        }
        if (cause instanceof TooLongHttpLineException) {
            return Reply.text(HttpResponseStatus.REQUEST_URI_TOO_LONG, "request line too long");
        }
        return Reply.text(HttpResponseStatus.BAD_REQUEST, "bad request");
    }

    private void enqueue(ChannelHandlerContext ctx, Pending pending) {
        queue.add(pending);
        if (!pending.reply().isDone()) {
            // Pause reading until the slow answer is written, so pipelined requests cannot pile up.
            ctx.channel().config().setAutoRead(false);
            pending.reply().whenComplete((reply, failure) -> {
                try {
                    ctx.executor().execute(() -> flush(ctx));
                } catch (RejectedExecutionException e) {
                    // The event loop is shutting down with the server: nobody is left to answer.
                }
            });
        }
        flush(ctx);
    }

    /** Writes every answer at the head of the queue that is ready, in order. */
    private void flush(ChannelHandlerContext ctx) {
        if (!ctx.channel().isActive()) {
            queue.clear();
            return;
        }
        while (!closing && !queue.isEmpty() && queue.peek().reply().isDone()) {
            Pending pending = queue.poll();
            write(ctx, pending, pending.reply().getNow(null));
        }
        if (closing) {
            queue.clear();
        } else if (queue.isEmpty()) {
            ctx.channel().config().setAutoRead(true);
            awaitRequest(ctx);
        }
    }

    private void write(ChannelHandlerContext ctx, Pending pending, Reply reply) {
        byte[] body = reply.body();
        // HEAD gets the headers GET would, Content-Length included, and no body.
        ByteBuf content = pending.head() ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(body);
        var response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, reply.status(), content);
        HttpHeaders headers = response.headers();
        headers.set(HttpHeaderNames.CONTENT_TYPE, reply.contentType());
        headers.setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
        headers.set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
        headers.set(X_CONTENT_TYPE_OPTIONS, "nosniff");
        headers.set(HttpHeaderNames.CONTENT_SECURITY_POLICY, CSP);
        String allow = reply.allow();
        if (allow != null) {
            headers.set(HttpHeaderNames.ALLOW, allow);
        }
        if (reply.close() || !pending.keepAlive()) {
            closing = true;
            headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        } else {
            if (pending.http10()) {
                headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            }
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
        if (event instanceof IdleStateEvent) {
            // An idle connection is closed, unless it is waiting for us (a long reload).
            if (queue.isEmpty()) {
                ctx.close();
            }
            return;
        }
        super.userEventTriggered(ctx, event);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        requestArrived(ctx);
        queue.clear();
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("admin connection {} failed", ctx.channel().remoteAddress(), cause);
        ctx.close();
    }
}
