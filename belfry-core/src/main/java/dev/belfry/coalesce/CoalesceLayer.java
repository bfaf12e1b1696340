package dev.belfry.coalesce;

import dev.belfry.Checks;
import dev.belfry.Layer;
import dev.belfry.Service;
import dev.belfry.event.ResilienceListener;
import dev.belfry.time.Clock;
import java.time.Duration;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/** Applies a {@link Coalesce} to every service it wraps; each has its own table of calls. */
public final class CoalesceLayer<Req, Res> implements Layer<Req, Res, Req, Res> {
    private final Function<? super Req, ?> key;
    private final long ttlNanos;
    private final int maxCached;
    private final Clock clock;
    private final ResilienceListener listener;

    private CoalesceLayer(
            Function<? super Req, ?> key, long ttlNanos, int maxCached, Clock clock, ResilienceListener listener) {
        this.key = key;
        this.ttlNanos = ttlNanos;
        this.maxCached = maxCached;
        this.clock = clock;
        this.listener = ResilienceListener.guarded(listener);
    }

    /**
     * Shares calls among concurrent requests with equal {@code key}s (a {@code null} key: never
     * shared), with no cache.
     */
    public static <Req, Res> CoalesceLayer<Req, Res> of(Function<? super Req, ?> key) {
        Checks.notNull(key, "key");
        return new CoalesceLayer<>(key, 0, 0, Clock.system(), ResilienceListener.none());
    }

    /** A builder for coalescing with a short-lived cache or a listener. */
    public static <Req, Res> Builder<Req, Res> builder(Function<? super Req, ?> key) {
        return new Builder<>(Checks.notNull(key, "key"));
    }

    @Override
    public Service<Req, Res> wrap(Service<Req, Res> inner) {
        return new Coalesce<>(inner, key, ttlNanos, maxCached, clock, listener);
    }

    @Override
    public String toString() {
        return "CoalesceLayer[" + (ttlNanos == 0 ? "no cache" : "cache " + Duration.ofNanos(ttlNanos)) + "]";
    }

    /**
     * The settings of a {@link CoalesceLayer}; each may be set once.
     *
     * @param <Req> the request type
     * @param <Res> the response type
     */
    public static final class Builder<Req, Res> {
        private final Function<? super Req, ?> key;
        private @Nullable Duration cacheFor;
        private @Nullable Integer maxCached;
        private @Nullable ResilienceListener listener;

        private Builder(Function<? super Req, ?> key) {
            this.key = key;
        }

        /** Keeps successful responses this long for later identical requests (default: no cache). */
        public Builder<Req, Res> cacheFor(Duration cacheFor) {
            Checks.notSetTwice(this.cacheFor, "cacheFor");
            this.cacheFor = Checks.positive(cacheFor, "cacheFor");
            return this;
        }

        /** The most responses kept at once; the oldest go first (default 10,000; needs cacheFor). */
        public Builder<Req, Res> maxCached(int maxCached) {
            Checks.notSetTwice(this.maxCached, "maxCached");
            this.maxCached = Checks.positive(maxCached, "maxCached");
            return this;
        }

        /** Hears joins and cache hits (default: none). */
        public Builder<Req, Res> listener(ResilienceListener listener) {
            Checks.notSetTwice(this.listener, "listener");
            this.listener = Checks.notNull(listener, "listener");
            return this;
        }

        /** The layer, its cache timed on {@code clock}. */
        public CoalesceLayer<Req, Res> build(Clock clock) {
            Checks.notNull(clock, "clock");
            if (maxCached != null && cacheFor == null) {
                throw new IllegalStateException("maxCached is set to " + maxCached + " but cacheFor is not");
            }
            return new CoalesceLayer<>(
                    key,
                    cacheFor == null ? 0 : cacheFor.toNanos(),
                    maxCached != null ? maxCached : 10_000,
                    clock,
                    listener != null ? listener : ResilienceListener.none());
        }
    }
}
