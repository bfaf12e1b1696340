package dev.belfry.http.client;

import dev.belfry.OverloadedException;
import dev.belfry.Readiness;
import dev.belfry.ServiceClosedException;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.netty.transport.Transport;
import dev.belfry.reconnect.ConnectFailedException;
import dev.belfry.time.Clock;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Settings;
import java.net.ConnectException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The connections of one client and the calls waiting for them.
 *
 * <p>All bookkeeping is under this object's lock; channels are opened, closed and written outside
 * it, and futures are completed outside it, so no callback runs while the lock is held.
 */
final class Pool {
    /** Streams assumed per h2c connection when the server's SETTINGS do not limit them. */
    static final int UNLIMITED_STREAMS = 256;
    /** The stream flow-control window the client advertises (the response body's demand opens it). */
    static final int STREAM_WINDOW = 1 << 20;
    /** The connection flow-control window the client opens once connected. */
    static final int CONNECTION_WINDOW = 16 << 20;

    private final Settings settings;
    private final EventLoopGroup group;
    private final boolean ownsGroup;
    private final Bootstrap bootstrap;
    private final Clock clock;

    private final List<Connection> connections = new ArrayList<>();
    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    private int connecting;
    private long opened;
    private boolean closed;
    private CompletableFuture<Void> readySignal = new CompletableFuture<>();
    private Clock.@Nullable Scheduled evictTimer;

    /** A queued call; identity matters (two waiters may hold equal futures), so not a record. */
    private static final class Waiter {
        final HttpRequest request;
        final CompletableFuture<HttpResponse> result;

        Waiter(HttpRequest request, CompletableFuture<HttpResponse> result) {
            this.request = request;
            this.result = result;
        }
    }

    private record Dispatch(Connection connection, HttpRequest request, CompletableFuture<HttpResponse> result) {
        void run() {
            connection.dispatch(request, result);
        }
    }

    Pool(Settings settings, EventLoopGroup group, Transport transport, boolean ownsGroup) {
        this.settings = settings;
        this.group = group;
        this.ownsGroup = ownsGroup;
        this.clock = settings.clock();
        this.bootstrap = new Bootstrap()
                .group(group)
                .channel(transport.channelType())
                .option(ChannelOption.TCP_NODELAY, true)
                // HTTP/1.1 reads follow the exchange (and the body's demand); an HTTP/2 connection
                // carries every stream's frames and is always read, each stream's window following
                // its own body's demand.
                .option(ChannelOption.AUTO_READ, settings.protocol() == Protocol.H2C);
    }

    Settings settings() {
        return settings;
    }

    // ---- admission ----------------------------------------------------------------------------

    CompletableFuture<HttpResponse> call(HttpRequest request) {
        return admit(request, true);
    }

    @Nullable
    CompletableFuture<HttpResponse> tryCall(HttpRequest request) {
        return admit(request, false);
    }

    private @Nullable CompletableFuture<HttpResponse> admit(HttpRequest request, boolean wait) {
        if (request == null) {
            return CompletableFuture.failedFuture(new NullPointerException("request must not be null"));
        }
        var result = new CompletableFuture<HttpResponse>();
        Connection target;
        Connection connect = null;
        Waiter waiter = null;
        synchronized (this) {
            if (closed) {
                return wait ? CompletableFuture.failedFuture(closedException()) : null;
            }
            target = waiters.isEmpty() ? takeFree() : null;
            if (target == null) {
                if (!wait && connections.size() >= settings.maxConnections()) {
                    return null; // BUSY: every connection and stream is taken
                }
                if (connections.size() >= settings.maxConnections()
                        && waitersBeyondConnects() >= settings.maxPending()) {
                    if (!wait) {
                        return null;
                    }
                    return CompletableFuture.failedFuture(new OverloadedException(settings.origin() + ": "
                            + settings.maxPending() + " calls already wait for a connection (maxPending)"));
                }
                waiter = new Waiter(request, result);
                waiters.add(waiter);
                connect = connectIfNeeded();
            }
        }
        if (target != null) {
            target.dispatch(request, result);
            return result;
        }
        if (connect != null) {
            open(connect);
        }
        // A waiter whose caller gives up leaves the queue; once dispatched, the exchange handles it.
        Waiter queued = waiter;
        result.whenComplete((r, f) -> {
            if (result.isCancelled()) {
                synchronized (this) {
                    waiters.remove(queued);
                }
            }
        });
        return result;
    }

    Readiness readiness() {
        synchronized (this) {
            if (closed) {
                return Readiness.CLOSED;
            }
            if ((waiters.isEmpty() && hasFree()) || connections.size() < settings.maxConnections()) {
                return Readiness.READY;
            }
            return Readiness.BUSY;
        }
    }

    CompletionStage<Void> whenReady() {
        synchronized (this) {
            if (closed || (waiters.isEmpty() && hasFree()) || connections.size() < settings.maxConnections()) {
                return CompletableFuture.completedFuture(null);
            }
            return readySignal.minimalCompletionStage();
        }
    }

    synchronized int connectionCount() {
        return connections.size();
    }

    synchronized long connectionsOpened() {
        return opened;
    }

    synchronized int pendingCount() {
        return waiters.size();
    }

    /**
     * Waiters beyond those the connections being opened will take: what {@code maxPending} bounds,
     * so a cold client with {@code maxPending(0)} still opens connections for its first calls.
     */
    private int waitersBeyondConnects() {
        int covered = settings.protocol() == Protocol.HTTP_1_1 ? connecting : connecting * UNLIMITED_STREAMS;
        return Math.max(0, waiters.size() - covered);
    }

    /** A ready, usable connection with a free slot, its slot taken; the most recently used first. */
    private @Nullable Connection takeFree() {
        for (int i = connections.size() - 1; i >= 0; i--) {
            Connection c = connections.get(i);
            if (c.ready && c.usable && c.inFlight < c.capacity) {
                c.inFlight++;
                return c;
            }
        }
        return null;
    }

    private boolean hasFree() {
        for (Connection c : connections) {
            if (c.ready && c.usable && c.inFlight < c.capacity) {
                return true;
            }
        }
        return false;
    }

    /** A new connection to open (already counted) if the waiters need one; under the lock. */
    private @Nullable Connection connectIfNeeded() {
        if (closed || waiters.isEmpty() || connections.size() >= settings.maxConnections()) {
            return null;
        }
        // An HTTP/1.1 connection serves one waiter; an h2c connection, once its SETTINGS arrive,
        // serves many, so a second opens only when the open ones turn out to be full.
        boolean needed = settings.protocol() == Protocol.HTTP_1_1 ? connecting < waiters.size() : connecting == 0;
        if (!needed) {
            return null;
        }
        Connection c = new Connection(this, settings.protocol());
        connections.add(c);
        connecting++;
        opened++;
        return c;
    }

    // ---- connecting ---------------------------------------------------------------------------

    private void open(Connection connection) {
        // The timer and the channel are both known to the connection before the connect can
        // complete: on a busy machine the event loop may connect, hear the server's SETTINGS and
        // dispatch waiters to this connection before the thread that called connect() runs again.
        Clock.Scheduled timer = clock.schedule(settings.connectTimeout(), () -> {
            if (connectFailed(
                    connection,
                    new PhaseElapsedException(
                            settings.origin(), PhaseElapsedException.Phase.CONNECT, settings.connectTimeout()))) {
                connection.close();
            }
        });
        connection.connectTimer = timer;
        ChannelFuture connect;
        try {
            connect = bootstrap
                    .clone()
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            connection.channel(ch); // registered, so before the connect completes
                            initPipeline(connection, ch);
                        }
                    })
                    .connect(settings.host(), settings.port());
        } catch (RuntimeException e) {
            timer.cancel();
            connectFailed(connection, e);
            return;
        }
        Channel channel = connect.channel();
        connection.channel(channel);
        connect.addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                timer.cancel();
                Throwable cause = f.cause();
                var failure = new ConnectException(
                        settings.origin() + ": " + (cause == null ? "connect failed" : cause.getMessage()));
                if (cause != null) {
                    failure.initCause(cause);
                }
                connectFailed(connection, failure);
            } else {
                channel.closeFuture().addListener((ChannelFutureListener) closed -> removed(connection));
                if (settings.protocol() == Protocol.HTTP_1_1) {
                    timer.cancel();
                    ready(connection, 1);
                }
                // h2c: ready when the server's first SETTINGS arrive (Http2ClientHandler), still on the timer.
            }
        });
    }

    private void initPipeline(Connection connection, SocketChannel ch) {
        if (settings.protocol() == Protocol.HTTP_1_1) {
            ExchangeHandler handler = new ExchangeHandler(settings, connection);
            connection.http1 = handler;
            ch.pipeline()
                    .addLast(
                            new HttpClientCodec(
                                    new HttpDecoderConfig()
                                            .setMaxHeaderSize(64 * 1024)
                                            .setMaxChunkSize(64 * 1024),
                                    false,
                                    false),
                            handler);
            return;
        }
        Http2FrameCodec codec = Http2FrameCodecBuilder.forClient()
                .initialSettings(
                        Http2Settings.defaultSettings().pushEnabled(false).initialWindowSize(STREAM_WINDOW))
                .validateHeaders(true)
                .build();
        Http2ClientHandler handler = new Http2ClientHandler(settings, connection, codec);
        connection.http2 = handler;
        ch.pipeline().addLast(codec, handler);
    }

    /** The connection is usable with {@code capacity} slots (1, or the server's stream limit). */
    void ready(Connection connection, int capacity) {
        Clock.Scheduled timer = connection.connectTimer;
        if (timer != null) {
            timer.cancel();
        }
        List<Dispatch> dispatches = new ArrayList<>();
        Connection connect;
        boolean timedOut = false;
        synchronized (this) {
            if (!connections.contains(connection)) {
                // Gone meanwhile: a connection that was never ready timed out while connecting,
                // and its channel is not wanted; one that was (a GOAWAY or an eviction) is left to
                // finish its streams.
                timedOut = !connection.ready;
                connect = null;
            } else {
                if (!connection.ready) {
                    connection.ready = true;
                    connecting--;
                    connection.idleSince = clock.nanoTime();
                }
                connection.capacity = capacity;
                fill(connection, dispatches);
                connect = connectIfNeeded();
            }
        }
        if (timedOut) {
            connection.close();
            return;
        }
        dispatches.forEach(Dispatch::run);
        if (connect != null) {
            open(connect);
        }
        signalReady();
    }

    /**
     * Fails the connect (once): with no other connection left to serve them, the waiters fail too.
     * Returns whether this call failed it.
     */
    private boolean connectFailed(Connection connection, Throwable cause) {
        List<Waiter> failed = List.of();
        synchronized (this) {
            if (connection.ready || !connections.remove(connection)) {
                return false;
            }
            connecting--;
            if (connections.isEmpty()) {
                failed = new ArrayList<>(waiters);
                waiters.clear();
            }
        }
        for (Waiter w : failed) {
            w.result.completeExceptionally(new ConnectFailedException(cause));
        }
        signalReady();
        return true;
    }

    // ---- slots --------------------------------------------------------------------------------

    /** An HTTP/1.1 exchange ended; the connection takes the next waiter if it is {@code reusable}. */
    void release(Connection connection, boolean reusable) {
        List<Dispatch> dispatches = new ArrayList<>(1);
        synchronized (this) {
            connection.inFlight--;
            if (!reusable) {
                connection.usable = false;
            } else if (connections.contains(connection)) {
                fill(connection, dispatches);
                idleIfUnused(connection);
            }
        }
        dispatches.forEach(Dispatch::run);
        signalReady();
    }

    /** An HTTP/2 stream closed (or never opened): its slot is free. */
    void streamClosed(Connection connection) {
        List<Dispatch> dispatches = new ArrayList<>(1);
        boolean close = false;
        synchronized (this) {
            connection.inFlight--;
            if (connection.usable && connections.contains(connection)) {
                fill(connection, dispatches);
                idleIfUnused(connection);
            } else if (!connection.usable && connection.inFlight == 0) {
                close = true; // draining after a GOAWAY: the last stream is done
            }
        }
        if (close) {
            connection.close();
        }
        dispatches.forEach(Dispatch::run);
        signalReady();
    }

    /** The server sent GOAWAY: no new streams on this connection; it closes when its streams end. */
    void goAway(Connection connection) {
        boolean close;
        Connection connect;
        synchronized (this) {
            connection.usable = false;
            close = connection.inFlight == 0;
            connections.remove(connection);
            if (!connection.ready) {
                connection.ready = true; // no longer connecting either
                connecting--;
            }
            connect = connectIfNeeded();
        }
        if (close) {
            connection.close();
        }
        if (connect != null) {
            open(connect);
        }
        signalReady();
    }

    /** The connection's channel closed: forget it, and open another if waiters need one. */
    void removed(Connection connection) {
        Connection connect = null;
        boolean wasReady;
        synchronized (this) {
            wasReady = connection.ready;
            if (wasReady) {
                if (!connections.remove(connection)) {
                    return;
                }
                connect = connectIfNeeded();
            }
        }
        if (!wasReady) {
            // Closed while connecting (an h2c connection before the server's SETTINGS): a failed connect.
            connectFailed(
                    connection,
                    new ConnectException(settings.origin() + ": the connection closed before it was ready"));
            return;
        }
        if (connect != null) {
            open(connect);
        }
        signalReady();
    }

    /** Hands free slots of {@code connection} to waiters; under the lock. */
    private void fill(Connection connection, List<Dispatch> out) {
        while (connection.usable && connection.inFlight < connection.capacity) {
            Waiter w = waiters.poll();
            if (w == null) {
                return;
            }
            if (w.result.isDone()) {
                continue; // its caller gave up
            }
            connection.inFlight++;
            out.add(new Dispatch(connection, w.request, w.result));
        }
    }

    // ---- idle eviction ------------------------------------------------------------------------

    private void idleIfUnused(Connection connection) {
        if (connection.inFlight == 0) {
            connection.idleSince = clock.nanoTime();
            if (evictTimer == null && !closed) {
                evictTimer = clock.schedule(settings.idleTimeout(), this::evict);
            }
        }
    }

    private void evict() {
        List<Connection> idle = new ArrayList<>();
        synchronized (this) {
            evictTimer = null;
            if (closed) {
                return;
            }
            long now = clock.nanoTime();
            long limit = settings.idleTimeout().toNanos();
            long next = Long.MAX_VALUE;
            for (Connection c : List.copyOf(connections)) {
                if (!c.ready || c.inFlight > 0) {
                    continue;
                }
                long idleFor = now - c.idleSince;
                if (idleFor >= limit) {
                    connections.remove(c);
                    idle.add(c);
                } else {
                    next = Math.min(next, limit - idleFor);
                }
            }
            if (next != Long.MAX_VALUE) {
                evictTimer = clock.schedule(java.time.Duration.ofNanos(next), this::evict);
            }
        }
        idle.forEach(Connection::close);
        if (!idle.isEmpty()) {
            signalReady();
        }
    }

    // ---- closing ------------------------------------------------------------------------------

    void close() {
        List<Waiter> failed;
        List<Connection> open;
        Clock.Scheduled timer;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            failed = new ArrayList<>(waiters);
            waiters.clear();
            open = new ArrayList<>(connections);
            connections.clear();
            timer = evictTimer;
            evictTimer = null;
        }
        if (timer != null) {
            timer.cancel();
        }
        for (Waiter w : failed) {
            w.result.completeExceptionally(closedException());
        }
        for (Connection c : open) {
            Clock.Scheduled connectTimer = c.connectTimer;
            if (connectTimer != null) {
                connectTimer.cancel();
            }
            c.close();
        }
        signalReady();
        if (ownsGroup) {
            var terminated = group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            if (!group.next().inEventLoop()) {
                terminated.awaitUninterruptibly(10, TimeUnit.SECONDS);
            }
        }
    }

    private ServiceClosedException closedException() {
        return new ServiceClosedException(settings.origin() + ": the client was closed");
    }

    private void signalReady() {
        CompletableFuture<Void> signal;
        synchronized (this) {
            signal = readySignal;
            if (!signal.isDone() && readySignal.getNumberOfDependents() == 0) {
                return; // nobody waits: keep the same future
            }
            readySignal = new CompletableFuture<>();
        }
        signal.complete(null);
    }
}
