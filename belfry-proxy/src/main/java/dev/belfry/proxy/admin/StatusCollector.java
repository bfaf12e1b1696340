package dev.belfry.proxy.admin;

import io.prometheus.metrics.model.registry.MetricType;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricFamilyDescriptor;
import io.prometheus.metrics.model.snapshots.MetricMetadata;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Turns one {@link ProxyStatus} reading per scrape into the proxy's counters and gauges, so all of a
 * scrape's values come from the same reading of the engine's state.
 */
final class StatusCollector implements MultiCollector {
    private static final Spec LISTENER_ACTIVE =
            Spec.gauge("belfry_listener_connections_active", "Client connections open now", "listener");
    private static final Spec LISTENER_TOTAL = Spec.counter(
            "belfry_listener_connections",
            "Client connections accepted and relayed, rejected ones excluded",
            "listener");
    private static final Spec LISTENER_REJECTED = Spec.counter(
            "belfry_listener_connections_rejected",
            "Client connections closed at once because a limit was reached",
            "listener");
    private static final Spec BACKEND_ACTIVE = Spec.gauge(
            "belfry_backend_connections_active", "Relayed connections open to a backend now", "cluster", "backend");
    private static final Spec BACKEND_FAILURES = Spec.counter(
            "belfry_backend_connect_failures", "Connection attempts to a backend that failed", "cluster", "backend");
    private static final Spec BACKEND_HEALTHY = Spec.gauge(
            "belfry_backend_healthy", "1 if the backend takes new connections, else 0", "cluster", "backend");
    private static final Spec BYTES =
            Spec.counter("belfry_bytes", "Bytes relayed, by direction", "listener", "cluster", "backend", "direction");
    private static final Spec READY =
            Spec.gauge("belfry_ready", "1 if the proxy is ready for traffic (what /ready answers), else 0");
    private static final Spec DRAINING = Spec.gauge("belfry_draining", "1 while the proxy drains, else 0");
    private static final Spec RELOAD_OK = Spec.gauge(
            "belfry_config_last_reload_successful", "1 if the last configuration reload was applied, 0 if rejected");
    private static final List<Spec> SPECS = List.of(
            LISTENER_ACTIVE,
            LISTENER_TOTAL,
            LISTENER_REJECTED,
            BACKEND_ACTIVE,
            BACKEND_FAILURES,
            BACKEND_HEALTHY,
            BYTES,
            READY,
            DRAINING,
            RELOAD_OK);

    private final ProxyStatus status;

    StatusCollector(ProxyStatus status) {
        this.status = status;
    }

    @Override
    public MetricSnapshots collect() {
        List<ListenerStatus> listeners = status.listeners();
        List<ClusterStatus> clusters = status.clusters();

        var listenerActive = new Family(LISTENER_ACTIVE);
        var listenerTotal = new Family(LISTENER_TOTAL);
        var listenerRejected = new Family(LISTENER_REJECTED);
        for (ListenerStatus listener : listeners) {
            Labels labels = Labels.of("listener", listener.name());
            listenerActive.add(labels, listener.activeConnections());
            listenerTotal.add(labels, listener.totalConnections());
            listenerRejected.add(labels, listener.rejectedConnections());
        }

        var backendActive = new Family(BACKEND_ACTIVE);
        var backendFailures = new Family(BACKEND_FAILURES);
        var backendHealthy = new Family(BACKEND_HEALTHY);
        var bytes = new Family(BYTES);
        for (ClusterStatus cluster : clusters) {
            for (BackendStatus backend : cluster.backends()) {
                Labels labels = Labels.of("cluster", cluster.name(), "backend", backend.address());
                backendActive.add(labels, backend.activeConnections());
                backendFailures.add(labels, backend.connectFailures());
                backendHealthy.add(labels, backend.healthy() ? 1 : 0);
                for (Traffic traffic : backend.traffic()) {
                    bytes.add(
                            trafficLabels(traffic.listener(), cluster.name(), backend.address(), "client_to_backend"),
                            traffic.clientToBackend());
                    bytes.add(
                            trafficLabels(traffic.listener(), cluster.name(), backend.address(), "backend_to_client"),
                            traffic.backendToClient());
                }
            }
        }

        var ready = new Family(READY);
        ready.add(Labels.EMPTY, Ready.reasons(status, clusters).isEmpty() ? 1 : 0);
        var draining = new Family(DRAINING);
        draining.add(Labels.EMPTY, status.draining() ? 1 : 0);
        var reloadOk = new Family(RELOAD_OK);
        ReloadResult reload = status.lastReload();
        if (reload != null) {
            reloadOk.add(Labels.EMPTY, reload.ok() ? 1 : 0);
        }

        List<MetricSnapshot> snapshots = new ArrayList<>();
        for (Family family : List.of(
                listenerActive,
                listenerTotal,
                listenerRejected,
                backendActive,
                backendFailures,
                backendHealthy,
                bytes,
                ready,
                draining,
                reloadOk)) {
            snapshots.add(family.snapshot());
        }
        return new MetricSnapshots(snapshots);
    }

    @Override
    public List<MetricFamilyDescriptor> getMetricFamilyDescriptors() {
        List<MetricFamilyDescriptor> descriptors = new ArrayList<>();
        for (Spec spec : SPECS) {
            descriptors.add(MetricFamilyDescriptor.of(
                    spec.counter() ? MetricType.COUNTER : MetricType.GAUGE,
                    new MetricMetadata(spec.name(), spec.help()),
                    spec.labelNames()));
        }
        return descriptors;
    }

    private static Labels trafficLabels(String listener, String cluster, String backend, String direction) {
        return Labels.of("listener", listener, "cluster", cluster, "backend", backend, "direction", direction);
    }

    /** A metric family's name (without {@code _total}), help, type and label names. */
    private record Spec(String name, String help, boolean counter, List<String> labelNames) {
        static Spec counter(String name, String help, String... labelNames) {
            return new Spec(name, help, true, List.of(labelNames));
        }

        static Spec gauge(String name, String help, String... labelNames) {
            return new Spec(name, help, false, List.of(labelNames));
        }
    }

    /** One metric family being filled; a repeated label set keeps its first value. */
    private static final class Family {
        private final Spec spec;
        private final Set<Labels> seen = new HashSet<>();
        private final List<Labels> labels = new ArrayList<>();
        private final List<Long> values = new ArrayList<>();

        Family(Spec spec) {
            this.spec = spec;
        }

        void add(Labels labelSet, long value) {
            // A status listing the same backend twice would make the whole scrape fail with
            // DuplicateLabelsException; dropping the repeat keeps every other metric visible.
            if (seen.add(labelSet)) {
                labels.add(labelSet);
                values.add(value);
            }
        }

        MetricSnapshot snapshot() {
            if (spec.counter()) {
                var builder = CounterSnapshot.builder().name(spec.name()).help(spec.help());
                for (int i = 0; i < labels.size(); i++) {
                    builder.dataPoint(CounterDataPointSnapshot.builder()
                            .labels(labels.get(i))
                            // A counter must never go negative, even if a racy read says so.
                            .value((double) Math.max(0L, values.get(i)))
                            .build());
                }
                return builder.build();
            }
            var builder = GaugeSnapshot.builder().name(spec.name()).help(spec.help());
            for (int i = 0; i < labels.size(); i++) {
                builder.dataPoint(GaugeDataPointSnapshot.builder()
                        .labels(labels.get(i))
                        .value((double) values.get(i))
                        .build());
            }
            return builder.build();
        }
    }
}
