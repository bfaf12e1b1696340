package dev.belfry.http.compression;

import dev.belfry.Checks;
import dev.belfry.Layer;
import dev.belfry.Service;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Wraps a service in {@link Decompression}. Defaults ({@link #create()}): every available coding,
 * inflated bodies capped at {@value #DEFAULT_MAX_BYTES} bytes (10 MiB, the server's default body
 * limit).
 */
public final class DecompressionLayer implements Layer<HttpRequest, HttpResponse, HttpRequest, HttpResponse> {
    /** The default cap on an inflated request body. */
    public static final long DEFAULT_MAX_BYTES = 10L << 20;

    private final List<ContentCoding> codings;
    private final long maxBytes;

    private DecompressionLayer(List<ContentCoding> codings, long maxBytes) {
        this.codings = codings;
        this.maxBytes = maxBytes;
    }

    /** The defaults above. */
    public static DecompressionLayer create() {
        return builder().build();
    }

    /** A builder holding the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** The codings accepted, available ones only. */
    public List<ContentCoding> codings() {
        return codings;
    }

    @Override
    public Service<HttpRequest, HttpResponse> wrap(Service<HttpRequest, HttpResponse> inner) {
        return new Decompression(Checks.notNull(inner, "inner"), codings, maxBytes);
    }

    /** Collects settings; each may be made once. Not thread-safe. */
    public static final class Builder {
        private @Nullable List<ContentCoding> codings;
        private @Nullable Long maxBytes;

        private Builder() {}

        /** The codings to accept (unavailable ones are skipped); others are answered 415. */
        public Builder codings(ContentCoding... accepted) {
            Checks.notSetTwice(codings, "codings");
            if (accepted.length == 0) {
                throw new IllegalArgumentException("codings needs at least one coding");
            }
            List<ContentCoding> list = new ArrayList<>();
            for (ContentCoding coding : accepted) {
                list.add(Checks.notNull(coding, "coding"));
            }
            codings = List.copyOf(list);
            return this;
        }

        /** The most bytes an inflated body may have; more fails it with 413. */
        public Builder maxInflatedBytes(long bytes) {
            Checks.notSetTwice(maxBytes, "maxInflatedBytes");
            maxBytes = Checks.positive(bytes, "maxInflatedBytes");
            return this;
        }

        public DecompressionLayer build() {
            List<ContentCoding> accepted = new ArrayList<>();
            for (ContentCoding coding : codings != null ? codings : List.of(ContentCoding.values())) {
                if (coding.available() && !accepted.contains(coding)) {
                    accepted.add(coding);
                }
            }
            return new DecompressionLayer(List.copyOf(accepted), maxBytes != null ? maxBytes : DEFAULT_MAX_BYTES);
        }
    }
}
