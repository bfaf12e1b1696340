package dev.belfry.channel.http;

import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The per-request metrics of {@link WarmHttpChannel}s on one registry: {@code
 * http_client_request_duration_seconds}, a histogram labelled {@code channel}, {@code method} and
 * {@code status} (the response's status code, or {@code error} when the call failed), timed from
 * the call to the end of the response body (read whole, failed or discarded). Its {@code _count}
 * is the number of calls by status.
 *
 * <p>One instance per registry, shared by every channel on it (a registry refuses a name twice).
 * Data points are looked up once per label set and then kept. Thread-safe.
 */
final class RequestMetrics {
    static final String ERROR = "error";
    private static final Map<PrometheusRegistry, RequestMetrics> BY_REGISTRY = new WeakHashMap<>();

    private final Histogram seconds;
    private final ConcurrentHashMap<String, DistributionDataPoint> points = new ConcurrentHashMap<>();

    private RequestMetrics(PrometheusRegistry registry) {
        seconds = Histogram.builder()
                .name("http_client_request_duration_seconds")
                .help("Time from an HTTP call through a warm channel to the end of its response body")
                .labelNames("channel", "method", "status")
                .register(registry);
    }

    /** The metrics on {@code registry}, registered there on first use. */
    static RequestMetrics on(PrometheusRegistry registry) {
        synchronized (BY_REGISTRY) {
            return BY_REGISTRY.computeIfAbsent(registry, RequestMetrics::new);
        }
    }

    /** One call of {@code method} on {@code channel} ended with {@code status} after {@code nanos}. */
    void observe(String channel, String method, String status, long nanos) {
        String key = channel + '\n' + method + '\n' + status;
        DistributionDataPoint point = points.get(key);
        if (point == null) {
            point = points.computeIfAbsent(key, k -> seconds.labelValues(channel, method, status));
        }
        point.observe(nanos / 1e9);
    }
}
