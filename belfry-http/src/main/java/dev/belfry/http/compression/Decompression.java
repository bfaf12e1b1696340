package dev.belfry.http.compression;

import dev.belfry.Forwarding;
import dev.belfry.Futures;
import dev.belfry.Service;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.http.internal.body.TransformedBody;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * Inflates request bodies sent with a supported {@code Content-Encoding}, capped; answers 415 for
 * a coding it cannot remove. See the package documentation.
 *
 * <p>Thread-safe; admission and cancellation pass straight through.
 */
public final class Decompression extends Forwarding<HttpRequest, HttpResponse, HttpRequest, HttpResponse> {
    private final List<ContentCoding> codings;
    private final long maxBytes;

    Decompression(Service<HttpRequest, HttpResponse> inner, List<ContentCoding> codings, long maxBytes) {
        super(inner);
        this.codings = codings;
        this.maxBytes = maxBytes;
    }

    @Override
    public CompletableFuture<HttpResponse> call(HttpRequest request) {
        HttpRequest prepared = prepare(request);
        return prepared == null
                ? CompletableFuture.completedFuture(unsupported(request))
                : Futures.call(inner, prepared);
    }

    @Override
    public @Nullable CompletableFuture<HttpResponse> tryCall(HttpRequest request) {
        HttpRequest prepared = prepare(request);
        return prepared == null ? CompletableFuture.completedFuture(unsupported(request)) : inner.tryCall(prepared);
    }

    /**
     * The request to pass on: as is without a coding, without the header for {@code identity}, with
     * an inflating body for one supported coding; {@code null} for several codings or an unsupported
     * one.
     */
    private @Nullable HttpRequest prepare(HttpRequest request) {
        List<String> encodings = request.headers().getAll("content-encoding");
        if (encodings.isEmpty()) {
            return request;
        }
        ContentCoding found = null;
        int count = 0;
        for (String value : encodings) {
            for (String token : value.split(",", -1)) {
                String t = token.strip();
                if (t.isEmpty() || t.equalsIgnoreCase("identity")) {
                    continue;
                }
                count++;
                found = ContentCoding.fromToken(t);
            }
        }
        if (count == 0) {
            return request.toBuilder().removeHeader("content-encoding").build();
        }
        if (count > 1 || found == null || !codings.contains(found)) {
            return null;
        }
        return inflated(request, found);
    }

    private HttpRequest inflated(HttpRequest request, ContentCoding coding) {
        return request.toBuilder()
                .removeHeader("content-encoding")
                .removeHeader("content-length")
                .body(new TransformedBody(request.body(), -1, () -> coding.newDecoding(maxBytes)))
                .build();
    }

    private HttpResponse unsupported(HttpRequest request) {
        request.body().discard();
        String accepted = codings.stream().map(ContentCoding::token).collect(Collectors.joining(", "));
        return HttpResponse.status(415)
                .header("accept-encoding", accepted)
                .text("unsupported content-encoding: "
                        + String.join(", ", request.headers().getAll("content-encoding")) + " (this server accepts "
                        + accepted + ")\n")
                .build();
    }
}
