package dev.belfry.limit;

import dev.belfry.Checks;
import dev.belfry.Layer;
import dev.belfry.Service;
import dev.belfry.time.Clock;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * Applies a {@link RateLimit} to every service it wraps: one rate shared by all, or each its own.
 */
public final class RateLimitLayer<Req, Res> implements Layer<Req, Res, Req, Res> {
    private final Supplier<RateLimiter> limiters;

    private RateLimitLayer(Supplier<RateLimiter> limiters) {
        this.limiters = limiters;
    }

    /**
     * One rate shared by every service wrapped: together they are admitted at the rate of {@code
     * limiter}.
     */
    public static <Req, Res> RateLimitLayer<Req, Res> of(RateLimiter limiter) {
        Checks.notNull(limiter, "limiter");
        return new RateLimitLayer<>(() -> limiter);
    }

    /**
     * A rate of {@code requests} per {@code per} for each service wrapped, on the system clock; see
     * {@link #of(long, Duration, Clock)}.
     */
    public static <Req, Res> RateLimitLayer<Req, Res> of(long requests, Duration per) {
        return of(requests, per, Clock.system());
    }

    /**
     * A rate of {@code requests} per {@code per} for each service wrapped (each gets its own {@link
     * RateLimiter#of} limiter: bursts of up to {@code requests}, callers waiting with no bound).
     */
    public static <Req, Res> RateLimitLayer<Req, Res> of(long requests, Duration per, Clock clock) {
        // Built once now so a bad argument fails here, not at the first wrap.
        RateLimiter.of(requests, per, clock);
        return new RateLimitLayer<>(() -> RateLimiter.of(requests, per, clock));
    }

    @Override
    public RateLimit<Req, Res> wrap(Service<Req, Res> inner) {
        return new RateLimit<>(inner, limiters.get());
    }
}
