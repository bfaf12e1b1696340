package dev.belfry.limit;

import dev.belfry.Checks;
import dev.belfry.Layer;
import dev.belfry.Service;
import org.jspecify.annotations.Nullable;

/**
 * Applies a {@link ConcurrencyLimit} to every service it wraps: each its own limit, or one limit
 * shared by all.
 */
public final class ConcurrencyLimitLayer<Req, Res> implements Layer<Req, Res, Req, Res> {
    private final @Nullable Permits shared;
    private final int max;
    private final int maxQueued;

    private ConcurrencyLimitLayer(@Nullable Permits shared, int max, int maxQueued) {
        this.shared = shared;
        this.max = Checks.positive(max, "max");
        this.maxQueued = Checks.nonNegative(maxQueued, "maxQueued");
    }

    /**
     * A limit of {@code max} calls in flight for each service wrapped; further calls wait, in order,
     * with no bound on the queue.
     */
    public static <Req, Res> ConcurrencyLimitLayer<Req, Res> of(int max) {
        return new ConcurrencyLimitLayer<>(null, max, Permits.UNBOUNDED_QUEUE);
    }

    /**
     * A limit of {@code max} calls in flight for each service wrapped, with at most {@code maxQueued}
     * calls waiting; calls beyond that fail at once with {@link dev.belfry.OverloadedException}
     * ({@code maxQueued} 0: never wait).
     */
    public static <Req, Res> ConcurrencyLimitLayer<Req, Res> of(int max, int maxQueued) {
        return new ConcurrencyLimitLayer<>(null, max, maxQueued);
    }

    /**
     * One limit shared by every service wrapped: together they have at most {@code permits.max()}
     * calls in flight.
     */
    public static <Req, Res> ConcurrencyLimitLayer<Req, Res> shared(Permits permits) {
        Checks.notNull(permits, "permits");
        return new ConcurrencyLimitLayer<>(permits, permits.max(), permits.maxQueued());
    }

    @Override
    public ConcurrencyLimit<Req, Res> wrap(Service<Req, Res> inner) {
        Permits permits = shared != null ? shared : Permits.of(max, maxQueued);
        return new ConcurrencyLimit<>(inner, permits);
    }
}
