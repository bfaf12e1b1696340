package dev.belfry.proxy.l4;

import dev.belfry.UnprocessedException;
import java.net.InetSocketAddress;
import org.jspecify.annotations.Nullable;

/**
 * A backend connect failed (refused, unreachable, timed out): nothing was sent, so the connection
 * may be retried on another backend.
 */
public final class ConnectFailedException extends UnprocessedException {
    private static final long serialVersionUID = 1L;

    private final transient InetSocketAddress backend;

    /** A failure to connect to {@code backend}, caused by {@code cause}. */
    public ConnectFailedException(InetSocketAddress backend, @Nullable Throwable cause) {
        super("connect to " + backend + " failed" + (cause == null ? "" : ": " + cause.getMessage()), cause);
        this.backend = backend;
    }

    /** The backend that could not be reached. */
    public InetSocketAddress backend() {
        return backend;
    }
}
