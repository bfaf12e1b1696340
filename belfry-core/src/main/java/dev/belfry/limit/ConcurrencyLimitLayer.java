package dev.belfry.limit;

import dev.belfry.Checks;
import dev.belfry.Layer;
import dev.belfry.Service;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Applies a {@link ConcurrencyLimit} to every service it wraps: each its own limit, or one limit
 * shared by all.
 */
public final class ConcurrencyLimitLayer<Req, Res> implements Layer<Req, Res, Req, Res> {
    private final @Nullable Permits shared;
    private final int max;
    private final int maxQueued;
    private final @Nullable Function<? super Res, ? extends @Nullable CompletionStage<?>> released;

    private ConcurrencyLimitLayer(@Nullable Permits shared, int max, int maxQueued) {
        this(shared, max, maxQueued, null);
    }

    private ConcurrencyLimitLayer(
            @Nullable Permits shared,
            int max,
            int maxQueued,
            @Nullable Function<? super Res, ? extends @Nullable CompletionStage<?>> released) {
        this.shared = shared;
        this.max = Checks.positive(max, "max");
        this.maxQueued = Checks.nonNegative(maxQueued, "maxQueued");
        this.released = released;
    }

    /**
     * This layer, but each successful call keeps its permit until the stage {@code released}
     * returns for the response completes: a limit on live responses (open connections, bodies
     * still streaming) rather than on calls in flight.
     *
     * @throws IllegalStateException if this layer already holds permits until release
     */
    public ConcurrencyLimitLayer<Req, Res> heldUntil(
            Function<? super Res, ? extends @Nullable CompletionStage<?>> released) {
        Checks.notNull(released, "released");
        if (this.released != null) {
            throw new IllegalStateException("heldUntil was already set");
        }
        return new ConcurrencyLimitLayer<>(shared, max, maxQueued, released);
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
        Function<? super Res, ? extends @Nullable CompletionStage<?>> until = released;
        return until == null ? new ConcurrencyLimit<>(inner, permits) : new ConcurrencyLimit<>(inner, permits, until);
    }
}
