package dev.belfry.proxy.l4;

import dev.belfry.Forwarding;
import dev.belfry.Futures;
import dev.belfry.Readiness;
import dev.belfry.Service;
import dev.belfry.balance.Balancer;
import dev.belfry.discover.Discover;
import dev.belfry.discover.DiscoverSource;
import dev.belfry.health.HealthChecked;
import dev.belfry.health.HealthMonitor;
import dev.belfry.limit.Permits;
import dev.belfry.load.Load;
import dev.belfry.load.Loaded;
import dev.belfry.netty.dns.DnsDiscover;
import dev.belfry.proxy.config.BackendConfig;
import dev.belfry.proxy.config.ClusterConfig;
import dev.belfry.proxy.config.HealthCheckConfig;
import dev.belfry.proxy.config.OutlierConfig;
import dev.belfry.retry.RetryBudget;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One cluster at run time, built from the core: discovery (static or DNS) feeds a balancer whose
 * endpoints are health-monitored backend connectors, under a connect retry.
 *
 * <pre>
 *   ConnectRetry ─▶ Balancer (strategy from config, waits ≤ connect timeout for capacity)
 *                      └─▶ per backend: HealthChecked (active check, passive ejection)
 *                                          └─▶ BackendConnector (permits = max connections, connect)
 * </pre>
 *
 * Per-backend state (counters, connection permits) lives in a map keyed by address that a rebuilt
 * cluster inherits, so a reload keeps it for backends that stay.
 */
final class Cluster implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Cluster.class);

    private final ClusterConfig config;
    private final Map<InetSocketAddress, BackendState> states;
    private final @Nullable DiscoverSource<InetSocketAddress, Integer> source;
    private final @Nullable DnsDiscover dns;
    private final HealthMonitor<InetSocketAddress> monitor;
    private final Balancer<ConnectRequest, BackendConnection> balancer;
    private final Service<ConnectRequest, BackendConnection> service;

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
        // A backend back in rotation (healthy again, or out of ejection) ramps up again. The
        // balancer is built after the monitor, so the listener finds it through this holder.
        AtomicReference<@Nullable Balancer<ConnectRequest, BackendConnection>> built = new AtomicReference<>();
        this.monitor = monitor(config, settings, (address, from, to) -> {
            Balancer<ConnectRequest, BackendConnection> current = built.get();
            if (current != null && !from.inRotation() && to.inRotation()) {
                current.restartSlowStart(address);
            }
        });
        Discover<InetSocketAddress, Integer> discover;
        if (config.dns() != null) {
            this.source = null;
            DnsDiscover.Builder lookup = DnsDiscover.builder(
                            config.dns().name(), config.dns().port())
                    .transport(settings.transport())
                    .eventLoop(group.next())
                    .clock(settings.clock());
            if (!config.dns().servers().isEmpty()) {
                lookup.nameServers(config.dns().servers());
            }
            this.dns = lookup.build();
            discover = dns.map((address, endpoint) -> endpoint.weight());
        } else {
            this.dns = null;
            this.source = DiscoverSource.create();
            source.replaceAll(weights(config.backends()));
            discover = source;
        }
        HealthCheckConfig check = config.healthCheck();
        Balancer.Builder<InetSocketAddress, Integer, ConnectRequest, BackendConnection> builder = Balancer.builder(
                        discover, (InetSocketAddress address, Integer weight) -> {
                            BackendState state = state(address);
                            BackendConnector connector =
                                    new BackendConnector(address, state.stats(), state.permits(), own);
                            HealthChecked<ConnectRequest, BackendConnection> checked = check == null
                                    ? monitor.monitor(address, connector)
                                    : monitor.monitor(
                                            address,
                                            connector,
                                            BackendChecks.of(check, address, group, settings.transport()));
                            state.stats().health(checked::state);
                            return new BackendEndpoint(checked, state.stats(), weight);
                        })
                .weight(weight -> weight)
                .clock(settings.clock())
                .maxWait(config.connectTimeout());
        strategy(builder, config);
        if (!config.slowStart().isZero()) {
            builder.slowStart(config.slowStart());
        }
        this.balancer = builder.build();
        built.set(balancer);
        this.service = new ConnectRetry(
                balancer,
                config.connectRetries(),
                RetryBudget.of(settings.clock()),
                settings.retryListeners().apply(config.name()));
        if (dns != null) {
            dns.start().whenComplete((state, failure) -> {
                if (failure != null) {
                    LOG.warn(
                            "cluster {}: DNS discovery of {} failed at start; retrying in the background: {}",
                            config.name(),
                            config.dns().name(),
                            Futures.unwrap(failure).getMessage());
                }
            });
        }
    }

    private static HealthMonitor<InetSocketAddress> monitor(
            ClusterConfig config, ClusterSettings settings, HealthMonitor.Listener<InetSocketAddress> listener) {
        HealthMonitor.Builder<InetSocketAddress> builder = HealthMonitor.<InetSocketAddress>builder()
                .clock(settings.clock())
                .listener(listener);
        HealthCheckConfig check = config.healthCheck();
        if (check != null) {
            builder.interval(check.interval())
                    .timeout(check.timeout())
                    .rise(check.rise())
                    .fall(check.fall());
        }
        OutlierConfig outliers = config.outlierDetection();
        if (outliers != null) {
            builder.consecutiveFailures(outliers.consecutiveFailures())
                    .ejection(outliers.baseEjectionTime(), outliers.maxEjectionTime())
                    .maxEjectedFraction(outliers.maxEjectedPercent() / 100.0)
                    .failureTest(failure -> failure instanceof ConnectFailedException connect && !connect.isLocal());
        } else {
            // No outlier detection configured: connect failures never eject.
            builder.failureTest(failure -> false);
        }
        return builder.build();
    }

    private static void strategy(
            Balancer.Builder<InetSocketAddress, Integer, ConnectRequest, BackendConnection> builder,
            ClusterConfig config) {
        switch (config.balancer()) {
            case ROUND_ROBIN -> builder.roundRobin();
            case WEIGHTED_ROUND_ROBIN -> builder.weightedRoundRobin();
            case WEIGHTED_RANDOM -> builder.weightedRandom();
            // The core's least-connections counts calls in flight, which for a connector are
            // connects, not open connections: two random choices over open connections per
            // weight instead (Envoy's least-request is p2c too).
            case LEAST_CONNECTIONS, P2C_LEAST_LOADED -> builder.p2c(OpenConnections.LOAD);
            case P2C_PEAK_EWMA -> builder.p2c(); // Peak-EWMA of connect times.
            case CONSISTENT_HASH ->
                builder.consistentHash(request -> request.client().getAddress().getHostAddress());
        }
    }

    private static Map<InetSocketAddress, Integer> weights(List<BackendConfig> backends) {
        Map<InetSocketAddress, Integer> weights = new LinkedHashMap<>();
        for (BackendConfig backend : backends) {
            weights.merge(backend.address(), backend.weight(), Integer::sum);
        }
        return weights;
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
        return source != null
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
        DiscoverSource<InetSocketAddress, Integer> own = Objects.requireNonNull(source, "static source");
        own.replaceAll(weights(next.backends()));
        states.keySet().retainAll(weights(next.backends()).keySet());
        return new Cluster(this, next);
    }

    // A view of an updated cluster under its new config, sharing everything else.
    private Cluster(Cluster base, ClusterConfig next) {
        this.config = next;
        this.states = base.states;
        this.source = base.source;
        this.dns = base.dns;
        this.monitor = base.monitor;
        this.balancer = base.balancer;
        this.service = base.service;
    }

    Map<InetSocketAddress, BackendState> states() {
        return states;
    }

    /** Opens a connection to a backend for {@code request}: balanced, limited, retried. */
    CompletableFuture<BackendConnection> connect(ConnectRequest request) {
        return Futures.call(service, request);
    }

    /** The counters of the backends in rotation or out of it, in discovery order. */
    List<BackendStats> backends() {
        List<BackendStats> stats = new ArrayList<>();
        balancer.endpoints().forEach(endpoint -> {
            BackendState state = states.get((InetSocketAddress) endpoint.key());
            if (state != null) {
                stats.add(state.stats());
            }
        });
        return List.copyOf(stats);
    }

    /** Whether any backend would take a connection now. */
    boolean ready() {
        return balancer.readiness() == Readiness.READY;
    }

    /** Stops discovery and checks and closes the balancer; open connections are not touched. */
    @Override
    public void close() {
        balancer.close();
        if (dns != null) {
            dns.close();
        }
    }

    @Override
    public String toString() {
        return "Cluster[" + config.name() + ", " + balancer + "]";
    }

    /** An endpoint as the balancer holds it: a health-checked connector that knows its backend. */
    static final class BackendEndpoint
            extends Forwarding<ConnectRequest, BackendConnection, ConnectRequest, BackendConnection> {
        final BackendStats stats;
        final int weight;

        BackendEndpoint(HealthChecked<ConnectRequest, BackendConnection> inner, BackendStats stats, int weight) {
            super(inner);
            this.stats = stats;
            this.weight = weight;
        }

        @Override
        public CompletableFuture<BackendConnection> call(ConnectRequest request) {
            return inner.call(request);
        }

        @Override
        public @Nullable CompletableFuture<BackendConnection> tryCall(ConnectRequest request) {
            return inner.tryCall(request);
        }

        @Override
        public String toString() {
            return "BackendEndpoint[" + stats.address() + ", " + inner + "]";
        }
    }

    /** Load as open connections (plus connects in flight) per unit of weight. */
    static final class OpenConnections
            extends Forwarding<ConnectRequest, BackendConnection, ConnectRequest, BackendConnection>
            implements Loaded<ConnectRequest, BackendConnection> {
        static final Load<ConnectRequest, BackendConnection> LOAD = service -> new OpenConnections(service);

        private final @Nullable BackendEndpoint endpoint;
        private final AtomicInteger connecting = new AtomicInteger();

        OpenConnections(Service<ConnectRequest, BackendConnection> inner) {
            super(inner);
            this.endpoint = inner instanceof BackendEndpoint backend ? backend : null;
        }

        @Override
        public double load() {
            BackendEndpoint backend = endpoint;
            int open = backend == null ? 0 : backend.stats.connectionsActive();
            return (double) (open + connecting.get()) / (backend == null ? 1 : backend.weight);
        }

        @Override
        public CompletableFuture<BackendConnection> call(ConnectRequest request) {
            return track(Futures.call(inner, request));
        }

        @Override
        public @Nullable CompletableFuture<BackendConnection> tryCall(ConnectRequest request) {
            CompletableFuture<BackendConnection> admitted = inner.tryCall(request);
            return admitted == null ? null : track(admitted);
        }

        private CompletableFuture<BackendConnection> track(CompletableFuture<BackendConnection> inflight) {
            connecting.incrementAndGet();
            inflight.whenComplete((connection, failure) -> connecting.decrementAndGet());
            return inflight;
        }
    }
}
