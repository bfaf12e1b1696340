package dev.belfry.http.compression;

import dev.belfry.Checks;
import dev.belfry.Layer;
import dev.belfry.Service;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Wraps a service in {@link Compression}. Defaults ({@link #create()}): every available coding in
 * the order br, zstd, gzip, deflate; minimum size {@value #DEFAULT_MIN_SIZE} bytes.
 */
public final class CompressionLayer implements Layer<HttpRequest, HttpResponse, HttpRequest, HttpResponse> {
    /** Responses known to be shorter than this are sent as they are. */
    public static final int DEFAULT_MIN_SIZE = 1024;

    private final List<ContentCoding> codings;
    private final int minSize;

    private CompressionLayer(List<ContentCoding> codings, int minSize) {
        this.codings = codings;
        this.minSize = minSize;
    }

    /** The defaults above. */
    public static CompressionLayer create() {
        return builder().build();
    }

    /** A builder holding the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** The codings offered, in preference order, available ones only. */
    public List<ContentCoding> codings() {
        return codings;
    }

    int minSize() {
        return minSize;
    }

    @Override
    public Service<HttpRequest, HttpResponse> wrap(Service<HttpRequest, HttpResponse> inner) {
        return new Compression(Checks.notNull(inner, "inner"), this);
    }

    /** Collects settings; each may be made once. Not thread-safe. */
    public static final class Builder {
        private @Nullable List<ContentCoding> codings;
        private @Nullable Integer minSize;

        private Builder() {}

        /**
         * The codings to offer, in the server's order of preference for ties; a coding whose library
         * is missing is skipped (so {@code br} may be listed and used only where brotli4j is).
         */
        public Builder codings(ContentCoding... preferred) {
            Checks.notSetTwice(codings, "codings");
            Set<ContentCoding> set = new LinkedHashSet<>();
            for (ContentCoding coding : preferred) {
                set.add(Checks.notNull(coding, "coding"));
            }
            if (set.isEmpty()) {
                throw new IllegalArgumentException("codings needs at least one coding");
            }
            codings = List.copyOf(set);
            return this;
        }

        /** Bodies known to be shorter than {@code bytes} are not compressed (default 1 KiB). */
        public Builder minSize(int bytes) {
            Checks.notSetTwice(minSize, "minSize");
            minSize = Checks.nonNegative(bytes, "minSize");
            return this;
        }

        public CompressionLayer build() {
            List<ContentCoding> offered = new ArrayList<>();
            for (ContentCoding coding : codings != null ? codings : List.of(ContentCoding.values())) {
                if (coding.available()) {
                    offered.add(coding);
                }
            }
            return new CompressionLayer(List.copyOf(offered), minSize != null ? minSize : DEFAULT_MIN_SIZE);
        }
    }
}
