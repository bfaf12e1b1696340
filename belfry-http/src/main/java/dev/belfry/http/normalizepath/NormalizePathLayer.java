package dev.belfry.http.normalizepath;

import dev.belfry.Checks;
import dev.belfry.Layer;
import dev.belfry.Service;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;

/**
 * Wraps a service in {@link NormalizePath}: {@link #create()} merges repeated slashes and trims a
 * trailing slash; {@link #trimTrailingSlash()} and {@link #mergeSlashes()} do one each.
 */
public final class NormalizePathLayer implements Layer<HttpRequest, HttpResponse, HttpRequest, HttpResponse> {
    private final boolean mergeSlashes;
    private final boolean trimTrailingSlash;

    private NormalizePathLayer(boolean mergeSlashes, boolean trimTrailingSlash) {
        this.mergeSlashes = mergeSlashes;
        this.trimTrailingSlash = trimTrailingSlash;
    }

    /** Merges repeated slashes and removes a trailing slash. */
    public static NormalizePathLayer create() {
        return new NormalizePathLayer(true, true);
    }

    /** Removes a trailing slash only (tower-http's {@code NormalizePath::trim_trailing_slash}). */
    public static NormalizePathLayer trimTrailingSlash() {
        return new NormalizePathLayer(false, true);
    }

    /** Merges repeated slashes only. */
    public static NormalizePathLayer mergeSlashes() {
        return new NormalizePathLayer(true, false);
    }

    @Override
    public Service<HttpRequest, HttpResponse> wrap(Service<HttpRequest, HttpResponse> inner) {
        return new NormalizePath(Checks.notNull(inner, "inner"), mergeSlashes, trimTrailingSlash);
    }
}
