package dev.belfry.proxy.config;

import dev.belfry.Checks;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A named set of backends and how to balance, check and connect to them.
 *
 * <p>Exactly one of {@link #backends} (static, non-empty) and {@link #dns} is set.
 *
 * @param name unique among clusters
 * @param balancer the balancing strategy (default {@link Balancing#P2C_PEAK_EWMA})
 * @param connectTimeout how long a backend connect may take (default 5 s)
 * @param connectRetries how many other backends to try after a failed connect (default 2)
 * @param maxConnectionsPerBackend open connections per backend at most (default 10 000)
 * @param sendProxyProtocol whether to send a PROXY protocol header to backends
 * @param drainTimeout on shutdown, how long open connections get to finish (default 30 s)
 * @param healthCheck active health checking, or {@code null} for none
 * @param outlierDetection passive ejection, or {@code null} for none
 * @param backends the static backends; empty when {@link #dns} is set
 * @param dns DNS discovery, or {@code null} for static backends
 * @param slowStart how long a backend's share of new connections takes to grow from a tenth to
 *     its whole, when it joins and when it comes back after being unhealthy or ejected; zero (the
 *     default) for none. For the balancers that weigh backends: all but round-robin and
 *     consistent-hash.
 */
public record ClusterConfig(
        String name,
        Balancing balancer,
        Duration connectTimeout,
        int connectRetries,
        int maxConnectionsPerBackend,
        ProxyProtocol sendProxyProtocol,
        Duration drainTimeout,
        @Nullable HealthCheckConfig healthCheck,
        @Nullable OutlierConfig outlierDetection,
        List<BackendConfig> backends,
        @Nullable DnsConfig dns,
        Duration slowStart) {

    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
    public static final int DEFAULT_CONNECT_RETRIES = 2;
    public static final int DEFAULT_MAX_CONNECTIONS_PER_BACKEND = 10_000;
    public static final Duration DEFAULT_DRAIN_TIMEOUT = Duration.ofSeconds(30);

    /** A cluster without slow start. */
    public ClusterConfig(
            String name,
            Balancing balancer,
            Duration connectTimeout,
            int connectRetries,
            int maxConnectionsPerBackend,
            ProxyProtocol sendProxyProtocol,
            Duration drainTimeout,
            @Nullable HealthCheckConfig healthCheck,
            @Nullable OutlierConfig outlierDetection,
            List<BackendConfig> backends,
            @Nullable DnsConfig dns) {
        this(
                name,
                balancer,
                connectTimeout,
                connectRetries,
                maxConnectionsPerBackend,
                sendProxyProtocol,
                drainTimeout,
                healthCheck,
                outlierDetection,
                backends,
                dns,
                Duration.ZERO);
    }

    public ClusterConfig {
        Checks.notNull(name, "name");
        Checks.notNull(balancer, "balancer");
        Checks.positive(connectTimeout, "connect_timeout");
        Checks.nonNegative(connectRetries, "connect_retries");
        Checks.positive(maxConnectionsPerBackend, "max_connections_per_backend");
        Checks.notNull(sendProxyProtocol, "send_proxy_protocol");
        Checks.nonNegative(drainTimeout, "drain_timeout");
        Checks.nonNegative(slowStart, "slow_start");
        backends = List.copyOf(backends);
        if (backends.isEmpty() == (dns == null)) {
            throw new IllegalArgumentException(
                    "cluster " + name + " needs either backends or dns, not " + (dns == null ? "neither" : "both"));
        }
    }
}
