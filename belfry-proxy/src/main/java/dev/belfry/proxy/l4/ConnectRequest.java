package dev.belfry.proxy.l4;

import dev.belfry.Checks;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import java.net.InetSocketAddress;

/**
 * A request for a backend connection on behalf of one client connection: what a backend service
 * ({@code Service<ConnectRequest, BackendConnection>}) receives.
 *
 * <p>The backend connects on the client connection's {@link #eventLoop()}, so both sides of a
 * relay share one thread, and as a {@link io.netty.channel.epoll.DirectSocket} when {@link
 * #direct()} (the client connection is one too), else as a channel. Immutable: a connect retry
 * names the backends to avoid itself, to the balancer.
 */
public final class ConnectRequest {
    private final EventLoop loop;
    private final boolean direct;
    private final InetSocketAddress client;
    private final InetSocketAddress destination;

    private ConnectRequest(EventLoop loop, boolean direct, InetSocketAddress client, InetSocketAddress destination) {
        this.loop = Checks.notNull(loop, "loop");
        this.direct = direct;
        this.client = Checks.notNull(client, "client");
        this.destination = Checks.notNull(destination, "destination");
    }

    /**
     * A request for the client channel {@code inbound}, whose client is {@code client} (its remote
     * address, or the source a PROXY protocol header named) and which was addressed to {@code
     * destination}: the backend connection is to be a channel on {@code inbound}'s event loop.
     */
    public static ConnectRequest of(Channel inbound, InetSocketAddress client, InetSocketAddress destination) {
        return new ConnectRequest(Checks.notNull(inbound, "inbound").eventLoop(), false, client, destination);
    }

    /**
     * A request for a client connection relayed without channels on the epoll event loop {@code
     * loop}: the backend connection is to be a direct socket registered there.
     */
    public static ConnectRequest direct(EventLoop loop, InetSocketAddress client, InetSocketAddress destination) {
        return new ConnectRequest(loop, true, client, destination);
    }

    /** Whether the backend connection is to be a direct socket rather than a channel. */
    public boolean direct() {
        return direct;
    }

    /** The event loop the backend connection must use: the client connection's. */
    public EventLoop eventLoop() {
        return loop;
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
