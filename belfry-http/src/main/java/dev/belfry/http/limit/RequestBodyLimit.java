package dev.belfry.http.limit;

import dev.belfry.Forwarding;
import dev.belfry.Futures;
import dev.belfry.Service;
import dev.belfry.http.BodyTooLargeException;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.http.internal.body.Transform;
import dev.belfry.http.internal.body.TransformedBody;
import io.netty.buffer.ByteBuf;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * Caps the size of request bodies: a declared {@code Content-Length} above the limit is answered
 * with 413 at once (the body is discarded and the inner service never called); a body of unknown
 * length is counted as it streams and fails with {@link BodyTooLargeException} as soon as it passes
 * the limit, its source cancelled.
 *
 * <p>Thread-safe; admission and cancellation pass straight through.
 */
public final class RequestBodyLimit extends Forwarding<HttpRequest, HttpResponse, HttpRequest, HttpResponse> {
    private final long limit;

    RequestBodyLimit(Service<HttpRequest, HttpResponse> inner, long limit) {
        super(inner);
        this.limit = limit;
    }

    @Override
    public CompletableFuture<HttpResponse> call(HttpRequest request) {
        if (request.body().contentLength() > limit) {
            return CompletableFuture.completedFuture(tooLarge(request));
        }
        return Futures.call(inner, limited(request));
    }

    @Override
    public @Nullable CompletableFuture<HttpResponse> tryCall(HttpRequest request) {
        if (request.body().contentLength() > limit) {
            return CompletableFuture.completedFuture(tooLarge(request));
        }
        return inner.tryCall(limited(request));
    }

    /** The limit in bytes. */
    public long limit() {
        return limit;
    }

    private HttpResponse tooLarge(HttpRequest request) {
        request.body().discard();
        return HttpResponse.status(413)
                .text("request body is larger than the limit of " + limit + " bytes\n")
                .build();
    }

    private HttpRequest limited(HttpRequest request) {
        if (request.body().contentLength() >= 0) {
            // A known length within the limit: the server holds the body to it, nothing to count.
            return request;
        }
        return request.toBuilder()
                .body(new TransformedBody(request.body(), -1, () -> new Counting(limit)))
                .build();
    }

    @Override
    public String toString() {
        return "RequestBodyLimit[" + limit + "]";
    }

    /** Passes chunks through while their total stays within the limit. */
    private static final class Counting extends Transform.PassThrough {
        private final long limit;
        private long seen;

        Counting(long limit) {
            this.limit = limit;
        }

        @Override
        protected void seen(ByteBuf chunk) {
            seen += chunk.readableBytes();
            if (seen > limit) {
                throw new BodyTooLargeException(limit); // the chunk is released by the body
            }
        }
    }
}
