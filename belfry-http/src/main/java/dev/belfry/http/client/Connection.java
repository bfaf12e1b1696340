package dev.belfry.http.client;

import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import io.netty.channel.Channel;
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
    /** The h2c connection's handler, which runs all its streams; null for HTTP/1.1. */
    volatile @Nullable Http2ClientHandler http2;

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
            // Cannot happen (the pool sets the channel before the connect can complete), but a
            // caller must never be left waiting on a call that went nowhere.
            result.completeExceptionally(new IllegalStateException(
                    pool.settings().origin() + ": dispatched to a connection that is not connected"));
            return;
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
        Http2ClientHandler handler = http2;
        if (handler == null) {
            throw new IllegalStateException("h2c connection without its handler");
        }
        handler.dispatch(request, result);
    }

    @Override
    public String toString() {
        Channel c = channel;
        return "Connection[" + protocol + ", " + (c == null ? "connecting" : c.toString()) + "]";
    }
}
