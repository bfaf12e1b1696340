package dev.belfry.proxy.l4;

import dev.belfry.limit.Permits;
import dev.belfry.proxy.config.ClusterConfig;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * One L4 cluster at run time: the protocol-neutral cluster stack ({@link
 * dev.belfry.proxy.cluster.Cluster}) over backend connectors.
 *
 * <pre>
 *   RetryElsewhere ─▶ Balancer (strategy from config, waits ≤ connect timeout for capacity)
 *   (connect failures,   └─▶ per backend: HealthChecked (active check, passive ejection)
 *    on untried backends)        └─▶ ConcurrencyLimit (max connections; permit held until the socket closes)
 *                                      └─▶ BackendConnector (connects on the client's event loop)
 * </pre>
 *
 * Per-backend state (counters, connection permits) lives in a map keyed by address that a rebuilt
 * cluster inherits, so a reload keeps it for backends that stay.
 */
final class Cluster implements AutoCloseable {
    private final ClusterConfig config;
    private final Map<InetSocketAddress, BackendState> states;
    private final dev.belfry.proxy.cluster.Cluster<ConnectRequest, BackendConnection> stack;

    /** Counters and connection permits of one backend; kept across rebuilds while the limit is unchanged. */
    record BackendState(BackendStats stats, Permits permits) {}

    Cluster(
            ClusterConfig config,
            ClusterSettings settings,
            EventLoopGroup group,
            @Nullable Map<InetSocketAddress, BackendState> inherited) {
        this.config = config;
        this.states = new ConcurrentHashMap<>();
        if (inherited != null) {
            inherited.forEach((address, state) -> {
                if (state.permits().max() == config.maxConnectionsPerBackend()) {
                    states.put(address, state);
                }
            });
        }
        ClusterSettings own = new ClusterSettings(
                settings.transport(),
                settings.clock(),
                (int) Math.min(Integer.MAX_VALUE, config.connectTimeout().toMillis()),
                settings.connectListener(),
                settings.retryListeners());
        this.stack = dev.belfry.proxy.cluster.Cluster.<ConnectRequest, BackendConnection>builder(
                        config, settings.clock())
                .connector((address, weight) ->
                        new BackendConnector(address, state(address).stats(), own))
                .permits(address -> state(address).permits())
                .releasedWhen(Cluster::closed)
                .memberAdded((address, checked) -> state(address).stats().health(checked::state))
                .healthCheck(address -> BackendChecks.of(
                        Objects.requireNonNull(config.healthCheck(), "health check"),
                        address,
                        group,
                        settings.transport()))
                // A failed connect never sent the client's bytes: safe on another backend.
                .retryIf(failure -> failure instanceof ConnectFailedException)
                .retryListener(settings.retryListeners().apply(config.name()))
                // The proxy's own failures (out of sockets) say nothing about the backend.
                .ejectOn(failure -> failure instanceof ConnectFailedException connect && !connect.isLocal())
                .hashKey(request -> request.client().getAddress().getHostAddress())
                .dns(settings.transport(), group.next())
                .build();
    }

    /** Completes when the connection has closed: its permit goes back then. */
    private static CompletionStage<Void> closed(BackendConnection connection) {
        return connection.whenClosed();
    }

    private BackendState state(InetSocketAddress address) {
        return states.computeIfAbsent(
                address,
                key -> new BackendState(
                        new BackendStats(config.name(), key), Permits.of(config.maxConnectionsPerBackend())));
    }

    ClusterConfig config() {
        return config;
    }

    /**
     * Whether {@code next} differs from this cluster's config in its static backends only, so
     * {@link #updateBackends} can apply it in place.
     */
    boolean backendsOnlyChange(ClusterConfig next) {
        return stack.isStatic()
                && next.dns() == null
                && next.balancer() == config.balancer()
                && next.connectTimeout().equals(config.connectTimeout())
                && next.connectRetries() == config.connectRetries()
                && next.maxConnectionsPerBackend() == config.maxConnectionsPerBackend()
                && next.sendProxyProtocol() == config.sendProxyProtocol()
                && next.slowStart().equals(config.slowStart())
                && Objects.equals(next.healthCheck(), config.healthCheck())
                && Objects.equals(next.outlierDetection(), config.outlierDetection());
    }

    /** Makes the static backend set {@code next}'s; remaining backends keep health and load. */
    Cluster updateBackends(ClusterConfig next) {
        stack.replaceBackends(next.backends());
        states.keySet()
                .retainAll(dev.belfry.proxy.cluster.Cluster.weights(next.backends())
                        .keySet());
        return new Cluster(this, next);
    }

    // A view of an updated cluster under its new config, sharing everything else.
    private Cluster(Cluster base, ClusterConfig next) {
        this.config = next;
        this.states = base.states;
        this.stack = base.stack;
    }

    Map<InetSocketAddress, BackendState> states() {
        return states;
    }

    /** Opens a connection to a backend for {@code request}: balanced, limited, retried. */
    CompletableFuture<BackendConnection> connect(ConnectRequest request) {
        return stack.call(request);
    }

    /** The counters of the backends in rotation or out of it, in discovery order. */
    List<BackendStats> backends() {
        List<BackendStats> stats = new ArrayList<>();
        stack.balancer().endpoints().forEach(endpoint -> {
            BackendState state = states.get((InetSocketAddress) endpoint.key());
            if (state != null) {
                stats.add(state.stats());
            }
        });
        return List.copyOf(stats);
    }

    /** Whether any backend would take a connection now. */
    boolean ready() {
        return stack.ready();
    }

    /** Stops discovery and checks and closes the balancer; open connections are not touched. */
    @Override
    public void close() {
        stack.close();
    }

    @Override
    public String toString() {
        return "Cluster[" + config.name() + ", " + stack + "]";
    }
}
