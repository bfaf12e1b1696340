package dev.belfry.http.cors;

import dev.belfry.Forwarding;
import dev.belfry.Futures;
import dev.belfry.Service;
import dev.belfry.http.HttpMethod;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * Answers CORS preflights and adds CORS headers to responses for allowed origins.
 *
 * <p>A preflight is answered {@code 204} here and never reaches the inner service; its body is
 * discarded. Thread-safe; admission and cancellation pass straight through.
 */
public final class Cors extends Forwarding<HttpRequest, HttpResponse, HttpRequest, HttpResponse> {
    private final CorsLayer config;

    Cors(Service<HttpRequest, HttpResponse> inner, CorsLayer config) {
        super(inner);
        this.config = config;
    }

    @Override
    public CompletableFuture<HttpResponse> call(HttpRequest request) {
        if (isPreflight(request)) {
            return CompletableFuture.completedFuture(preflight(request));
        }
        return decorate(request, Futures.call(inner, request));
    }

    @Override
    public @Nullable CompletableFuture<HttpResponse> tryCall(HttpRequest request) {
        if (isPreflight(request)) {
            return CompletableFuture.completedFuture(preflight(request));
        }
        CompletableFuture<HttpResponse> admitted = inner.tryCall(request);
        return admitted == null ? null : decorate(request, admitted);
    }

    private static boolean isPreflight(HttpRequest request) {
        return request.method().equals(HttpMethod.OPTIONS)
                && request.headers().contains("origin")
                && request.headers().contains("access-control-request-method");
    }

    private HttpResponse preflight(HttpRequest request) {
        request.body().discard();
        HttpResponse.Builder response = HttpResponse.status(204)
                .header("vary", "origin, access-control-request-method, access-control-request-headers");
        String origin = request.header("origin");
        if (origin == null || !config.allows(origin)) {
            return response.build();
        }
        response.header("access-control-allow-origin", config.allowOriginValue(origin));
        if (config.credentials()) {
            response.header("access-control-allow-credentials", "true");
        }
        response.header("access-control-allow-methods", config.methodsValue());
        String headers = config.headersValue(request.headers().getAll("access-control-request-headers"));
        if (!headers.isEmpty()) {
            response.header("access-control-allow-headers", headers);
        }
        if (config.maxAgeSeconds() >= 0) {
            response.header("access-control-max-age", Long.toString(config.maxAgeSeconds()));
        }
        return response.build();
    }

    private CompletableFuture<HttpResponse> decorate(HttpRequest request, CompletableFuture<HttpResponse> inflight) {
        String origin = request.header("origin");
        CompletableFuture<HttpResponse> result = new CompletableFuture<>();
        inflight.whenComplete((response, failure) -> {
            if (failure != null) {
                Futures.completeFrom(result, null, failure);
                return;
            }
            HttpResponse.Builder builder = response.toBuilder().header("vary", "origin");
            if (origin != null && config.allows(origin)) {
                builder.setHeader("access-control-allow-origin", config.allowOriginValue(origin));
                if (config.credentials()) {
                    builder.setHeader("access-control-allow-credentials", "true");
                }
                if (!config.exposedValue().isEmpty()) {
                    builder.setHeader("access-control-expose-headers", config.exposedValue());
                }
            }
            if (!result.complete(builder.build())) {
                response.close();
            }
        });
        Futures.propagateCancellation(result, inflight);
        return result;
    }
}
