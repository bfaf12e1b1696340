package dev.belfry.http.router;

import dev.belfry.Checks;
import dev.belfry.Service;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BiFunction;
import org.jspecify.annotations.Nullable;

/**
 * A service that reads the request body as JSON into a type, calls a function, and answers its
 * result as JSON.
 *
 * <p>A body that is not JSON of the type fails with {@code BadRequestException}, which the server
 * answers with 400 and a message saying what was wrong and where; a body over the cap fails with
 * {@code BodyTooLargeException} (413). A function that needs another status returns an {@link
 * HttpResponse}, which is sent as is.
 */
public final class JsonHandler {
    /** The body cap {@link #of(Class, BiFunction)} uses: 1 MiB. */
    public static final int DEFAULT_MAX_BYTES = 1 << 20;

    private JsonHandler() {}

    /** JSON in and out with a 1 MiB body cap; {@code handler} completes with the response value. */
    public static <T> Service<HttpRequest, HttpResponse> of(
            Class<T> type, BiFunction<HttpRequest, T, ? extends CompletionStage<?>> handler) {
        return of(type, DEFAULT_MAX_BYTES, handler);
    }

    /** JSON in and out with a body cap of {@code maxBytes}. */
    public static <T> Service<HttpRequest, HttpResponse> of(
            Class<T> type, int maxBytes, BiFunction<HttpRequest, T, ? extends CompletionStage<?>> handler) {
        Checks.notNull(type, "type");
        Checks.notNull(handler, "handler");
        Checks.positive(maxBytes, "maxBytes");
        return request -> request.body().collectJson(type, maxBytes).thenCompose(value -> {
            try {
                return handler.apply(request, value).thenApply(JsonHandler::toResponse);
            } catch (RuntimeException e) {
                return CompletableFuture.failedFuture(e);
            }
        });
    }

    private static HttpResponse toResponse(@Nullable Object result) {
        return result instanceof HttpResponse response ? response : HttpResponse.json(result);
    }
}
