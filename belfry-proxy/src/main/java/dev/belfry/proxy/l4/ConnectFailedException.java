package dev.belfry.proxy.l4;

import dev.belfry.UnprocessedException;
import dev.belfry.proxy.config.Addresses;
import java.net.InetSocketAddress;
import org.jspecify.annotations.Nullable;

/**
 * A backend connect failed (refused, unreachable, timed out): nothing was sent, so the connection
 * may be retried on another backend.
 *
 * <p>A {@linkplain #isLocal() local} failure is the proxy's own: it could not open a socket (out of
 * file descriptors or memory). It says nothing about the backend, so it does not count toward the
 * backend's connect failures or its ejection.
 */
public final class ConnectFailedException extends UnprocessedException {
    private static final long serialVersionUID = 1L;

    private final transient InetSocketAddress backend;
    private final boolean local;

    /** A failure to connect to {@code backend}, caused by {@code cause}. */
    public ConnectFailedException(InetSocketAddress backend, @Nullable Throwable cause) {
        this(backend, cause, false);
    }

    private ConnectFailedException(InetSocketAddress backend, @Nullable Throwable cause, boolean local) {
        super(
                (local
                                ? "cannot open a socket to connect to " + Addresses.format(backend)
                                : "connect to " + Addresses.format(backend) + " failed")
                        + (cause == null ? "" : ": " + cause.getMessage()),
                cause);
        this.backend = backend;
        this.local = local;
    }

    /** The proxy could not open a socket to {@code backend}: its own failure, not the backend's. */
    static ConnectFailedException local(InetSocketAddress backend, @Nullable Throwable cause) {
        // Netty wraps the reason ("Too many open files") in "Failed to open a socket.": show the reason.
        Throwable reason = cause != null && cause.getCause() != null ? cause.getCause() : cause;
        return new ConnectFailedException(backend, reason, true);
    }

    /** Whether the proxy itself failed (no socket), rather than the backend. */
    public boolean isLocal() {
        return local;
    }

    /** The backend that could not be reached. */
    public InetSocketAddress backend() {
        return backend;
    }
}
