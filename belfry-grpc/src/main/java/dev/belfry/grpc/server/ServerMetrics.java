package dev.belfry.grpc.server;

import dev.belfry.Checks;
import dev.belfry.time.Clock;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * A {@link ServerInterceptor} that counts and times a grpc-java server's calls on a registry the
 * caller passes: {@code grpc_server_started_total}, {@code grpc_server_handled_total{grpc_code}}
 * (the code the call closed with; {@code CANCELLED} for a call cancelled before it closed) and
 * {@code grpc_server_handling_seconds} (from the call's arrival to its close), labelled {@code
 * grpc_service} and {@code grpc_method}.
 *
 * <p>Put it outside {@link ServerLimits} ({@code ServerInterceptors.intercept(service, limits,
 * metrics)}: the last interceptor runs first) so that shed calls are counted too. Several
 * interceptors made on one registry share its metrics. Thread-safe.
 */
public final class ServerMetrics implements ServerInterceptor {
    private static final Map<PrometheusRegistry, Families> BY_REGISTRY = new WeakHashMap<>();

    private final Families families;
    private final Clock clock;
    private final ConcurrentHashMap<String, MethodPoints> methods = new ConcurrentHashMap<>();

    private ServerMetrics(PrometheusRegistry registry, Clock clock) {
        synchronized (BY_REGISTRY) {
            this.families = BY_REGISTRY.computeIfAbsent(registry, Families::new);
        }
        this.clock = clock;
    }

    /** Server metrics on {@code registry}, timed on the system clock. */
    public static ServerMetrics on(PrometheusRegistry registry) {
        return on(registry, Clock.system());
    }

    /** Server metrics on {@code registry}, timed on {@code clock}. */
    public static ServerMetrics on(PrometheusRegistry registry, Clock clock) {
        return new ServerMetrics(Checks.notNull(registry, "registry"), Checks.notNull(clock, "clock"));
    }

    @Override
    public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
            ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
        MethodDescriptor<ReqT, RespT> method = call.getMethodDescriptor();
        MethodPoints points = methods.computeIfAbsent(method.getFullMethodName(), name -> new MethodPoints(method));
        points.started.inc();
        long start = clock.nanoTime();
        AtomicBoolean counted = new AtomicBoolean();
        ServerCall<ReqT, RespT> counting = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void close(Status status, Metadata trailers) {
                if (counted.compareAndSet(false, true)) {
                    points.handled(status.getCode(), clock.nanoTime() - start);
                }
                super.close(status, trailers);
            }
        };
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(
                next.startCall(counting, headers)) {
            @Override
            public void onCancel() {
                if (counted.compareAndSet(false, true)) {
                    points.handled(Status.Code.CANCELLED, clock.nanoTime() - start);
                }
                super.onCancel();
            }
        };
    }

    /** The metric families on one registry. */
    private static final class Families {
        final Counter started;
        final Counter handled;
        final Histogram seconds;

        Families(PrometheusRegistry registry) {
            started = Counter.builder()
                    .name("grpc_server_started_total")
                    .help("gRPC calls the server started")
                    .labelNames("grpc_service", "grpc_method")
                    .register(registry);
            handled = Counter.builder()
                    .name("grpc_server_handled_total")
                    .help("gRPC calls the server completed, by the status code the call closed with")
                    .labelNames("grpc_service", "grpc_method", "grpc_code")
                    .register(registry);
            seconds = Histogram.builder()
                    .name("grpc_server_handling_seconds")
                    .help("Time from a gRPC call's arrival to its close")
                    .labelNames("grpc_service", "grpc_method")
                    .register(registry);
        }
    }

    /** The data points of one method. */
    private final class MethodPoints {
        final String service;
        final String name;
        final CounterDataPoint started;
        final DistributionDataPoint seconds;
        final AtomicReferenceArray<CounterDataPoint> handled = new AtomicReferenceArray<>(Status.Code.values().length);

        MethodPoints(MethodDescriptor<?, ?> method) {
            String serviceName = method.getServiceName();
            this.service = serviceName == null ? "" : serviceName;
            String bare = method.getBareMethodName();
            this.name = bare == null ? method.getFullMethodName() : bare;
            this.started = families.started.labelValues(service, name);
            this.seconds = families.seconds.labelValues(service, name);
        }

        void handled(Status.Code code, long nanos) {
            CounterDataPoint point = handled.get(code.value());
            if (point == null) {
                point = families.handled.labelValues(service, name, code.name());
                handled.set(code.value(), point);
            }
            point.inc();
            seconds.observe(nanos / 1e9);
        }
    }
}
