package dev.belfry.http.normalizepath;

import dev.belfry.Forwarding;
import dev.belfry.Futures;
import dev.belfry.Service;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * Rewrites each request's path (merging slashes, trimming a trailing one, as configured) and
 * passes it on. A target that is not a path ({@code *}, absolute form) is left alone.
 *
 * <p>Thread-safe; admission and cancellation pass straight through.
 */
public final class NormalizePath extends Forwarding<HttpRequest, HttpResponse, HttpRequest, HttpResponse> {
    private final boolean mergeSlashes;
    private final boolean trimTrailingSlash;

    NormalizePath(Service<HttpRequest, HttpResponse> inner, boolean mergeSlashes, boolean trimTrailingSlash) {
        super(inner);
        this.mergeSlashes = mergeSlashes;
        this.trimTrailingSlash = trimTrailingSlash;
    }

    @Override
    public CompletableFuture<HttpResponse> call(HttpRequest request) {
        return Futures.call(inner, normalized(request));
    }

    @Override
    public @Nullable CompletableFuture<HttpResponse> tryCall(HttpRequest request) {
        return inner.tryCall(normalized(request));
    }

    private HttpRequest normalized(HttpRequest request) {
        String path = request.path();
        if (!path.startsWith("/")) {
            return request;
        }
        String normal = normalize(path, mergeSlashes, trimTrailingSlash);
        if (normal.equals(path)) {
            return request;
        }
        return request.withTarget(normal + request.target().substring(path.length()));
    }

    /** The normalized form of an origin-form {@code path} (starting with {@code /}). */
    static String normalize(String path, boolean mergeSlashes, boolean trimTrailingSlash) {
        StringBuilder out = new StringBuilder(path.length());
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c == '/' && mergeSlashes && out.length() > 0 && out.charAt(out.length() - 1) == '/') {
                continue;
            }
            out.append(c);
        }
        if (trimTrailingSlash) {
            int end = out.length();
            while (end > 1 && out.charAt(end - 1) == '/') {
                end--;
            }
            out.setLength(end);
        }
        return out.toString();
    }
}
