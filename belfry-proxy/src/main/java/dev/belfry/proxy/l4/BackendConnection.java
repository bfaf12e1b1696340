package dev.belfry.proxy.l4;

import dev.belfry.Checks;
import io.netty.channel.Channel;

/**
 * A connected backend channel, as a backend service answers a {@link ConnectRequest}.
 *
 * <p>The channel is open, registered on the request's event loop, with auto-read off and half
 * closure allowed; whoever receives it owns it and closes it. The backend's connection limit
 * permit is held until the channel closes.
 *
 * @param channel the connected channel
 * @param backend the backend it is connected to, with its counters
 */
public record BackendConnection(Channel channel, BackendStats backend) implements AutoCloseable {
    /** Validates that neither part is null. */
    public BackendConnection {
        Checks.notNull(channel, "channel");
        Checks.notNull(backend, "backend");
    }

    /** Closes the channel (asynchronously; its permit goes back once it has closed). */
    @Override
    public void close() {
        channel.close();
    }
}
