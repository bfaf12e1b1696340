package dev.belfry.builder;

import dev.belfry.Checks;
import dev.belfry.Layer;
import dev.belfry.OverloadedException;
import dev.belfry.Service;
import dev.belfry.breaker.CircuitBreakerLayer;
import dev.belfry.buffer.BufferLayer;
import dev.belfry.coalesce.CoalesceLayer;
import dev.belfry.filter.AsyncFilterLayer;
import dev.belfry.filter.AsyncRequestFilter;
import dev.belfry.filter.FilterLayer;
import dev.belfry.filter.RequestFilter;
import dev.belfry.hedge.HedgeLayer;
import dev.belfry.limit.ConcurrencyLimitLayer;
import dev.belfry.limit.Permits;
import dev.belfry.limit.RateLimitLayer;
import dev.belfry.limit.RateLimiter;
import dev.belfry.map.AndThenLayer;
import dev.belfry.map.MapErrorLayer;
import dev.belfry.map.MapRequestLayer;
import dev.belfry.map.MapResponseLayer;
import dev.belfry.retry.RetryLayer;
import dev.belfry.retry.RetryPolicy;
import dev.belfry.shed.LoadShedLayer;
import dev.belfry.time.Clock;
import dev.belfry.timeout.TimeoutLayer;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * Stacks layers around a service; the first layer added is the outermost and sees each request
 * first (Tower's rule).
 *
 * <pre>{@code
 * Service<Req, Res> client = ServiceBuilder.<Req, Res>builder()
 *     .timeout(Duration.ofSeconds(2))      // outermost: covers time queued below
 *     .concurrencyLimit(64)
 *     .service(transport);                 // innermost
 * }</pre>
 *
 * <p>Builders are immutable: every method returns a new builder, so a partial stack can be shared
 * and extended. Each convenience method is named after its layer and validates its arguments at
 * once, naming the parameter that is wrong.
 *
 * @param <Req> the request type of the finished service
 * @param <Res> the response type of the finished service
 * @param <InReq> the request type the next layer (or the inner service) receives
 * @param <InRes> the response type the next layer (or the inner service) returns
 */
public final class ServiceBuilder<Req, Res, InReq, InRes> {
    private final Layer<Req, Res, InReq, InRes> stack;
    private final @Nullable Clock clock;

    private ServiceBuilder(Layer<Req, Res, InReq, InRes> stack, @Nullable Clock clock) {
        this.stack = stack;
        this.clock = clock;
    }

    /** An empty builder for services of the given types. */
    public static <Req, Res> ServiceBuilder<Req, Res, Req, Res> builder() {
        return new ServiceBuilder<>(Layer.identity(), null);
    }

    /**
     * Sets the clock that the time-based layers added after this call use (the system clock
     * otherwise). Tests pass a manual clock here. May be set once.
     */
    public ServiceBuilder<Req, Res, InReq, InRes> clock(Clock clock) {
        Checks.notNull(clock, "clock");
        Checks.notSetTwice(this.clock, "clock");
        return new ServiceBuilder<>(stack, clock);
    }

    /** Adds {@code layer} inside every layer added so far. */
    public <R, S> ServiceBuilder<Req, Res, R, S> layer(Layer<InReq, InRes, R, S> layer) {
        Checks.notNull(layer, "layer");
        return new ServiceBuilder<>(stack.then(layer), clock);
    }

    /** Adds a {@link dev.belfry.timeout.Timeout} of {@code limit}. */
    public ServiceBuilder<Req, Res, InReq, InRes> timeout(Duration limit) {
        return layer(TimeoutLayer.of(limit, clockOrSystem()));
    }

    /** Wraps {@code inner} in every layer, the first added outermost. */
    public Service<Req, Res> service(Service<InReq, InRes> inner) {
        Checks.notNull(inner, "inner");
        return stack.wrap(inner);
    }

    /**
     * Adds a {@link dev.belfry.limit.ConcurrencyLimit} of {@code max} calls in flight; further
     * callers wait in line, without bound (bound the wait with a timeout added before it).
     */
    public ServiceBuilder<Req, Res, InReq, InRes> concurrencyLimit(int max) {
        return layer(ConcurrencyLimitLayer.of(max));
    }

    /**
     * Adds a {@link dev.belfry.limit.ConcurrencyLimit} of {@code max} calls in flight, with at most
     * {@code maxQueued} callers waiting; more fail at once with {@link OverloadedException} (0:
     * never wait).
     */
    public ServiceBuilder<Req, Res, InReq, InRes> concurrencyLimit(int max, int maxQueued) {
        return layer(ConcurrencyLimitLayer.of(max, maxQueued));
    }

    /** Adds a {@link dev.belfry.limit.ConcurrencyLimit} that shares {@code permits} with others. */
    public ServiceBuilder<Req, Res, InReq, InRes> concurrencyLimit(Permits permits) {
        return layer(ConcurrencyLimitLayer.shared(permits));
    }

    /**
     * Adds a {@link dev.belfry.limit.RateLimit} of {@code requests} per {@code per}, with a burst of
     * {@code requests}; callers over the rate wait for a token.
     */
    public ServiceBuilder<Req, Res, InReq, InRes> rateLimit(long requests, Duration per) {
        return layer(RateLimitLayer.of(requests, per, clockOrSystem()));
    }

    /** Adds a {@link dev.belfry.limit.RateLimit} drawing on the shared {@code limiter}. */
    public ServiceBuilder<Req, Res, InReq, InRes> rateLimit(RateLimiter limiter) {
        return layer(RateLimitLayer.of(limiter));
    }

    /**
     * Adds a {@link dev.belfry.shed.LoadShed}: a request the layers below cannot admit at once fails
     * with {@link OverloadedException} instead of waiting.
     */
    public ServiceBuilder<Req, Res, InReq, InRes> loadShed() {
        return layer(LoadShedLayer.of());
    }

    /**
     * Adds a {@link dev.belfry.buffer.Buffer}: up to {@code capacity} requests wait in a queue
     * drained at the pace of the layers below; more fail with {@link OverloadedException}.
     */
    public ServiceBuilder<Req, Res, InReq, InRes> buffer(int capacity) {
        return layer(BufferLayer.of(capacity, clockOrSystem()));
    }

    /**
     * Adds a {@link dev.belfry.retry.Retry} following {@code policy}, spending a retry budget of its
     * own (10 s window, 10 retries per second plus 20 % of requests). Only idempotent requests, or
     * failures that guarantee the request was never sent, are repeated.
     */
    public ServiceBuilder<Req, Res, InReq, InRes> retry(RetryPolicy<InReq, InRes> policy) {
        return layer(RetryLayer.of(policy, clockOrSystem()));
    }

    /**
     * Adds a {@link dev.belfry.breaker.CircuitBreaker} with default settings (see {@link
     * CircuitBreakerLayer#builder()} for others). Below a balancer, add it per endpoint instead.
     */
    public ServiceBuilder<Req, Res, InReq, InRes> circuitBreaker() {
        return layer(CircuitBreakerLayer.of(clockOrSystem()));
    }

    /**
     * Adds a {@link dev.belfry.coalesce.Coalesce}: concurrent requests with equal keys share one call
     * to the layers below.
     */
    public ServiceBuilder<Req, Res, InReq, InRes> coalesce(Function<? super InReq, ?> key) {
        return layer(CoalesceLayer.of(key, clockOrSystem()));
    }

    /**
     * Adds a {@link dev.belfry.hedge.Hedge}: a backup request for idempotent requests slower than the
     * recent 95th percentile, within a retry budget.
     */
    public ServiceBuilder<Req, Res, InReq, InRes> hedge(Predicate<? super InReq> idempotent) {
        return layer(HedgeLayer.of(idempotent, clockOrSystem()));
    }

    /** Adds a {@link dev.belfry.filter.Filter}: checks, and may rewrite or reject, each request. */
    public <R> ServiceBuilder<Req, Res, R, InRes> filter(RequestFilter<? super InReq, ? extends R> filter) {
        return layer(FilterLayer.<InReq, R, InRes>of(filter));
    }

    /** Adds a {@link dev.belfry.filter.AsyncFilter}: an asynchronous check of each request. */
    public <R> ServiceBuilder<Req, Res, R, InRes> asyncFilter(AsyncRequestFilter<? super InReq, ? extends R> filter) {
        return layer(AsyncFilterLayer.<InReq, R, InRes>of(filter));
    }

    /** Adds a {@link dev.belfry.map.MapRequest}: turns each request into the type the layers below take. */
    public <R> ServiceBuilder<Req, Res, R, InRes> mapRequest(Function<? super InReq, ? extends R> function) {
        return layer(MapRequestLayer.<InReq, R, InRes>of(function));
    }

    /** Adds a {@link dev.belfry.map.MapResponse}: turns responses from below into this stack's type. */
    public <S> ServiceBuilder<Req, Res, InReq, S> mapResponse(Function<? super S, ? extends InRes> function) {
        return layer(MapResponseLayer.<InReq, S, InRes>of(function));
    }

    /** Adds a {@link dev.belfry.map.MapError}: rewrites failures from below. */
    public ServiceBuilder<Req, Res, InReq, InRes> mapError(Function<? super Throwable, ? extends Throwable> function) {
        return layer(MapErrorLayer.<InReq, InRes>of(function));
    }

    /** Adds an {@link dev.belfry.map.AndThen}: an asynchronous step after each successful response. */
    public <S> ServiceBuilder<Req, Res, InReq, S> andThen(
            Function<? super S, ? extends CompletionStage<InRes>> function) {
        return layer(AndThenLayer.<InReq, S, InRes>of(function));
    }

    private Clock clockOrSystem() {
        return clock != null ? clock : Clock.system();
    }

    /** The whole stack as one layer. */
    public Layer<Req, Res, InReq, InRes> toLayer() {
        return stack;
    }
}
