package dev.belfry.http.client;

import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * One TCP connection of a {@link Pool}: its channel and the pool's bookkeeping of it.
 *
 * <p>The bookkeeping fields ({@code ready}, {@code capacity}, {@code inFlight}, {@code usable},
 * {@code idleSince}) are guarded by the pool's lock; the channel is set once by the connecting
 * thread before any exchange is dispatched.
 */
final class Connection {
    final Pool pool;
    final Protocol protocol;

    private volatile @Nullable Channel channel;
    /** The HTTP/1.1 connection's exchange handler; null for h2c. */
    volatile @Nullable ExchangeHandler http1;

    /** The connect (and, for h2c, first SETTINGS) timer, cancelled once the connection is ready. */
    volatile dev.belfry.time.Clock.@Nullable Scheduled connectTimer;

    // Guarded by the pool's lock.
    boolean ready;
    int capacity;
    int inFlight;
    boolean usable = true;
    long idleSince;

    Connection(Pool pool, Protocol protocol) {
        this.pool = pool;
        this.protocol = protocol;
    }

    void channel(Channel value) {
        this.channel = value;
    }

    @Nullable
    Channel channel() {
        return channel;
    }

    /** Closes the channel, if it exists; the close listener tells the pool. */
    void close() {
        Channel c = channel;
        if (c != null) {
            c.close();
        }
    }

    /**
     * Starts {@code request} on this connection, whose slot the pool has already taken for it. Called
     * outside the pool's lock, from any thread.
     */
    void dispatch(HttpRequest request, CompletableFuture<HttpResponse> result) {
        Channel c = channel;
        if (c == null) {
            throw new IllegalStateException("dispatched to a connection that is not connected");
        }
        if (protocol == Protocol.HTTP_1_1) {
            ExchangeHandler handler = http1;
            if (handler == null) {
                throw new IllegalStateException("HTTP/1.1 connection without its handler");
            }
            if (c.eventLoop().inEventLoop()) {
                handler.start(request, result);
            } else {
                c.eventLoop().execute(() -> handler.start(request, result));
            }
            return;
        }
        ExchangeHandler handler = new ExchangeHandler(pool.settings(), this, true);
        new Http2StreamChannelBootstrap(c)
                .handler(new ChannelInitializer<Http2StreamChannel>() {
                    @Override
                    protected void initChannel(Http2StreamChannel stream) {
                        stream.config().setAutoRead(false);
                        // A failed write must not close the stream on its own: when the server ends
                        // the request early (RST_STREAM NO_ERROR after a complete response), the
                        // upload's queued writes fail, and a close would drop the response frames
                        // still waiting to be read. The exchange closes the stream itself.
                        stream.config().setAutoClose(false);
                        stream.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(false), handler);
                    }
                })
                .open()
                .addListener(opened -> {
                    if (opened.isSuccess()) {
                        Http2StreamChannel stream = (Http2StreamChannel) opened.getNow();
                        // The stream's slot is free again when the stream closes, however it ends.
                        stream.closeFuture().addListener((ChannelFutureListener) f -> pool.streamClosed(this));
                        handler.start(request, result);
                    } else {
                        pool.streamClosed(this);
                        result.completeExceptionally(new NotSentException(
                                pool.settings().origin() + ": could not open an HTTP/2 stream: " + opened.cause()));
                    }
                });
    }

    @Override
    public String toString() {
        Channel c = channel;
        return "Connection[" + protocol + ", " + (c == null ? "connecting" : c.toString()) + "]";
    }
}
