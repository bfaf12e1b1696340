package dev.belfry.http.accesslog;

import dev.belfry.Forwarding;
import dev.belfry.Futures;
import dev.belfry.Service;
import dev.belfry.http.Headers;
import dev.belfry.http.HttpMethod;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.http.internal.body.Observed;
import dev.belfry.http.requestid.RequestId;
import dev.belfry.http.router.RouteMatch;
import dev.belfry.http.router.Router;
import dev.belfry.http.server.FailureStatus;
import java.util.Locale;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.event.Level;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * Logs each exchange once, when its response body ends: see the package documentation for the
 * fields.
 *
 * <p>Thread-safe; admission and cancellation pass straight through. The duration runs from {@code
 * call} to the end of the response body on the layer's clock.
 */
public final class AccessLog extends Forwarding<HttpRequest, HttpResponse, HttpRequest, HttpResponse> {
    private final AccessLogLayer config;

    AccessLog(Service<HttpRequest, HttpResponse> inner, AccessLogLayer config) {
        super(inner);
        this.config = config;
    }

    @Override
    public CompletableFuture<HttpResponse> call(HttpRequest request) {
        Exchange exchange = new Exchange(request);
        return exchange.follow(Futures.call(inner, exchange.counted()));
    }

    @Override
    public @Nullable CompletableFuture<HttpResponse> tryCall(HttpRequest request) {
        Exchange exchange = new Exchange(request);
        CompletableFuture<HttpResponse> admitted = inner.tryCall(exchange.counted());
        return admitted == null ? null : exchange.follow(admitted);
    }

    /** One request and its response, logged once. */
    private final class Exchange {
        private final HttpRequest request;
        private final long start = config.clock().nanoTime();
        private final AtomicLong bytesIn = new AtomicLong();
        private final AtomicBoolean logged = new AtomicBoolean();

        Exchange(HttpRequest request) {
            this.request = request;
        }

        HttpRequest counted() {
            if (request.body().repeatable()) {
                // A body held in memory stays repeatable (inner retries may send it again); its
                // size is known without counting.
                bytesIn.set(request.body().contentLength());
                return request;
            }
            return request.toBuilder()
                    .body(Observed.counting(request.body(), bytesIn, null))
                    .build();
        }

        CompletableFuture<HttpResponse> follow(CompletableFuture<HttpResponse> inflight) {
            CompletableFuture<HttpResponse> result = new CompletableFuture<>();
            inflight.whenComplete((response, failure) -> {
                if (failure != null) {
                    Throwable cause = Futures.unwrap(failure);
                    if (cause instanceof CancellationException) {
                        log(-1, null, 0, "cancelled");
                    } else {
                        log(FailureStatus.of(cause), null, 0, "failed");
                    }
                    Futures.completeFrom(result, null, failure);
                    return;
                }
                HttpResponse watched = response.toBuilder()
                        .body(Observed.counting(response.body(), new AtomicLong(), (bytes, bodyFailure) -> {
                            String outcome;
                            if (bodyFailure == null || noBody(response.status())) {
                                outcome = "complete";
                            } else if (bodyFailure instanceof CancellationException) {
                                outcome = "cancelled";
                            } else {
                                outcome = "body_failed";
                            }
                            log(response.status(), response.headers(), bytes, outcome);
                        }))
                        .build();
                if (!result.complete(watched)) {
                    watched.close();
                }
            });
            Futures.propagateCancellation(result, inflight);
            return result;
        }

        private boolean noBody(int status) {
            return request.method().equals(HttpMethod.HEAD) || status < 200 || status == 204 || status == 304;
        }

        private void log(int status, @Nullable Headers responseHeaders, long bytesOut, String outcome) {
            if (!logged.compareAndSet(false, true)) {
                return;
            }
            boolean serverError = status >= 500 || outcome.equals("failed") || outcome.equals("body_failed");
            Level level = serverError ? config.errorLevel() : config.level();
            if (!config.logger().isEnabledForLevel(level)) {
                return;
            }
            LoggingEventBuilder event = config.logger().atLevel(level);
            RouteMatch route = request.attribute(Router.ROUTE);
            String id = request.attribute(RequestId.ATTRIBUTE);
            if (id == null) {
                id = request.header(config.requestIdHeader());
            }
            String duration = String.format(Locale.ROOT, "%.3f", (config.clock().nanoTime() - start) / 1e6);
            StringBuilder line = new StringBuilder(160);
            event = field(event, line, "method", request.method().name());
            event = field(event, line, "path", request.path());
            event = field(event, line, "route", route == null ? "-" : route.template());
            event = field(event, line, "status", status < 0 ? "-" : Integer.toString(status));
            event = field(event, line, "duration_ms", duration);
            event = field(event, line, "bytes_in", Long.toString(bytesIn.get()));
            event = field(event, line, "bytes_out", Long.toString(bytesOut));
            event = field(event, line, "request_id", id == null ? "-" : id);
            event = field(event, line, "outcome", outcome);
            if (config.logHeaders()) {
                event = field(event, line, "request_headers", config.redacted(request.headers()));
                if (responseHeaders != null) {
                    event = field(event, line, "response_headers", config.redacted(responseHeaders));
                }
            }
            event.log(line.toString());
        }

        private static LoggingEventBuilder field(
                LoggingEventBuilder event, StringBuilder line, String key, String value) {
            if (!line.isEmpty()) {
                line.append(' ');
            }
            line.append(key).append('=').append(value);
            return event.addKeyValue(key, value);
        }
    }
}
