package dev.belfry.proxy.l4;

import io.netty.channel.EventLoop;
import org.jspecify.annotations.Nullable;

/**
 * One proxied connection, as the engine tracks it (to drain and close it) whichever way it is
 * relayed: {@link DirectRelay} (epoll, no channels) or {@link Relay} (Netty channels).
 */
interface RelayConnection {
    /** The event loop both sides of the connection run on. */
    EventLoop eventLoop();

    /**
     * Closes the connection now, from any thread; returns the close task when it runs later on the
     * connection's event loop, or null when it is done.
     */
    io.netty.util.concurrent.@Nullable Future<?> forceClose(String reason);

    /** Why the connection closed (as its access-log line says), or null while it is open. */
    @Nullable
    String closeReason();

    /** Whether reading the backend waits for the client to take what is held for it. Event loop only. */
    boolean backendReadingPaused();

    /** Bytes read from the backend and not yet written to the client. Event loop only. */
    long bytesHeldForClient();
}
