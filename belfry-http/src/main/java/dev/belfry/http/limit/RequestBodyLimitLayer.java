package dev.belfry.http.limit;

import dev.belfry.Checks;
import dev.belfry.Layer;
import dev.belfry.Service;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;

/** Wraps a service in {@link RequestBodyLimit}: {@code RequestBodyLimitLayer.of(1 << 20)}. */
public final class RequestBodyLimitLayer implements Layer<HttpRequest, HttpResponse, HttpRequest, HttpResponse> {
    private final long limit;

    private RequestBodyLimitLayer(long limit) {
        this.limit = limit;
    }

    /** Bodies of at most {@code maxBytes} bytes (zero allows only empty bodies). */
    public static RequestBodyLimitLayer of(long maxBytes) {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("maxBytes must not be negative, was " + maxBytes);
        }
        return new RequestBodyLimitLayer(maxBytes);
    }

    @Override
    public Service<HttpRequest, HttpResponse> wrap(Service<HttpRequest, HttpResponse> inner) {
        return new RequestBodyLimit(Checks.notNull(inner, "inner"), limit);
    }
}
