package dev.belfry.http.requestid;

import dev.belfry.Futures;
import dev.belfry.Readiness;
import dev.belfry.Service;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.http.RequestAttribute;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * Sets a request id header on requests that lack a usable one, and copies the id to the response
 * unless the response already has that header.
 *
 * <p>An incoming id is kept if it is 1 to {@value #MAX_LENGTH} visible ASCII characters; anything
 * else (empty, too long, spaces or control characters, so it cannot smuggle text into logs) is
 * replaced by a generated one. Thread-safe if the generator is. Cancellation and admission pass
 * straight through.
 */
public final class RequestId implements Service<HttpRequest, HttpResponse> {
    /** The id of the request, as set or kept by this layer. */
    public static final RequestAttribute<String> ATTRIBUTE = RequestAttribute.of("request-id", String.class);

    /** The longest incoming id that is kept. */
    public static final int MAX_LENGTH = 128;

    private final Service<HttpRequest, HttpResponse> inner;
    private final String header;
    private final Supplier<String> generator;

    RequestId(Service<HttpRequest, HttpResponse> inner, String header, Supplier<String> generator) {
        this.inner = inner;
        this.header = header;
        this.generator = generator;
    }

    @Override
    public CompletableFuture<HttpResponse> call(HttpRequest request) {
        String id = idOf(request);
        return propagate(Futures.call(inner, tag(request, id)), id);
    }

    @Override
    public @Nullable CompletableFuture<HttpResponse> tryCall(HttpRequest request) {
        String id = idOf(request);
        CompletableFuture<HttpResponse> admitted = inner.tryCall(tag(request, id));
        return admitted == null ? null : propagate(admitted, id);
    }

    @Override
    public Readiness readiness() {
        return inner.readiness();
    }

    @Override
    public CompletionStage<Void> whenReady() {
        return inner.whenReady();
    }

    @Override
    public void close() {
        inner.close();
    }

    private String idOf(HttpRequest request) {
        String incoming = request.header(header);
        return usable(incoming) ? incoming : generator.get();
    }

    private HttpRequest tag(HttpRequest request, String id) {
        return request.toBuilder()
                .setHeader(header, id)
                .attribute(ATTRIBUTE, id)
                .build();
    }

    private CompletableFuture<HttpResponse> propagate(CompletableFuture<HttpResponse> inflight, String id) {
        CompletableFuture<HttpResponse> result = new CompletableFuture<>();
        inflight.whenComplete((response, failure) -> {
            HttpResponse tagged = response == null || response.headers().contains(header)
                    ? response
                    : response.toBuilder().header(header, id).build();
            Futures.completeFrom(result, tagged, failure); // failures pass through unwrapped
        });
        Futures.propagateCancellation(result, inflight);
        return result;
    }

    static boolean usable(@Nullable String id) {
        if (id == null || id.isEmpty() || id.length() > MAX_LENGTH) {
            return false;
        }
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            if (c <= ' ' || c >= 0x7f) {
                return false;
            }
        }
        return true;
    }
}
