package dev.belfry.http.internal;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2ChannelDuplexHandler;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.util.concurrent.EventExecutor;
import org.jspecify.annotations.Nullable;

/**
 * What Belfry's HTTP/2 client and server handlers share: one handler after Netty's {@link
 * Http2FrameCodec} serving every stream of the connection, writes made during a read flushed once
 * when the read ends, flow-control credit given back by the caller's demand, and stream resets.
 *
 * <p>A subclass handles each frame in {@link #read}; everything here runs on the connection's event
 * loop.
 */
public abstract class Http2FrameHandler extends Http2ChannelDuplexHandler {
    private static final System.Logger LOG = System.getLogger(Http2FrameHandler.class.getName());

    /** The connection's codec: its streams and flow controllers. */
    protected final Http2FrameCodec codec;

    private @Nullable ChannelHandlerContext ctx;
    private boolean reading;
    private boolean flushPending;

    protected Http2FrameHandler(Http2FrameCodec codec) {
        this.codec = codec;
    }

    @Override
    protected void handlerAdded0(ChannelHandlerContext context) throws Exception {
        this.ctx = context;
    }

    @Override
    public final void channelRead(ChannelHandlerContext context, Object msg) {
        reading = true;
        read(msg);
    }

    /** Handles one frame the codec passed up (and releases it, or hands it on). */
    protected abstract void read(Object msg);

    @Override
    public final void channelReadComplete(ChannelHandlerContext context) {
        reading = false;
        if (flushPending) {
            flushPending = false;
            context.flush();
        }
        context.fireChannelReadComplete();
    }

    /** Gives {@code bytes} of a stream's received data back to the peer's flow-control windows. */
    protected final void consume(Http2FrameStream stream, int bytes) {
        if (bytes <= 0) {
            return;
        }
        Http2Stream http2 = codec.connection().stream(stream.id());
        if (http2 == null) {
            return; // closed: Netty gave its bytes back to the connection's window then
        }
        try {
            if (codec.connection().local().flowController().consumeBytes(http2, bytes)) {
                flushSoon();
            }
        } catch (Http2Exception e) {
            LOG.log(System.Logger.Level.DEBUG, "returning flow-control credit failed; closing the connection", e);
            ctx().close();
        }
    }

    /** Writes {@code frame}; flushed by {@link #flushSoon} or the end of the read. */
    protected final ChannelFuture send(Object frame) {
        return ctx().write(frame);
    }

    /** Flushes at the end of the read in progress, or now when there is none. */
    protected final void flushSoon() {
        if (reading) {
            flushPending = true;
        } else {
            ctx().flush();
        }
    }

    /** Resets {@code stream} with {@code error}, unless it never opened or is closed already. */
    protected final void reset(Http2FrameStream stream, Http2Error error) {
        Http2Stream http2 = codec.connection().stream(stream.id());
        if (http2 == null || http2.state() == Http2Stream.State.CLOSED) {
            return; // never opened, or already closed: nothing to reset
        }
        send(new DefaultHttp2ResetFrame(error).stream(stream));
        flushSoon();
    }

    /** The handler's context, once added to a pipeline. */
    protected final ChannelHandlerContext ctx() {
        ChannelHandlerContext context = ctx;
        if (context == null) {
            throw new IllegalStateException("handler not added to a pipeline");
        }
        return context;
    }

    /** Runs {@code task} on the connection's event loop: now if this is it, else as a task. */
    protected final void onLoop(Runnable task) {
        EventExecutor executor = ctx().executor();
        if (executor.inEventLoop()) {
            task.run();
        } else {
            executor.execute(task);
        }
    }
}
