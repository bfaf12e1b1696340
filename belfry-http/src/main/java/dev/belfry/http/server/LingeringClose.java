package dev.belfry.http.server;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The end of an HTTP/1.1 connection that answered a request before reading its body whole: a
 * lingering close, as nginx ({@code lingering_close}) and HAProxy do it.
 *
 * <p>Closing a socket whose receive queue holds unread bytes, or that receives more after the close,
 * makes the kernel send RST. A client still uploading then meets the reset, and the reset may
 * destroy the response it has not read yet: it sees "connection reset" instead of the server's
 * answer. So the server shuts its output instead (the client reads the whole response and then
 * FIN), and keeps reading and discarding what the client still sends, for at most {@link
 * ServerLimits#lingerTimeout()} and {@link ServerLimits#maxLingerBytes()}; it closes when either
 * runs out, or as soon as the client closes its side.
 *
 * <p>Installed at the front of the pipeline, before the HTTP decoder, so it counts the raw bytes and
 * nothing reaches the handlers behind it; every buffer it reads is released here. Event-loop
 * confined; the timer runs on the channel's executor, so {@code EmbeddedChannel} can advance it.
 */
final class LingeringClose extends ChannelInboundHandlerAdapter {
    static final String NAME = "lingering-close";

    private final Duration timeout;
    private final long maxBytes;
    private long discarded;
    private @Nullable ScheduledFuture<?> timer;
    private boolean done;

    LingeringClose(Duration timeout, long maxBytes) {
        this.timeout = timeout;
        this.maxBytes = maxBytes;
    }

    /**
     * Ends {@code channel} after a complete response: shuts its output and lingers within {@code
     * limits}, or closes it at once when lingering is off ({@code lingerTimeout} zero) or the channel
     * cannot half-close.
     */
    static void closeAfterResponse(Channel channel, ServerLimits limits) {
        if (limits.lingerTimeout().isZero() || !(channel instanceof DuplexChannel duplex) || !channel.isActive()) {
            channel.close();
            return;
        }
        duplex.shutdownOutput().addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess() || !channel.isActive()) {
                channel.close();
                return;
            }
            channel.pipeline().addFirst(NAME, new LingeringClose(limits.lingerTimeout(), limits.maxLingerBytes()));
        });
    }

    /** The bytes read and discarded so far. */
    long discarded() {
        return discarded;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        timer = ctx.executor().schedule(() -> finish(ctx), timeout.toNanos(), TimeUnit.NANOSECONDS);
        ctx.read(); // auto-read is off: ask for the client's next bytes
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf bytes) {
            discarded += bytes.readableBytes();
        }
        ReferenceCountUtil.release(msg);
        if (discarded > maxBytes) {
            finish(ctx);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (!done) {
            ctx.read();
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent || evt == ChannelInputShutdownReadComplete.INSTANCE) {
            finish(ctx); // the client closed its side: nothing more will come
        }
        ReferenceCountUtil.release(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        finish(ctx); // most often a reset by the client: the connection is over either way
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        done = true;
        cancelTimer();
        ctx.fireChannelInactive();
    }

    private void finish(ChannelHandlerContext ctx) {
        if (done) {
            return;
        }
        done = true;
        cancelTimer();
        ctx.close();
    }

    private void cancelTimer() {
        ScheduledFuture<?> t = timer;
        timer = null;
        if (t != null) {
            t.cancel(false);
        }
    }
}
