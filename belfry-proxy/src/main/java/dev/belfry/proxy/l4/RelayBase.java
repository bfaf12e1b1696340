package dev.belfry.proxy.l4;

import dev.belfry.Futures;
import dev.belfry.proxy.config.Addresses;
import dev.belfry.proxy.config.ListenerConfig;
import dev.belfry.proxy.config.ProxyProtocol;
import dev.belfry.time.Clock;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One proxied connection, whichever way it is relayed ({@link DirectRelay}: epoll, no channels;
 * {@link Relay}: Netty channels), as the engine tracks it to drain and close it. It holds what both
 * relays do the same way: admission, the idle timeout, the connect through the cluster stack, the
 * close bookkeeping and the access-log line. The bytes, and how each side's socket is driven, are
 * the subclass's.
 *
 * <p>Confined to the connection's event loop, except {@link #forceClose} and {@link #closeReason}.
 */
abstract class RelayBase {
    /** The per-connection log: one INFO line per closed connection. */
    static final Logger ACCESS = LoggerFactory.getLogger("dev.belfry.proxy.l4.connections");

    final RelayEngine engine;
    // Time is read only through the engine's clock (the system clock in the proxy; tests drive it).
    final Clock clock;
    final Listener listener;
    final ListenerConfig config;
    final long startNanos;
    final long idleNanos;
    // The clock's nanoTime() at the last read on either side: the idle timeout counts from there.
    long lastRead;
    // The client's address and the one it connected to (a PROXY header may replace both).
    InetSocketAddress client;
    InetSocketAddress destination;

    @Nullable
    BackendStats backend;

    @Nullable
    CompletableFuture<BackendConnection> connecting;

    @Nullable
    ScheduledFuture<?> idleTimer;

    boolean closed;
    private volatile @Nullable String closeReason;

    RelayBase(
            RelayEngine engine,
            Listener listener,
            ListenerConfig config,
            InetSocketAddress client,
            InetSocketAddress destination) {
        this.engine = engine;
        this.clock = engine.clock();
        this.listener = listener;
        this.config = config;
        this.startNanos = clock.nanoTime();
        this.idleNanos = config.idleTimeout().toNanos();
        this.lastRead = startNanos;
        this.client = client;
        this.destination = destination;
    }

    /**
     * Whether a just-accepted connection may be relayed: the engine is accepting, the descriptor
     * budget has room and {@code listener} is below its maximum (counted as open when it is).
     */
    static boolean admitted(RelayEngine engine, Listener listener) {
        return engine.accepting()
                && engine.withinDescriptorBudget()
                && listener.stats().admit(listener.config().maxConnections());
    }

    /** {@code address} as an internet address, or the wildcard address when it is not one. */
    static InetSocketAddress address(@Nullable SocketAddress address) {
        return address instanceof InetSocketAddress inet ? inet : new InetSocketAddress(0);
    }

    /** A failure's message, or its class when it has none. */
    static String describe(Throwable cause) {
        String message = cause.getMessage();
        return message == null ? cause.getClass().getSimpleName() : message;
    }

    /** The event loop both sides of the connection run on. */
    abstract EventLoop eventLoop();

    /** Whether reading the backend waits for the client to take what is held for it. Event loop only. */
    abstract boolean backendReadingPaused();

    /** Bytes read from the backend and not yet written to the client. Event loop only. */
    abstract long bytesHeldForClient();

    /** Closes both sides at once (the relay's own close, on its event loop). */
    abstract void close(String reason);

    /** The request for a backend connection of the kind this relay drives. */
    abstract ConnectRequest connectRequest();

    /**
     * Starts relaying over {@code connection}, just connected to {@link #backend} (the relay is
     * open), sending the PROXY header {@code send} first unless it is {@code NONE}.
     */
    abstract void attach(BackendConnection connection, ProxyProtocol send);

    /** Why the connection closed (as its access-log line says), or null while it is open. */
    final @Nullable String closeReason() {
        return closeReason;
    }

    /**
     * Closes the connection now, from any thread; returns the close task when it runs later on the
     * connection's event loop, or null when it is done.
     */
    final io.netty.util.concurrent.@Nullable Future<?> forceClose(String reason) {
        EventLoop loop = eventLoop();
        if (loop.inEventLoop()) {
            close(reason);
            return null;
        }
        try {
            return loop.submit(() -> close(reason));
        } catch (RejectedExecutionException e) {
            close(reason); // the event loop is gone: nothing runs there any more
            return null;
        }
    }

    /**
     * Arms the idle timeout: one timer per connection, checked against the last read on either
     * side (a write follows a read, and a slow reader's progress shows as reads resumed once it
     * drains), rearmed for the time left instead of on every read.
     */
    final void armIdleTimer() {
        idleTimer = eventLoop().schedule(this::idleCheck, idleNanos, TimeUnit.NANOSECONDS);
    }

    private void idleCheck() {
        if (closed) {
            return;
        }
        long quiet = clock.nanoTime() - lastRead;
        if (quiet >= idleNanos) {
            close("idle timeout");
        } else {
            idleTimer = eventLoop().schedule(this::idleCheck, idleNanos - quiet, TimeUnit.NANOSECONDS);
        }
    }

    /** Asks the listener's cluster for a backend connection; {@link #attach} gets it. */
    final void connect() {
        Cluster cluster = engine.cluster(config.cluster());
        if (cluster == null) {
            listener.stats().noBackend();
            close("no cluster named " + config.cluster());
            return;
        }
        ProxyProtocol send = cluster.config().sendProxyProtocol();
        CompletableFuture<BackendConnection> future = cluster.connect(connectRequest());
        connecting = future;
        future.whenComplete((connection, failure) -> {
            EventLoop loop = eventLoop();
            if (loop.inEventLoop()) {
                connected(connection, failure, send);
                return;
            }
            try {
                loop.execute(() -> connected(connection, failure, send));
            } catch (RejectedExecutionException e) {
                if (connection != null) {
                    connection.close();
                }
            }
        });
    }

    private void connected(@Nullable BackendConnection connection, @Nullable Throwable failure, ProxyProtocol send) {
        connecting = null;
        if (connection == null) {
            if (!closed) {
                listener.stats().noBackend();
                Throwable cause = failure == null ? null : Futures.unwrap(failure);
                close("no backend: " + (cause == null ? "none" : cause.getMessage()));
            }
            return;
        }
        if (closed) {
            connection.close();
            return;
        }
        backend = connection.backend();
        attach(connection, send);
    }

    /**
     * The first half of a close: marks the relay closed with {@code reason} and cancels its idle
     * timer and any connect in flight. False if it was already closed (then do nothing more).
     */
    final boolean beginClose(String reason) {
        if (closed) {
            return false;
        }
        closed = true;
        closeReason = reason;
        ScheduledFuture<?> idle = idleTimer;
        if (idle != null) {
            idle.cancel(false);
        }
        CompletableFuture<BackendConnection> inflight = connecting;
        if (inflight != null) {
            inflight.cancel(false);
        }
        return true;
    }

    /**
     * The last half of a close, once both sides are closed: the listener's count, the engine's
     * register and the access-log line, with the bytes read from each side.
     */
    final void finishClose(String reason, long fromClient, long fromBackend) {
        listener.stats().closed();
        engine.closed(this);
        if (!ACCESS.isInfoEnabled()) {
            return;
        }
        BackendStats stats = backend;
        // Formatted here, once, into one string: slf4j's formatter would box the numbers, make an
        // argument array and a map, and copy the line through a builder of its own.
        String line = "closed listener=" + config.name() + " client=" + Addresses.format(client) + " backend="
                + (stats == null ? "-" : stats.logName()) + " duration_ms="
                + (clock.nanoTime() - startNanos) / 1_000_000 + " bytes_from_client=" + fromClient
                + " bytes_from_backend=" + fromBackend + " reason=\"" + reason + '"';
        ACCESS.info(line);
    }
}
