package dev.belfry.http.metrics;

import dev.belfry.Checks;
import dev.belfry.Layer;
import dev.belfry.Service;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.time.Clock;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import org.jspecify.annotations.Nullable;

/**
 * Wraps services in {@link HttpMetrics}, all recording into the two metrics this layer registered.
 * Defaults ({@link #create}): the buckets in {@link #DEFAULT_BUCKETS} (OpenTelemetry's for HTTP
 * server durations), the system clock.
 */
public final class HttpMetricsLayer implements Layer<HttpRequest, HttpResponse, HttpRequest, HttpResponse> {
    /** Histogram bucket upper bounds in seconds, from 5 ms to 10 s. */
    @SuppressWarnings("MutablePublicArray") // copied wherever it is used
    public static final double[] DEFAULT_BUCKETS = {
        0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10
    };

    private final Histogram duration;
    private final Gauge inFlight;
    private final Clock clock;

    private HttpMetricsLayer(PrometheusRegistry registry, double[] buckets, Clock clock) {
        this.duration = Histogram.builder()
                .name("http_server_request_duration_seconds")
                .help("Duration of HTTP server requests, from the call to the end of the response body")
                .unit(Unit.SECONDS)
                .labelNames("method", "route", "status_class")
                .classicOnly()
                .classicUpperBounds(buckets)
                .withoutExemplars()
                .register(registry);
        this.inFlight = Gauge.builder()
                .name("http_server_requests_in_flight")
                .help("HTTP server requests whose response body has not ended")
                .withoutExemplars()
                .register(registry);
        this.clock = clock;
    }

    /** Registers the metrics on {@code registry}, with the defaults. */
    public static HttpMetricsLayer create(PrometheusRegistry registry) {
        return builder(registry).build();
    }

    /** A builder that will register on {@code registry}. */
    public static Builder builder(PrometheusRegistry registry) {
        return new Builder(Checks.notNull(registry, "registry"));
    }

    @Override
    public Service<HttpRequest, HttpResponse> wrap(Service<HttpRequest, HttpResponse> inner) {
        return new HttpMetrics(Checks.notNull(inner, "inner"), this);
    }

    Histogram duration() {
        return duration;
    }

    Gauge inFlight() {
        return inFlight;
    }

    Clock clock() {
        return clock;
    }

    /** Collects settings; each may be made once. Not thread-safe. */
    public static final class Builder {
        private final PrometheusRegistry registry;
        private double @Nullable [] buckets;
        private @Nullable Clock clock;

        private Builder(PrometheusRegistry registry) {
            this.registry = registry;
        }

        /** Histogram bucket upper bounds in seconds, strictly increasing (default {@link HttpMetricsLayer#DEFAULT_BUCKETS}). */
        public Builder buckets(double... upperBounds) {
            Checks.notSetTwice(buckets, "buckets");
            if (upperBounds.length == 0) {
                throw new IllegalArgumentException("buckets needs at least one upper bound");
            }
            for (int i = 0; i < upperBounds.length; i++) {
                if (!(upperBounds[i] > 0) || (i > 0 && upperBounds[i] <= upperBounds[i - 1])) {
                    throw new IllegalArgumentException("bucket bounds must be positive and strictly increasing, was "
                            + java.util.Arrays.toString(upperBounds));
                }
            }
            buckets = upperBounds.clone();
            return this;
        }

        /** The clock that times exchanges (default the system clock). */
        public Builder clock(Clock value) {
            Checks.notSetTwice(clock, "clock");
            clock = Checks.notNull(value, "clock");
            return this;
        }

        /** Registers the metrics and returns the layer. */
        public HttpMetricsLayer build() {
            return new HttpMetricsLayer(
                    registry,
                    buckets != null ? buckets : DEFAULT_BUCKETS.clone(),
                    clock != null ? clock : Clock.system());
        }
    }
}
