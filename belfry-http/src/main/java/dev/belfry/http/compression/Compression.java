package dev.belfry.http.compression;

import dev.belfry.Forwarding;
import dev.belfry.Futures;
import dev.belfry.Service;
import dev.belfry.http.Headers;
import dev.belfry.http.HttpMethod;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.http.internal.body.TransformedBody;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * Compresses response bodies in the coding the client prefers among those configured: see the
 * package documentation for when a response is left alone.
 *
 * <p>Thread-safe; admission and cancellation pass straight through.
 */
public final class Compression extends Forwarding<HttpRequest, HttpResponse, HttpRequest, HttpResponse> {
    private final CompressionLayer config;

    Compression(Service<HttpRequest, HttpResponse> inner, CompressionLayer config) {
        super(inner);
        this.config = config;
    }

    @Override
    public CompletableFuture<HttpResponse> call(HttpRequest request) {
        return compress(request, Futures.call(inner, request));
    }

    @Override
    public @Nullable CompletableFuture<HttpResponse> tryCall(HttpRequest request) {
        CompletableFuture<HttpResponse> admitted = inner.tryCall(request);
        return admitted == null ? null : compress(request, admitted);
    }

    private CompletableFuture<HttpResponse> compress(HttpRequest request, CompletableFuture<HttpResponse> inflight) {
        if (request.method().equals(HttpMethod.HEAD)) {
            return inflight;
        }
        ContentCoding chosen = AcceptEncoding.choose(request.headers().getAll("accept-encoding"), config.codings());
        CompletableFuture<HttpResponse> result = new CompletableFuture<>();
        inflight.whenComplete((response, failure) -> {
            if (failure != null) {
                Futures.completeFrom(result, null, failure);
                return;
            }
            HttpResponse out = response;
            if (eligible(response)) {
                HttpResponse.Builder builder = response.toBuilder();
                if (!varies(response.headers())) {
                    builder.header("vary", "accept-encoding");
                }
                if (chosen != null) {
                    builder.setHeader("content-encoding", chosen.token())
                            .removeHeader("content-length")
                            .removeHeader("accept-ranges")
                            .body(new TransformedBody(response.body(), -1, () -> new Codecs.Encoding(chosen)));
                    String etag = response.header("etag");
                    if (etag != null && !etag.startsWith("W/")) {
                        builder.setHeader("etag", "W/" + etag); // the bytes differ now
                    }
                }
                out = builder.build();
            }
            if (!result.complete(out)) {
                out.close();
            }
        });
        Futures.propagateCancellation(result, inflight);
        return result;
    }

    private boolean eligible(HttpResponse response) {
        int status = response.status();
        if (status < 200 || status == 204 || status == 206 || status == 304) {
            return false;
        }
        Headers headers = response.headers();
        if (headers.contains("content-encoding") || headers.contains("content-range")) {
            return false;
        }
        for (String cacheControl : headers.getAll("cache-control")) {
            if (cacheControl.toLowerCase(Locale.ROOT).contains("no-transform")) {
                return false;
            }
        }
        long length = response.body().contentLength();
        if (length >= 0 && length < config.minSize()) {
            return false;
        }
        String type = headers.get("content-type");
        return type == null || compressibleType(type);
    }

    /** Whether a body of this media type is worth compressing. */
    static boolean compressibleType(String contentType) {
        String type = contentType.toLowerCase(Locale.ROOT);
        int semicolon = type.indexOf(';');
        if (semicolon >= 0) {
            type = type.substring(0, semicolon);
        }
        type = type.strip();
        if (type.startsWith("application/grpc")) {
            return false;
        }
        if (type.startsWith("image/")) {
            return type.equals("image/svg+xml");
        }
        if (type.startsWith("video/") || type.startsWith("audio/") || type.equals("text/event-stream")) {
            return false;
        }
        return !ALREADY_COMPRESSED.contains(type);
    }

    private static final List<String> ALREADY_COMPRESSED = List.of(
            "application/zip",
            "application/gzip",
            "application/x-gzip",
            "application/zstd",
            "application/x-bzip2",
            "application/x-xz",
            "application/x-7z-compressed",
            "application/x-rar-compressed",
            "application/vnd.rar",
            "application/x-brotli",
            "font/woff",
            "font/woff2");

    private static boolean varies(Headers headers) {
        for (String vary : headers.getAll("vary")) {
            for (String name : vary.split(",", -1)) {
                String n = name.strip();
                if (n.equals("*") || n.equalsIgnoreCase("accept-encoding")) {
                    return true;
                }
            }
        }
        return false;
    }
}
