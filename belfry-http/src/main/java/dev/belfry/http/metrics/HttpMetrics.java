package dev.belfry.http.metrics;

import dev.belfry.Forwarding;
import dev.belfry.Futures;
import dev.belfry.Service;
import dev.belfry.http.HttpMethod;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.http.internal.body.Observed;
import dev.belfry.http.router.RouteMatch;
import dev.belfry.http.router.Router;
import dev.belfry.http.server.FailureStatus;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * Records each exchange's duration and keeps the in-flight gauge: see the package documentation.
 *
 * <p>Thread-safe; admission and cancellation pass straight through.
 */
public final class HttpMetrics extends Forwarding<HttpRequest, HttpResponse, HttpRequest, HttpResponse> {
    private final HttpMetricsLayer metrics;

    HttpMetrics(Service<HttpRequest, HttpResponse> inner, HttpMetricsLayer metrics) {
        super(inner);
        this.metrics = metrics;
    }

    @Override
    public CompletableFuture<HttpResponse> call(HttpRequest request) {
        Exchange exchange = new Exchange(request);
        return exchange.follow(Futures.call(inner, request));
    }

    @Override
    public @Nullable CompletableFuture<HttpResponse> tryCall(HttpRequest request) {
        CompletableFuture<HttpResponse> admitted = inner.tryCall(request);
        if (admitted == null) {
            return null;
        }
        return new Exchange(request).follow(admitted);
    }

    private final class Exchange {
        private final HttpRequest request;
        private final long start;
        private final AtomicBoolean ended = new AtomicBoolean();

        Exchange(HttpRequest request) {
            this.request = request;
            this.start = metrics.clock().nanoTime();
            metrics.inFlight().inc();
        }

        CompletableFuture<HttpResponse> follow(CompletableFuture<HttpResponse> inflight) {
            CompletableFuture<HttpResponse> result = new CompletableFuture<>();
            inflight.whenComplete((response, failure) -> {
                if (failure != null) {
                    Throwable cause = Futures.unwrap(failure);
                    end(cause instanceof CancellationException ? "cancelled" : statusClass(FailureStatus.of(cause)));
                    Futures.completeFrom(result, null, failure);
                    return;
                }
                String statusClass = statusClass(response.status());
                HttpResponse watched = response.toBuilder()
                        .body(Observed.counting(response.body(), new AtomicLong(), (bytes, f) -> end(statusClass)))
                        .build();
                if (!result.complete(watched)) {
                    watched.close();
                }
            });
            Futures.propagateCancellation(result, inflight);
            return result;
        }

        private void end(String statusClass) {
            if (!ended.compareAndSet(false, true)) {
                return;
            }
            metrics.inFlight().dec();
            RouteMatch route = request.attribute(Router.ROUTE);
            double seconds = (metrics.clock().nanoTime() - start) / 1e9;
            metrics.duration()
                    .labelValues(method(request.method()), route == null ? "unmatched" : route.template(), statusClass)
                    .observe(seconds);
        }
    }

    static String statusClass(int status) {
        return (status / 100) + "xx";
    }

    static String method(HttpMethod method) {
        return switch (method.name()) {
            case "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE" -> method.name();
            default -> "_OTHER";
        };
    }
}
