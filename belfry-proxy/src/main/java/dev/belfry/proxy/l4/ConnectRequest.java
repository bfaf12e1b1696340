package dev.belfry.proxy.l4;

import dev.belfry.Checks;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * A request for a backend connection on behalf of one client connection: what a backend service
 * ({@code Service<ConnectRequest, BackendConnection>}) receives.
 *
 * <p>The backend connects on the client channel's {@link #eventLoop()}, so both sides of a relay
 * share one thread. The request also remembers which backends it was already sent to, so a connect
 * retry goes to another backend while one is left; that record is written only between attempts,
 * never concurrently.
 */
public final class ConnectRequest {
    private final Channel inbound;
    private final InetSocketAddress client;
    private final InetSocketAddress destination;
    // Guarded by this; attempts run one after the other, the lock only publishes between threads.
    private final List<InetSocketAddress> tried = new ArrayList<>(2);
    private boolean avoidTried;

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

    /** The backends this request was sent to so far, in order. */
    public synchronized List<InetSocketAddress> tried() {
        return List.copyOf(tried);
    }

    synchronized void attempted(InetSocketAddress backend) {
        tried.add(backend);
    }

    /** Whether a backend should refuse this request because it already had it. */
    synchronized boolean refuses(InetSocketAddress backend) {
        return avoidTried && tried.contains(backend);
    }

    synchronized void avoidTried(boolean avoid) {
        avoidTried = avoid;
    }

    @Override
    public String toString() {
        return "ConnectRequest[" + client + " -> " + destination + ", tried " + tried() + "]";
    }
}
