package dev.belfry.http.requestid;

import dev.belfry.Checks;
import dev.belfry.Layer;
import dev.belfry.Service;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import java.util.UUID;
import java.util.function.Supplier;

/** Wraps a service in {@link RequestId}. */
public final class RequestIdLayer implements Layer<HttpRequest, HttpResponse, HttpRequest, HttpResponse> {
    /** The header {@link #create()} uses. */
    public static final String HEADER = "x-request-id";

    private final String header;
    private final Supplier<String> generator;

    private RequestIdLayer(String header, Supplier<String> generator) {
        this.header = header;
        this.generator = generator;
    }

    /** {@value #HEADER}, with random UUIDs for new ids. */
    public static RequestIdLayer create() {
        return of(HEADER, () -> UUID.randomUUID().toString());
    }

    /** {@code header}, with ids from {@code generator} (which must return usable ids). */
    public static RequestIdLayer of(String header, Supplier<String> generator) {
        Checks.notNull(header, "header");
        Checks.notNull(generator, "generator");
        dev.belfry.http.Headers.of(header, "probe"); // rejects a header name that is not a token
        return new RequestIdLayer(header, generator);
    }

    @Override
    public Service<HttpRequest, HttpResponse> wrap(Service<HttpRequest, HttpResponse> inner) {
        return new RequestId(Checks.notNull(inner, "inner"), header, generator);
    }
}
