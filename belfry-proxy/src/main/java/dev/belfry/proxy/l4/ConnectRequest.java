package dev.belfry.proxy.l4;

import dev.belfry.Checks;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import java.net.InetSocketAddress;

/**
 * A request for a backend connection on behalf of one client connection: what a backend service
 * ({@code Service<ConnectRequest, BackendConnection>}) receives.
 *
 * <p>The backend connects on the client channel's {@link #eventLoop()}, so both sides of a relay
 * share one thread. Immutable: a connect retry names the backends to avoid itself, to the balancer.
 */
public final class ConnectRequest {
    private final Channel inbound;
    private final InetSocketAddress client;
    private final InetSocketAddress destination;

    private ConnectRequest(Channel inbound, InetSocketAddress client, InetSocketAddress destination) {
        this.inbound = Checks.notNull(inbound, "inbound");
        this.client = Checks.notNull(client, "client");
        this.destination = Checks.notNull(destination, "destination");
    }

    /**
     * A request for the client connection {@code inbound}, whose client is {@code client} (its
     * remote address, or the source a PROXY protocol header named) and which was addressed to
     * {@code destination}.
     */
    public static ConnectRequest of(Channel inbound, InetSocketAddress client, InetSocketAddress destination) {
        return new ConnectRequest(inbound, client, destination);
    }

    /** The client connection this backend connection is for. */
    public Channel inbound() {
        return inbound;
    }

    /** The event loop the backend connection must use: the client channel's. */
    public EventLoop eventLoop() {
        return inbound.eventLoop();
    }

    /** The client's address: the PROXY protocol source if the client sent one, else its remote address. */
    public InetSocketAddress client() {
        return client;
    }

    /** The address the client connected to (or the PROXY protocol destination). */
    public InetSocketAddress destination() {
        return destination;
    }

    @Override
    public String toString() {
        return "ConnectRequest[" + client + " -> " + destination + "]";
    }
}
