package dev.belfry.proxy.admin;

import dev.belfry.Checks;
import dev.belfry.breaker.BreakerListener;
import dev.belfry.breaker.CircuitState;
import dev.belfry.retry.RetryListener;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.Locale;
import java.util.function.DoubleConsumer;
import org.jspecify.annotations.Nullable;

/**
 * The proxy's Prometheus metrics: counters and gauges read from a {@link ProxyStatus} at scrape
 * time, a connect-latency histogram the engine feeds, and the JVM's metrics.
 *
 * <p>The relay's hot path never touches Prometheus objects: the engine keeps its own counters
 * (e.g. {@link java.util.concurrent.atomic.LongAdder}) behind {@link ProxyStatus}, and each scrape
 * reads one snapshot of it. The only metric the engine writes is the connect-latency histogram,
 * once per connection attempt, through a recorder it looks up once per backend with {@link
 * #connectLatency}.
 *
 * <p>The core layers a cluster is built from report their decisions through listeners this class
 * hands out: {@link #retryListener} for a cluster's retry layer, {@link #breakerListener} for a
 * circuit breaker. Each listener looks its counters up once, so an event is one atomic add.
 *
 * <table>
 *   <caption>Metrics (counters get the {@code _total} suffix in the exposition)</caption>
 *   <tr><th>name</th><th>type</th><th>labels</th></tr>
 *   <tr><td>{@code belfry_listener_connections_active}</td><td>gauge</td><td>listener</td></tr>
 *   <tr><td>{@code belfry_listener_connections_total}</td><td>counter</td><td>listener</td></tr>
 *   <tr><td>{@code belfry_listener_connections_rejected_total}</td><td>counter</td><td>listener</td></tr>
 *   <tr><td>{@code belfry_backend_connections_active}</td><td>gauge</td><td>cluster, backend</td></tr>
 *   <tr><td>{@code belfry_backend_connect_failures_total}</td><td>counter</td><td>cluster, backend</td></tr>
 *   <tr><td>{@code belfry_backend_healthy}</td><td>gauge (1 or 0)</td><td>cluster, backend</td></tr>
 *   <tr><td>{@code belfry_backend_connect_seconds}</td><td>histogram</td><td>cluster, backend</td></tr>
 *   <tr><td>{@code belfry_cluster_retries_total}</td><td>counter</td><td>cluster</td></tr>
 *   <tr><td>{@code belfry_cluster_retry_budget_exhausted_total}</td><td>counter</td><td>cluster</td></tr>
 *   <tr><td>{@code belfry_breaker_transitions_total}</td><td>counter</td><td>cluster, backend (empty
 *       for a breaker over the whole cluster), from, to ({@code closed}, {@code open} or {@code
 *       half_open})</td></tr>
 *   <tr><td>{@code belfry_bytes_total}</td><td>counter</td><td>listener, cluster, backend, direction
 *       ({@code client_to_backend} or {@code backend_to_client})</td></tr>
 *   <tr><td>{@code belfry_ready}</td><td>gauge (1 or 0)</td><td>none</td></tr>
 *   <tr><td>{@code belfry_draining}</td><td>gauge (1 or 0)</td><td>none</td></tr>
 *   <tr><td>{@code belfry_config_last_reload_successful}</td><td>gauge (1 or 0), absent before the
 *       first reload</td><td>none</td></tr>
 *   <tr><td>{@code jvm_*}, {@code process_*}</td><td>various</td><td>see the Prometheus JVM
 *       instrumentation</td></tr>
 * </table>
 *
 * <p>Thread-safety: all methods may be called from any thread.
 */
public final class ProxyMetrics {
    /** Connect-latency buckets in seconds: loopback and LAN connects land low, timeouts at the top. */
    private static final double[] CONNECT_BUCKETS = {
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
    };

    private final PrometheusRegistry registry;
    private final Histogram connectSeconds;
    private final Counter retries;
    private final Counter budgetExhausted;
    private final Counter breakerTransitions;

    private ProxyMetrics(PrometheusRegistry registry, ProxyStatus status) {
        this.registry = registry;
        registry.register(new StatusCollector(status));
        this.connectSeconds = Histogram.builder()
                .name("belfry_backend_connect_seconds")
                .help("Time to open a connection to a backend, successful or not")
                .unit(Unit.SECONDS)
                .labelNames("cluster", "backend")
                .classicOnly()
                .classicUpperBounds(CONNECT_BUCKETS)
                .withoutExemplars()
                .register(registry);
        this.retries = Counter.builder()
                .name("belfry_cluster_retries")
                .help("Requests a cluster tried again on another attempt (for L4: connects retried)")
                .labelNames("cluster")
                .withoutExemplars()
                .register(registry);
        this.budgetExhausted = Counter.builder()
                .name("belfry_cluster_retry_budget_exhausted")
                .help("Retries a cluster wanted but its retry budget refused")
                .labelNames("cluster")
                .withoutExemplars()
                .register(registry);
        this.breakerTransitions = Counter.builder()
                .name("belfry_breaker_transitions")
                .help("Circuit breaker state changes, by the state left and the state entered")
                .labelNames("cluster", "backend", "from", "to")
                .withoutExemplars()
                .register(registry);
        // Idempotent per registry: the instrumentation remembers where it registered.
        JvmMetrics.builder().register(registry);
    }

    /**
     * Metrics read from {@code status}, in a new registry of their own.
     *
     * <p>{@code status} is only read when metrics are scraped, so an engine may pass itself while it
     * is being built as long as it is ready before the admin server starts.
     */
    public static ProxyMetrics create(ProxyStatus status) {
        return create(status, new PrometheusRegistry());
    }

    /**
     * Metrics read from {@code status}, registered in {@code registry} together with the JVM's.
     *
     * @throws IllegalStateException if {@code registry} already holds metrics of the same names
     */
    public static ProxyMetrics create(ProxyStatus status, PrometheusRegistry registry) {
        Checks.notNull(status, "status");
        Checks.notNull(registry, "registry");
        return new ProxyMetrics(registry, status);
    }

    /** The registry these metrics are in: what the admin server's {@code /metrics} scrapes. */
    public PrometheusRegistry registry() {
        return registry;
    }

    /**
     * A recorder of connect times, in seconds, for one backend of one cluster.
     *
     * <p>Look it up once per backend and keep it: recording is then a few atomic operations with no
     * lookup or allocation. Call {@link #removeBackend} when the backend leaves its cluster.
     */
    public DoubleConsumer connectLatency(String cluster, String backend) {
        Checks.notNull(cluster, "cluster");
        Checks.notNull(backend, "backend");
        return connectSeconds.labelValues(cluster, backend)::observe;
    }

    /**
     * Forgets the connect-latency histogram of a backend that has left its cluster, so its series stop
     * being exported; its other metrics go with it from {@link ProxyStatus} by themselves.
     */
    public void removeBackend(String cluster, String backend) {
        Checks.notNull(cluster, "cluster");
        Checks.notNull(backend, "backend");
        connectSeconds.remove(cluster, backend);
    }

    /**
     * A listener for the retry layer of cluster {@code cluster}: counts its retries in {@code
     * belfry_cluster_retries_total} and the retries its budget refused in {@code
     * belfry_cluster_retry_budget_exhausted_total}. Listeners for the same cluster share counters,
     * so a cluster rebuilt on reload keeps counting where it was.
     */
    public RetryListener retryListener(String cluster) {
        Checks.notNull(cluster, "cluster");
        return new ClusterRetries(cluster, retries.labelValues(cluster), budgetExhausted.labelValues(cluster));
    }

    /**
     * A listener for a circuit breaker of {@code cluster}: counts each state change in {@code
     * belfry_breaker_transitions_total}. {@code backend} names the backend the breaker guards, or
     * is {@code null} for a breaker over the whole cluster (an empty label).
     */
    public BreakerListener breakerListener(String cluster, @Nullable String backend) {
        Checks.notNull(cluster, "cluster");
        return new BreakerTransitions(breakerTransitions, cluster, backend == null ? "" : backend);
    }

    /** Counts one cluster's retries; two atomic counters, looked up once. */
    private record ClusterRetries(String cluster, CounterDataPoint retried, CounterDataPoint refused)
            implements RetryListener {
        @Override
        public void onRetry(int attempt, @Nullable Throwable cause) {
            retried.inc();
        }

        @Override
        public void onBudgetExhausted() {
            refused.inc();
        }

        @Override
        public String toString() {
            return "retry metrics of cluster " + cluster;
        }
    }

    /**
     * Counts one breaker's transitions. The label set depends on the transition, so each is looked up
     * when it happens: transitions are rare, and the lookup is a map read.
     */
    private record BreakerTransitions(Counter counter, String cluster, String backend) implements BreakerListener {
        @Override
        public void onStateChange(CircuitState from, CircuitState to) {
            counter.labelValues(cluster, backend, label(from), label(to)).inc();
        }

        private static String label(CircuitState state) {
            return state.name().toLowerCase(Locale.ROOT);
        }

        @Override
        public String toString() {
            return "breaker metrics of cluster " + cluster + (backend.isEmpty() ? "" : ", backend " + backend);
        }
    }
}
