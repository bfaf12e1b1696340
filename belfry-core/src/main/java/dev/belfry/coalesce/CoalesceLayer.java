package dev.belfry.coalesce;

import dev.belfry.Checks;
import dev.belfry.Layer;
import dev.belfry.Service;
import dev.belfry.time.Clock;
import java.time.Duration;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/** Applies a {@link Coalesce} to every service it wraps; each has its own table of calls. */
public final class CoalesceLayer<Req, Res> implements Layer<Req, Res, Req, Res> {
    private final Function<? super Req, ?> key;
    private final long ttlNanos;
    private final int maxCached;
    private final long maxShareNanos;
    private final Clock clock;
    private final CoalesceListener listener;

    /** How long a call in flight takes new waiters, by default: past it, a new call is started. */
    public static final Duration DEFAULT_MAX_SHARE_AGE = Duration.ofSeconds(10);

    private CoalesceLayer(
            Function<? super Req, ?> key,
            long ttlNanos,
            int maxCached,
            long maxShareNanos,
            Clock clock,
            CoalesceListener listener) {
        this.key = key;
        this.ttlNanos = ttlNanos;
        this.maxCached = maxCached;
        this.maxShareNanos = maxShareNanos;
        this.clock = clock;
        this.listener = CoalesceListener.guarded(listener);
    }

    /**
     * Shares calls among concurrent requests with equal {@code key}s (a {@code null} key: never
     * shared), with no cache.
     */
    public static <Req, Res> CoalesceLayer<Req, Res> of(Function<? super Req, ?> key) {
        return of(key, Clock.system());
    }

    /**
     * Shares calls among concurrent requests with equal {@code key}s (a {@code null} key: never
     * shared), with no cache; {@code clock} times the share limit ({@link #DEFAULT_MAX_SHARE_AGE}).
     */
    public static <Req, Res> CoalesceLayer<Req, Res> of(Function<? super Req, ?> key, Clock clock) {
        Checks.notNull(key, "key");
        Checks.notNull(clock, "clock");
        return new CoalesceLayer<>(key, 0, 0, DEFAULT_MAX_SHARE_AGE.toNanos(), clock, CoalesceListener.none());
    }

    /** A builder for coalescing with a short-lived cache or a listener. */
    public static <Req, Res> Builder<Req, Res> builder(Function<? super Req, ?> key) {
        return new Builder<>(Checks.notNull(key, "key"));
    }

    @Override
    public Coalesce<Req, Res> wrap(Service<Req, Res> inner) {
        return new Coalesce<>(inner, key, ttlNanos, maxCached, maxShareNanos, clock, listener);
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
        private @Nullable Duration maxShareAge;
        private @Nullable CoalesceListener listener;
        private @Nullable Clock clock;

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

        /**
         * How long a call in flight takes new waiters, counted from its first joiner (default
         * {@link #DEFAULT_MAX_SHARE_AGE}): identical requests arriving later start a fresh call
         * instead of joining it. Without a
         * limit, a call that hangs while callers keep arriving and timing out would never be
         * cancelled (some caller is always waiting on it) and no caller would ever get an answer.
         */
        public Builder<Req, Res> maxShareAge(Duration maxShareAge) {
            Checks.notSetTwice(this.maxShareAge, "maxShareAge");
            this.maxShareAge = Checks.positive(maxShareAge, "maxShareAge");
            return this;
        }

        /** Hears joins and cache hits (default: none). */
        public Builder<Req, Res> listener(CoalesceListener listener) {
            Checks.notSetTwice(this.listener, "listener");
            this.listener = Checks.notNull(listener, "listener");
            return this;
        }

        /** The clock for the cache and the share age; default the system clock. Tests pass a manual clock. */
        public Builder<Req, Res> clock(Clock clock) {
            Checks.notSetTwice(this.clock, "clock");
            this.clock = Checks.notNull(clock, "clock");
            return this;
        }

        /** The layer. */
        public CoalesceLayer<Req, Res> build() {
            if (maxCached != null && cacheFor == null) {
                throw new IllegalStateException("maxCached is set to " + maxCached + " but cacheFor is not");
            }
            return new CoalesceLayer<>(
                    key,
                    cacheFor == null ? 0 : cacheFor.toNanos(),
                    maxCached != null ? maxCached : 10_000,
                    (maxShareAge != null ? maxShareAge : DEFAULT_MAX_SHARE_AGE).toNanos(),
                    clock != null ? clock : Clock.system(),
                    listener != null ? listener : CoalesceListener.none());
        }
    }
}
