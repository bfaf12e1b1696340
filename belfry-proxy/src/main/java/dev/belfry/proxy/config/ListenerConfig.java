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
 */
public record ListenerConfig(
        String name,
        InetSocketAddress listen,
        String cluster,
        int maxConnections,
        Duration idleTimeout,
        ProxyProtocol acceptProxyProtocol) {

    /** Default for {@link #maxConnections}. */
    public static final int DEFAULT_MAX_CONNECTIONS = 10_000;

    /** Default for {@link #idleTimeout}. */
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(10);

    public ListenerConfig {
        Checks.notNull(name, "name");
        Checks.notNull(listen, "listen");
        Checks.notNull(cluster, "cluster");
        Checks.positive(maxConnections, "max_connections");
        Checks.positive(idleTimeout, "idle_timeout");
        Checks.notNull(acceptProxyProtocol, "accept_proxy_protocol");
    }
}
