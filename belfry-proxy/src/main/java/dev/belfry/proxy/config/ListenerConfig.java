package dev.belfry.proxy.config;

import dev.belfry.Checks;
import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * One listening socket and the cluster it forwards to.
 *
 * @param name unique among listeners
 * @param listen the address to bind (a literal address; port 0 picks a free port)
 * @param cluster the name of the cluster connections go to
 * @param maxConnections open client connections at most; the excess are closed at once and counted
 * @param idleTimeout a connection with no bytes either way for this long is closed
 * @param acceptProxyProtocol whether clients must send a PROXY protocol header, and which version
 * @param proxyHeaderTimeout with {@code acceptProxyProtocol}, how long a client has from its connect
 *     to send the whole header before it is closed and counted as a header failure (default 5 s)
 */
public record ListenerConfig(
        String name,
        InetSocketAddress listen,
        String cluster,
        int maxConnections,
        Duration idleTimeout,
        ProxyProtocol acceptProxyProtocol,
        Duration proxyHeaderTimeout) {

    /** Default for {@link #maxConnections}. */
    public static final int DEFAULT_MAX_CONNECTIONS = 10_000;

    /** Default for {@link #idleTimeout}. */
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(10);

    /** Default for {@link #proxyHeaderTimeout}. */
    public static final Duration DEFAULT_PROXY_HEADER_TIMEOUT = Duration.ofSeconds(5);

    public ListenerConfig {
        Checks.notNull(name, "name");
        Checks.notNull(listen, "listen");
        Checks.notNull(cluster, "cluster");
        Checks.positive(maxConnections, "max_connections");
        Checks.positive(idleTimeout, "idle_timeout");
        Checks.notNull(acceptProxyProtocol, "accept_proxy_protocol");
        Checks.positive(proxyHeaderTimeout, "proxy_protocol_timeout");
    }

    /** A listener with the default {@link #proxyHeaderTimeout}. */
    public ListenerConfig(
            String name,
            InetSocketAddress listen,
            String cluster,
            int maxConnections,
            Duration idleTimeout,
            ProxyProtocol acceptProxyProtocol) {
        this(name, listen, cluster, maxConnections, idleTimeout, acceptProxyProtocol, DEFAULT_PROXY_HEADER_TIMEOUT);
    }
}
