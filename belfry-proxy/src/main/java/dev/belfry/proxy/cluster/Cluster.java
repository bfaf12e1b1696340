package dev.belfry.proxy.cluster;

import dev.belfry.Checks;
import dev.belfry.Forwarding;
import dev.belfry.Futures;
import dev.belfry.Readiness;
import dev.belfry.Service;
import dev.belfry.balance.Balancer;
import dev.belfry.balance.RetryElsewhere;
import dev.belfry.discover.Discover;
import dev.belfry.discover.DiscoverSource;
import dev.belfry.health.HealthCheck;
import dev.belfry.health.HealthChecked;
import dev.belfry.health.HealthMonitor;
import dev.belfry.limit.ConcurrencyLimit;
import dev.belfry.limit.Permits;
import dev.belfry.load.Load;
import dev.belfry.load.Loaded;
import dev.belfry.netty.dns.DnsDiscover;
import dev.belfry.netty.transport.Transport;
import dev.belfry.proxy.config.BackendConfig;
import dev.belfry.proxy.config.ClusterConfig;
import dev.belfry.proxy.config.HealthCheckConfig;
import dev.belfry.proxy.config.OutlierConfig;
import dev.belfry.retry.RetryBudget;
import dev.belfry.retry.RetryListener;
import dev.belfry.time.Clock;
import io.netty.channel.EventLoop;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One cluster's stack of core layers, built once from its {@link ClusterConfig}, whatever travels
 * through it: a TCP connect, an HTTP request, a gRPC call.
 *
 * <pre>
 *   service() = RetryElsewhere (connectRetries, RetryBudget; only failures retryIf accepts)
 *                 └─▶ Balancer (strategy from config, slow start, waits ≤ connectTimeout)
 *                       └─▶ per endpoint: HealthChecked (active check, passive ejection, from config)
 *                                └─▶ ConcurrencyLimit (maxConnectionsPerBackend; permit held
 *                                       until the response says it is released)
 *                                      └─▶ the connector's service for that address
 *   Discovery: the static backends (replaceable in place) or DNS (DnsDiscover), weights from config
 * </pre>
 *
 * <p>A protocol engine supplies only what is its own: the {@code connector} making an endpoint's
 * service for an address, when a response is released (a connection's close, a body's end), which
 * failures eject an endpoint and which may be retried elsewhere, the active check, and the key
 * consistent hashing uses. Per-endpoint permits come from {@link Builder#permits}, so an engine
 * that keeps them across a reload keeps each endpoint's load. Thread-safe.
 *
 * @param <Req> the request type
 * @param <Res> the response type
 */
public final class Cluster<Req, Res> implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Cluster.class);

    private final ClusterConfig config;
    private final @Nullable DiscoverSource<InetSocketAddress, Integer> source;
    private final @Nullable DnsDiscover dns;
    private final Balancer<Req, Res> balancer;
    private final RetryElsewhere<Req, Res> service;

    private Cluster(Builder<Req, Res> b) {
        this.config = b.config;
        BiFunction<? super InetSocketAddress, ? super Integer, ? extends Service<Req, Res>> connector =
                Checks.notNull(b.connector, "connector");
        Function<? super Res, ? extends @Nullable CompletionStage<?>> released = b.released;
        Function<? super InetSocketAddress, Permits> permits = b.permits;
        // An endpoint back in rotation (healthy again, or out of ejection) ramps up again. The
        // balancer is built after the monitor, so the listener finds it through this holder.
        AtomicReference<@Nullable Balancer<Req, Res>> built = new AtomicReference<>();
        HealthMonitor<InetSocketAddress> monitor = monitor(config, b.clock, b.ejectOn, (address, from, to) -> {
            Balancer<Req, Res> current = built.get();
            if (current != null && !from.inRotation() && to.inRotation()) {
                current.restartSlowStart(address);
            }
        });
        Discover<InetSocketAddress, Integer> discover;
        if (config.dns() != null) {
            this.source = null;
            DnsDiscover.Builder lookup = DnsDiscover.builder(
                            config.dns().name(), config.dns().port())
                    .transport(Checks.notNull(b.transport, "transport (for DNS discovery)"))
                    .eventLoop(Checks.notNull(b.dnsLoop, "event loop (for DNS discovery)"))
                    .clock(b.clock);
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
        Function<? super InetSocketAddress, ? extends HealthCheck> checks = b.healthCheck;
        BiConsumer<? super InetSocketAddress, ? super HealthChecked<Req, Res>> added = b.memberAdded;
        Balancer.Builder<InetSocketAddress, Integer, Req, Res> builder = Balancer.builder(
                        discover, (InetSocketAddress address, Integer weight) -> {
                            Permits own = permits.apply(address);
                            Service<Req, Res> raw = connector.apply(address, weight);
                            Service<Req, Res> limited = released == null
                                    ? new ConcurrencyLimit<>(raw, own)
                                    : new ConcurrencyLimit<>(raw, own, released);
                            HealthChecked<Req, Res> checked = check == null || checks == null
                                    ? monitor.monitor(address, limited)
                                    : monitor.monitor(address, limited, checks.apply(address));
                            added.accept(address, checked);
                            return new Member<>(checked, own, weight);
                        })
                .weight(weight -> weight)
                .clock(b.clock)
                .maxWait(config.connectTimeout());
        strategy(builder, config, b.hashKey);
        if (!config.slowStart().isZero()) {
            builder.slowStart(config.slowStart());
        }
        this.balancer = builder.build();
        built.set(balancer);
        this.service = RetryElsewhere.builder(balancer, RetryBudget.of(b.clock))
                .maxRetries(config.connectRetries())
                .retryIf(b.retryIf)
                .listener(b.retryListener)
                .build();
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

    /** A builder of the cluster {@code config} describes, timed on {@code clock}. */
    public static <Req, Res> Builder<Req, Res> builder(ClusterConfig config, Clock clock) {
        return new Builder<>(config, clock);
    }

    private static HealthMonitor<InetSocketAddress> monitor(
            ClusterConfig config,
            Clock clock,
            Predicate<? super Throwable> ejectOn,
            HealthMonitor.Listener<InetSocketAddress> listener) {
        HealthMonitor.Builder<InetSocketAddress> builder =
                HealthMonitor.<InetSocketAddress>builder().clock(clock).listener(listener);
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
                    .failureTest(ejectOn);
        } else {
            // No outlier detection configured: failures never eject.
            builder.failureTest(failure -> false);
        }
        return builder.build();
    }

    private static <Req, Res> void strategy(
            Balancer.Builder<InetSocketAddress, Integer, Req, Res> builder,
            ClusterConfig config,
            @Nullable Function<? super Req, ?> hashKey) {
        switch (config.balancer()) {
            case ROUND_ROBIN -> builder.roundRobin();
            case WEIGHTED_ROUND_ROBIN -> builder.weightedRoundRobin();
            case WEIGHTED_RANDOM -> builder.weightedRandom();
            // The core's least-connections counts calls in flight, which for a connector are
            // connects, not open connections: two random choices over held permits (live
            // responses plus calls in flight) per weight instead (Envoy's least-request is p2c too).
            case LEAST_CONNECTIONS, P2C_LEAST_LOADED -> builder.p2c(HeldPermits.measure());
            case P2C_PEAK_EWMA -> builder.p2c(); // Peak-EWMA of call times.
            case CONSISTENT_HASH ->
                builder.consistentHash(
                        Objects.requireNonNull(hashKey, "consistent hashing needs a hash key from the engine"));
        }
    }

    /** Each static backend's weight; a backend listed twice weighs the sum. */
    public static Map<InetSocketAddress, Integer> weights(List<BackendConfig> backends) {
        Map<InetSocketAddress, Integer> weights = new LinkedHashMap<>();
        for (BackendConfig backend : backends) {
            weights.merge(backend.address(), backend.weight(), Integer::sum);
        }
        return weights;
    }

    /** The config this cluster was built from. */
    public ClusterConfig config() {
        return config;
    }

    /** The whole stack: retry elsewhere over the balancer over limited, health-checked endpoints. */
    public Service<Req, Res> service() {
        return service;
    }

    /** Sends {@code request} through the stack. Never throws. */
    public CompletableFuture<Res> call(Req request) {
        return Futures.call(service, request);
    }

    /** The balancer, for its endpoint list. */
    public Balancer<Req, Res> balancer() {
        return balancer;
    }

    /** Whether any endpoint would admit a request now. */
    public boolean ready() {
        return balancer.readiness() == Readiness.READY;
    }

    /** Whether the endpoints come from the static list in the config (so {@link #replaceBackends} applies). */
    public boolean isStatic() {
        return source != null;
    }

    /**
     * Makes the static backend set {@code backends}; endpoints that remain keep their health and
     * load.
     *
     * @throws IllegalStateException if the cluster discovers its endpoints by DNS
     */
    public void replaceBackends(List<BackendConfig> backends) {
        DiscoverSource<InetSocketAddress, Integer> own = source;
        if (own == null) {
            throw new IllegalStateException("cluster " + config.name() + " discovers its backends by DNS");
        }
        own.replaceAll(weights(backends));
    }

    /** Stops discovery and health checks and closes the balancer; live responses are not touched. */
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

    /** An endpoint as the balancer holds it: health-checked and limited, with its permits and weight. */
    static final class Member<Req, Res> extends Forwarding<Req, Res, Req, Res> {
        final Permits permits;
        final int weight;

        Member(HealthChecked<Req, Res> inner, Permits permits, int weight) {
            super(inner);
            this.permits = permits;
            this.weight = weight;
        }

        @Override
        public CompletableFuture<Res> call(Req request) {
            return inner.call(request);
        }

        @Override
        public @Nullable CompletableFuture<Res> tryCall(Req request) {
            return inner.tryCall(request);
        }

        @Override
        public String toString() {
            return "Member[" + inner + ", " + permits + "]";
        }
    }

    /** Load as permits held (live responses plus calls in flight) per unit of weight. */
    static final class HeldPermits<Req, Res> extends Forwarding<Req, Res, Req, Res> implements Loaded<Req, Res> {
        private final @Nullable Member<Req, Res> member;
        private final AtomicInteger calling = new AtomicInteger();

        HeldPermits(Service<Req, Res> inner) {
            super(inner);
            this.member = inner instanceof Member<Req, Res> m ? m : null;
        }

        static <Req, Res> Load<Req, Res> measure() {
            return HeldPermits::new;
        }

        @Override
        public double load() {
            Member<Req, Res> m = member;
            if (m == null) {
                return calling.get();
            }
            return (double) (m.permits.max() - m.permits.available()) / m.weight;
        }

        @Override
        public CompletableFuture<Res> call(Req request) {
            return track(Futures.call(inner, request));
        }

        @Override
        public @Nullable CompletableFuture<Res> tryCall(Req request) {
            CompletableFuture<Res> admitted = inner.tryCall(request);
            return admitted == null ? null : track(admitted);
        }

        private CompletableFuture<Res> track(CompletableFuture<Res> inflight) {
            calling.incrementAndGet();
            inflight.whenComplete((response, failure) -> calling.decrementAndGet());
            return inflight;
        }
    }

    /**
     * What a protocol engine supplies to a {@link Cluster}; the connector is required, each other
     * setting has a default.
     *
     * @param <Req> the request type
     * @param <Res> the response type
     */
    public static final class Builder<Req, Res> {
        private final ClusterConfig config;
        private final Clock clock;
        private @Nullable BiFunction<? super InetSocketAddress, ? super Integer, ? extends Service<Req, Res>> connector;
        private @Nullable Function<? super Res, ? extends @Nullable CompletionStage<?>> released;
        private Function<? super InetSocketAddress, Permits> permits;
        private Predicate<? super Throwable> ejectOn = failure -> false;
        private Predicate<? super Throwable> retryIf = failure -> failure instanceof dev.belfry.UnprocessedException;
        private RetryListener retryListener = RetryListener.none();
        private @Nullable Function<? super InetSocketAddress, ? extends HealthCheck> healthCheck;
        private BiConsumer<? super InetSocketAddress, ? super HealthChecked<Req, Res>> memberAdded =
                (address, member) -> {};
        private @Nullable Function<? super Req, ?> hashKey;
        private @Nullable Transport transport;
        private @Nullable EventLoop dnsLoop;

        private Builder(ClusterConfig config, Clock clock) {
            this.config = Checks.notNull(config, "config");
            this.clock = Checks.notNull(clock, "clock");
            this.permits = address -> Permits.of(config.maxConnectionsPerBackend());
        }

        /** Makes the raw service of the endpoint at an address with a weight; called on the balancer's executor. */
        public Builder<Req, Res> connector(
                BiFunction<? super InetSocketAddress, ? super Integer, ? extends Service<Req, Res>> connector) {
            Checks.notSetTwice(this.connector == null ? null : "a connector", "connector");
            this.connector = Checks.notNull(connector, "connector");
            return this;
        }

        /**
         * When a response releases its endpoint's permit: a connection's close, a body's end. By
         * default the permit goes back when the call completes.
         */
        public Builder<Req, Res> releasedWhen(Function<? super Res, ? extends @Nullable CompletionStage<?>> released) {
            this.released = Checks.notNull(released, "released");
            return this;
        }

        /**
         * Each endpoint's permits (at most {@code maxConnectionsPerBackend} live responses); by
         * default new ones for each endpoint. Return the same object for an address to keep its load
         * across rebuilds.
         */
        public Builder<Req, Res> permits(Function<? super InetSocketAddress, Permits> permits) {
            this.permits = Checks.notNull(permits, "permits");
            return this;
        }

        /** Which failures count toward ejecting an endpoint, when outlier detection is configured. */
        public Builder<Req, Res> ejectOn(Predicate<? super Throwable> ejectOn) {
            this.ejectOn = Checks.notNull(ejectOn, "ejectOn");
            return this;
        }

        /** Which failures are retried on another endpoint; default {@code UnprocessedException}s. */
        public Builder<Req, Res> retryIf(Predicate<? super Throwable> retryIf) {
            this.retryIf = Checks.notNull(retryIf, "retryIf");
            return this;
        }

        /** Hears the cluster's retries and the budget's refusals (the proxy's metrics); default none. */
        public Builder<Req, Res> retryListener(RetryListener retryListener) {
            this.retryListener = Checks.notNull(retryListener, "retryListener");
            return this;
        }

        /** The active check of the endpoint at an address, used when the config has a health check. */
        public Builder<Req, Res> healthCheck(Function<? super InetSocketAddress, ? extends HealthCheck> healthCheck) {
            this.healthCheck = Checks.notNull(healthCheck, "healthCheck");
            return this;
        }

        /** Told of each endpoint made, with its health-checked service (for its state). */
        public Builder<Req, Res> memberAdded(
                BiConsumer<? super InetSocketAddress, ? super HealthChecked<Req, Res>> memberAdded) {
            this.memberAdded = Checks.notNull(memberAdded, "memberAdded");
            return this;
        }

        /** The key consistent hashing uses; required for the consistent-hash balancer. */
        public Builder<Req, Res> hashKey(Function<? super Req, ?> hashKey) {
            this.hashKey = Checks.notNull(hashKey, "hashKey");
            return this;
        }

        /** The transport and event loop DNS discovery runs on; required when the config uses DNS. */
        public Builder<Req, Res> dns(Transport transport, EventLoop loop) {
            this.transport = Checks.notNull(transport, "transport");
            this.dnsLoop = Checks.notNull(loop, "loop");
            return this;
        }

        /** Builds the stack and starts discovery (and checks). */
        public Cluster<Req, Res> build() {
            return new Cluster<>(this);
        }
    }
}
