package dev.belfry.grpc;

import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The per-call client metrics of {@link WarmGrpcChannel}s on one registry: {@code
 * grpc_client_started_total}, {@code grpc_client_handled_total{grpc_code}} and {@code
 * grpc_client_handling_seconds}, labelled {@code grpc_service}, {@code grpc_method} and {@code
 * channel}, and {@code grpc_client_hedged_total} (backup calls sent by hedging, same labels).
 *
 * <p>One instance per registry, shared by every channel on it (a registry refuses a name twice).
 * Data points are looked up once per method and code and then kept. Thread-safe.
 */
final class ClientMetrics {
    private static final Map<PrometheusRegistry, ClientMetrics> BY_REGISTRY = new WeakHashMap<>();

    private final Counter started;
    private final Counter handled;
    private final Histogram seconds;
    private final Counter hedged;
    private final ConcurrentHashMap<String, MethodMetrics> methods = new ConcurrentHashMap<>();

    private ClientMetrics(PrometheusRegistry registry) {
        started = Counter.builder()
                .name("grpc_client_started_total")
                .help("gRPC calls started by the client")
                .labelNames("grpc_service", "grpc_method", "channel")
                .register(registry);
        handled = Counter.builder()
                .name("grpc_client_handled_total")
                .help("gRPC calls completed by the client, by the status code the call closed with")
                .labelNames("grpc_service", "grpc_method", "channel", "grpc_code")
                .register(registry);
        seconds = Histogram.builder()
                .name("grpc_client_handling_seconds")
                .help("Time from the start of a gRPC call to its close, as the client saw it")
                .labelNames("grpc_service", "grpc_method", "channel")
                .register(registry);
        hedged = Counter.builder()
                .name("grpc_client_hedged_total")
                .help("Backup gRPC calls the client sent to another member because the first was slow (hedging)")
                .labelNames("grpc_service", "grpc_method", "channel")
                .register(registry);
    }

    /** The metrics on {@code registry}, registered there on first use. */
    static ClientMetrics on(PrometheusRegistry registry) {
        synchronized (BY_REGISTRY) {
            return BY_REGISTRY.computeIfAbsent(registry, ClientMetrics::new);
        }
    }

    MethodMetrics method(MethodDescriptor<?, ?> method, String channel) {
        String key = channel + '\n' + method.getFullMethodName();
        MethodMetrics known = methods.get(key);
        return known != null ? known : methods.computeIfAbsent(key, k -> new MethodMetrics(method, channel));
    }

    /** The data points of one method on one channel. */
    final class MethodMetrics {
        private final String service;
        private final String name;
        private final String channel;
        private final CounterDataPoint startedPoint;
        private final DistributionDataPoint secondsPoint;
        private final AtomicReferenceArray<CounterDataPoint> handledPoints =
                new AtomicReferenceArray<>(Status.Code.values().length);

        MethodMetrics(MethodDescriptor<?, ?> method, String channel) {
            String service = method.getServiceName();
            this.service = service == null ? "" : service;
            String bare = method.getBareMethodName();
            this.name = bare == null ? method.getFullMethodName() : bare;
            this.channel = channel;
            this.startedPoint = started.labelValues(this.service, name, channel);
            this.secondsPoint = seconds.labelValues(this.service, name, channel);
        }

        void started() {
            startedPoint.inc();
        }

        void hedged() {
            hedged.labelValues(service, name, channel).inc();
        }

        void handled(Status.Code code, long nanos) {
            CounterDataPoint point = handledPoints.get(code.value());
            if (point == null) {
                point = handled.labelValues(service, name, channel, code.name());
                handledPoints.set(code.value(), point);
            }
            point.inc();
            secondsPoint.observe(nanos / 1e9);
        }
    }
}
