package dev.belfry.http.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerAdapter;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The HTTP/2 connection's two timers, in front of Netty's frame codec: the idle timeout (no stream
 * open for {@code http2IdleTimeout}: GOAWAY {@code NO_ERROR} and close) and the header-block
 * timeout (a HEADERS or PUSH_PROMISE frame whose block, with its CONTINUATION frames, is not
 * complete within {@code streamHeaderTimeout}: GOAWAY {@code ENHANCE_YOUR_CALM} and close).
 *
 * <p>Netty's codec assembles a header block before anything above it sees the stream, so the
 * second timer cannot live in a stream handler: this handler reads the frame headers (9 bytes each)
 * as the bytes pass, without consuming or copying them, and knows when a block starts and when
 * the frame that ends it has arrived whole. It must see the connection's bytes from the client
 * preface on. Event-loop confined; it passes every buffer on unchanged, so it releases none.
 */
final class Http2Timeouts extends ChannelInboundHandlerAdapter {
    private static final System.Logger LOG = System.getLogger(Http2Timeouts.class.getName());
    private static final int FRAME_HEADER = 9;
    private static final int HEADERS = 0x1;
    private static final int PUSH_PROMISE = 0x5;
    private static final int CONTINUATION = 0x9;
    private static final int END_HEADERS = 0x4;

    private final Http2FrameCodec codec;
    private final Duration idleTimeout;
    private final Duration headerTimeout;

    private @Nullable ChannelHandlerContext ctx;
    private @Nullable ScheduledFuture<?> idleTimer;
    private @Nullable ScheduledFuture<?> headerTimer;
    private boolean closing;
    // Timers are moved lazily, so a busy connection schedules nothing per stream: the idle timer is
    // scheduled when the last stream closes and none is pending; a stream opening only clears
    // `idleSince`, and the timer, on firing, looks at the state then. The header timer is armed at
    // the end of a read that leaves a header block open, so blocks that arrive whole in one read
    // (nearly all of them) arm nothing.
    private boolean idle; // no stream open
    private long idleSince; // since when, on the event loop's ticker
    private boolean blockOpen;

    // Frame boundaries: bytes left of the preface or of the current frame's payload, then the next
    // frame header, which may arrive split across reads.
    private long skip = Http2CodecUtil.connectionPrefaceBuf().readableBytes();
    private final byte[] header = new byte[FRAME_HEADER];
    private int headerBytes;
    private boolean blockEndsWithThisFrame;

    Http2Timeouts(Http2FrameCodec codec, Duration idleTimeout, Duration headerTimeout) {
        this.codec = codec;
        this.idleTimeout = idleTimeout;
        this.headerTimeout = headerTimeout;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext context) {
        this.ctx = context;
        Http2Connection connection = codec.connection();
        connection.addListener(new Http2ConnectionAdapter() {
            @Override
            public void onStreamActive(Http2Stream stream) {
                idle = false;
            }

            @Override
            public void onStreamClosed(Http2Stream stream) {
                armIdleIfNoStreams();
            }
        });
        armIdleIfNoStreams();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext context) {
        cancelIdle();
        cancelHeaderTimer();
    }

    @Override
    public void channelInactive(ChannelHandlerContext context) throws Exception {
        closing = true;
        cancelIdle();
        cancelHeaderTimer();
        super.channelInactive(context);
    }

    @Override
    public void channelRead(ChannelHandlerContext context, Object msg) {
        if (msg instanceof ByteBuf bytes && !closing) {
            scan(bytes);
        }
        context.fireChannelRead(msg);
    }

    /** Follows frame boundaries through {@code bytes} without moving its indexes. */
    private void scan(ByteBuf bytes) {
        int index = bytes.readerIndex();
        int end = bytes.writerIndex();
        while (index < end) {
            if (skip > 0) {
                int n = (int) Math.min(skip, end - index);
                skip -= n;
                index += n;
                if (skip == 0) {
                    payloadDone();
                }
                continue;
            }
            if (headerBytes == 0 && end - index >= FRAME_HEADER) {
                // A whole frame header here, as nearly always: read its fields at once.
                frameStarted(
                        bytes.getUnsignedMedium(index),
                        bytes.getUnsignedByte(index + 3),
                        bytes.getUnsignedByte(index + 4));
                index += FRAME_HEADER;
                continue;
            }
            header[headerBytes++] = bytes.getByte(index++);
            if (headerBytes == FRAME_HEADER) {
                headerBytes = 0;
                frameStarted(
                        ((header[0] & 0xff) << 16) | ((header[1] & 0xff) << 8) | (header[2] & 0xff),
                        header[3] & 0xff,
                        header[4] & 0xff);
            }
        }
        if (blockOpen && headerTimer == null) {
            headerTimer =
                    ctx().executor().schedule(this::headerTimedOut, headerTimeout.toNanos(), TimeUnit.NANOSECONDS);
        } else if (!blockOpen && headerTimer != null) {
            cancelHeaderTimer();
        }
    }

    private void frameStarted(int length, int type, int flags) {
        boolean blockFrame = type == HEADERS || type == PUSH_PROMISE || type == CONTINUATION;
        if (type == HEADERS || type == PUSH_PROMISE) {
            blockOpen = true;
        }
        blockEndsWithThisFrame = blockFrame && (flags & END_HEADERS) != 0;
        skip = length;
        if (length == 0) {
            payloadDone();
        }
    }

    private void payloadDone() {
        if (blockEndsWithThisFrame) {
            blockEndsWithThisFrame = false;
            blockOpen = false;
        }
    }

    private void headerTimedOut() {
        headerTimer = null;
        if (closing) {
            return;
        }
        closing = true;
        cancelIdle();
        LOG.log(
                System.Logger.Level.DEBUG,
                "closing an HTTP/2 connection whose header block did not complete within " + headerTimeout);
        String reason = "header block not completed within " + headerTimeout.toMillis() + " ms";
        ChannelHandlerContext context = ctx();
        // The GOAWAY goes out through the codec, which knows the last stream id; then this
        // handler's context closes the socket below the codec, whose own close would wait for the
        // streams to finish.
        context.channel()
                .writeAndFlush(new DefaultHttp2GoAwayFrame(
                        Http2Error.ENHANCE_YOUR_CALM, ByteBufUtil.writeUtf8(context.alloc(), reason)))
                .addListener((ChannelFutureListener) written -> context.close());
    }

    private void armIdleIfNoStreams() {
        ChannelHandlerContext context = ctx;
        if (closing || context == null || codec.connection().numActiveStreams() > 0) {
            return;
        }
        idle = true;
        idleSince = context.executor().ticker().nanoTime();
        if (idleTimer == null) {
            idleTimer = context.executor().schedule(this::idleTimedOut, idleTimeout.toNanos(), TimeUnit.NANOSECONDS);
        }
    }

    private void idleTimedOut() {
        idleTimer = null;
        if (closing || !idle || codec.connection().numActiveStreams() > 0) {
            return; // a stream is open: the next one to close schedules the timer again
        }
        long idleFor = ctx().executor().ticker().nanoTime() - idleSince;
        if (idleFor < idleTimeout.toNanos()) {
            // Streams came and went since this timer was scheduled: wait out the rest.
            idleTimer = ctx().executor()
                    .schedule(this::idleTimedOut, idleTimeout.toNanos() - idleFor, TimeUnit.NANOSECONDS);
            return;
        }
        closing = true;
        cancelHeaderTimer();
        // The codec's close sends GOAWAY (NO_ERROR) first; no stream is open, so it closes at once.
        ctx().channel().close();
    }

    private void cancelIdle() {
        ScheduledFuture<?> timer = idleTimer;
        idleTimer = null;
        if (timer != null) {
            timer.cancel(false);
        }
    }

    private void cancelHeaderTimer() {
        ScheduledFuture<?> timer = headerTimer;
        headerTimer = null;
        if (timer != null) {
            timer.cancel(false);
        }
    }

    private ChannelHandlerContext ctx() {
        ChannelHandlerContext context = ctx;
        if (context == null) {
            throw new IllegalStateException("handler not added to a pipeline");
        }
        return context;
    }

    /**
     * A handler that, once added after {@code codec} (as Netty's upgrade codec adds its extra
     * handlers), puts this handler in front of the codec and removes itself.
     */
    ChannelHandler installer() {
        Http2Timeouts timeouts = this;
        return new ChannelHandlerAdapter() {
            @Override
            public void handlerAdded(ChannelHandlerContext context) {
                ChannelPipeline pipeline = context.pipeline();
                ChannelHandlerContext codecContext = pipeline.context(codec);
                if (codecContext == null) {
                    throw new IllegalStateException("the HTTP/2 codec is not in the pipeline");
                }
                pipeline.addBefore(codecContext.name(), null, timeouts);
                pipeline.remove(this);
            }
        };
    }
}
