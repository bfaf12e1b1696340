package dev.belfry.proxy.l4;

import dev.belfry.Checks;
import io.netty.channel.Channel;
import io.netty.channel.epoll.DirectSocket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.jspecify.annotations.Nullable;

/**
 * A connected backend socket, as a backend service answers a {@link ConnectRequest}: a {@link
 * DirectSocket} when the request {@linkplain ConnectRequest#direct() asked for one}, else a channel.
 *
 * <p>A channel is open, registered on the request's event loop, with auto-read off and half closure
 * allowed; a direct socket is connected and registered on that loop, reporting to no one until its
 * new owner gives it a handler. Whoever receives the connection owns it and closes it. The
 * backend's connection limit permit is held until it closes.
 */
public final class BackendConnection implements AutoCloseable {
    private final @Nullable Channel channel;
    private final @Nullable DirectSocket socket;
    private final BackendStats backend;

    /** A connected channel to {@code backend}. */
    public BackendConnection(Channel channel, BackendStats backend) {
        this.channel = Checks.notNull(channel, "channel");
        this.socket = null;
        this.backend = Checks.notNull(backend, "backend");
    }

    /** A connected direct socket to {@code backend}. */
    public BackendConnection(DirectSocket socket, BackendStats backend) {
        this.channel = null;
        this.socket = Checks.notNull(socket, "socket");
        this.backend = Checks.notNull(backend, "backend");
    }

    /** The connected channel, or null for a direct socket. */
    public @Nullable Channel channel() {
        return channel;
    }

    /** The connected direct socket, or null for a channel. */
    public @Nullable DirectSocket socket() {
        return socket;
    }

    /** The backend it is connected to, with its counters. */
    public BackendStats backend() {
        return backend;
    }

    /** Completes once the connection has closed. */
    public CompletionStage<Void> whenClosed() {
        DirectSocket direct = socket;
        if (direct != null) {
            return direct.whenClosed();
        }
        CompletableFuture<Void> closed = new CompletableFuture<>();
        Checks.notNull(channel, "channel").closeFuture().addListener(done -> closed.complete(null));
        return closed;
    }

    /** Closes the connection (a channel asynchronously; its permit goes back once it has closed). */
    @Override
    public void close() {
        if (socket != null) {
            socket.close();
        } else if (channel != null) {
            channel.close();
        }
    }

    @Override
    public String toString() {
        return "BackendConnection[" + backend.cluster() + "/" + backend.address() + "]";
    }
}
