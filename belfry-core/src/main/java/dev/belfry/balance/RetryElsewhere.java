package dev.belfry.balance;

import dev.belfry.Checks;
import dev.belfry.Futures;
import dev.belfry.Readiness;
import dev.belfry.Service;
import dev.belfry.UnprocessedException;
import dev.belfry.retry.RetryBudget;
import dev.belfry.retry.RetryListener;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * Retries a request that an endpoint certainly did not process on another endpoint of the same
 * {@link Balancer}, at once, at most {@code maxRetries} times and within a {@link RetryBudget}.
 *
 * <p>Each attempt goes through {@link Balancer#route} with the set of endpoints the request has
 * already tried, an immutable set built anew for each retry: the balancer prefers an endpoint not in
 * it and turns to a tried one only when no other can admit. A retry first asks without waiting
 * ({@link Balancer#tryRoute}); if no endpoint can admit now it waits as a first attempt does, for at
 * most the balancer's {@code maxWait}. There is no backoff: another endpoint is not the one that
 * just failed.
 *
 * <p>Only failures the {@code retryIf} predicate accepts are retried; by default those that are
 * {@link UnprocessedException}s (the request never left: a refused connect, an open breaker, a
 * closed endpoint), which makes the retry safe whatever the request is. A failure to find any
 * endpoint ({@link NoEndpointsException}, after the balancer's own wait) is never retried here.
 * The caller sees the last real outcome: this layer creates no exception of its own. Every call
 * deposits in the budget; every retry withdraws one token or is not made.
 *
 * <p>Readiness, {@code whenReady} and {@code close} are the balancer's. {@link #tryCall} is exact
 * for the first attempt: it returns null, having deposited nothing, if no endpoint can admit now.
 * Cancelling the returned future cancels the attempt in flight, or withdraws a retry waiting for an
 * endpoint. A success that arrives after the caller cancelled is closed if it is {@link
 * AutoCloseable}. Thread-safe; attempts of one request run one after another.
 *
 * <pre>{@code
 * Service<Req, Res> client = RetryElsewhere.builder(balancer, RetryBudget.of(clock))
 *         .maxRetries(2)
 *         .build();
 * }</pre>
 *
 * @param <Req> the request type
 * @param <Res> the response type
 */
public final class RetryElsewhere<Req, Res> implements Service<Req, Res> {
    private static final System.Logger LOG = System.getLogger(RetryElsewhere.class.getName());

    /** The default number of retries after the first attempt. */
    public static final int DEFAULT_MAX_RETRIES = 2;

    private final Balancer<Req, Res> balancer;
    private final RetryBudget budget;
    private final int maxRetries;
    private final Predicate<? super Throwable> retryIf;
    private final RetryListener listener;

    private RetryElsewhere(Builder<Req, Res> builder) {
        this.balancer = builder.balancer;
        this.budget = builder.budget;
        this.maxRetries = builder.maxRetries;
        this.retryIf = builder.retryIf;
        this.listener = RetryListener.guarded(builder.listener);
    }

    /** A builder of a retry over {@code balancer}, drawing retries from {@code budget}. */
    public static <Req, Res> Builder<Req, Res> builder(Balancer<Req, Res> balancer, RetryBudget budget) {
        return new Builder<>(balancer, budget);
    }

    @Override
    public CompletableFuture<Res> call(Req request) {
        budget.deposit();
        Attempts attempts = new Attempts(request);
        attempts.admission(balancer.route(request, Set.of()));
        return attempts.result;
    }

    @Override
    public @Nullable CompletableFuture<Res> tryCall(Req request) {
        Routed<Res> routed = balancer.tryRoute(request, Set.of());
        if (routed == null) {
            return null;
        }
        budget.deposit();
        Attempts attempts = new Attempts(request);
        attempts.follow(routed);
        return attempts.result;
    }

    @Override
    public Readiness readiness() {
        return balancer.readiness();
    }

    @Override
    public CompletionStage<Void> whenReady() {
        return balancer.whenReady();
    }

    /** Closes the balancer. */
    @Override
    public void close() {
        balancer.close();
    }

    /** The balancer this retry routes through. */
    public Balancer<Req, Res> balancer() {
        return balancer;
    }

    @Override
    public String toString() {
        return "RetryElsewhere[" + maxRetries + ", " + balancer + "]";
    }

    /** The attempts of one request, made one after another. */
    private final class Attempts {
        final Req request;
        final CompletableFuture<Res> result = new CompletableFuture<>();
        // The admission or response in flight; cancelled when the caller cancels.
        volatile @Nullable CompletableFuture<?> current;
        // Written between attempts only; each attempt's completion publishes them to the next.
        Set<Object> tried = Set.of();
        int retried;

        Attempts(Req request) {
            this.request = request;
            result.whenComplete((response, failure) -> {
                CompletableFuture<?> inflight = current;
                if (result.isCancelled() && inflight != null) {
                    inflight.cancel(false);
                }
            });
        }

        /** Follows a request waiting for an endpoint to admit it. */
        void admission(CompletableFuture<Routed<Res>> admission) {
            current = admission;
            admission.whenComplete((routed, failure) -> {
                if (failure != null) {
                    Futures.completeFrom(result, null, failure);
                } else {
                    follow(routed);
                }
            });
            // Registered after `current` was set, so a cancellation that raced it still lands.
            if (result.isCancelled()) {
                admission.cancel(false);
            }
        }

        /** Follows an attempt an endpoint admitted. */
        void follow(Routed<Res> routed) {
            CompletableFuture<Res> response = routed.response();
            current = response;
            response.whenComplete((value, failure) -> {
                if (failure == null) {
                    if (!result.complete(value)) {
                        closeUnclaimed(value);
                    }
                    return;
                }
                if (result.isDone()) {
                    return;
                }
                Throwable cause = Futures.unwrap(failure);
                boolean wanted = retried < maxRetries && retryable(cause);
                if (wanted && !budget.tryWithdraw()) {
                    listener.onBudgetExhausted();
                } else if (wanted) {
                    retried++;
                    listener.onRetry(retried + 1, cause);
                    tried = with(tried, routed.endpoint());
                    Routed<Res> next = balancer.tryRoute(request, tried);
                    if (next != null) {
                        follow(next);
                    } else {
                        admission(balancer.route(request, tried));
                    }
                    return;
                }
                Futures.completeFrom(result, null, cause);
            });
            if (result.isCancelled()) {
                response.cancel(false);
            }
        }
    }

    private boolean retryable(Throwable cause) {
        try {
            return retryIf.test(cause);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "retryIf failed on " + cause + "; not retrying", e);
            return false;
        }
    }

    private static Set<Object> with(Set<Object> tried, Object endpoint) {
        Set<Object> next = new HashSet<>(tried);
        next.add(endpoint);
        return Set.copyOf(next);
    }

    private static void closeUnclaimed(@Nullable Object response) {
        if (response instanceof AutoCloseable closeable) {
            try {
                closeable.close();
            } catch (Exception e) {
                LOG.log(System.Logger.Level.WARNING, "closing an unclaimed response failed", e);
            }
        }
    }

    /**
     * Settings of a {@link RetryElsewhere}; each may be set once.
     *
     * @param <Req> the request type
     * @param <Res> the response type
     */
    public static final class Builder<Req, Res> {
        private final Balancer<Req, Res> balancer;
        private final RetryBudget budget;
        private int maxRetries = DEFAULT_MAX_RETRIES;
        private boolean maxRetriesSet;
        private Predicate<? super Throwable> retryIf = failure -> failure instanceof UnprocessedException;
        private boolean retryIfSet;
        private RetryListener listener = RetryListener.none();
        private boolean listenerSet;

        private Builder(Balancer<Req, Res> balancer, RetryBudget budget) {
            this.balancer = Checks.notNull(balancer, "balancer");
            this.budget = Checks.notNull(budget, "budget");
        }

        /** How many times a request may be retried after its first attempt (0 to 100); default 2. */
        public Builder<Req, Res> maxRetries(int maxRetries) {
            Checks.notSetTwice(maxRetriesSet ? this.maxRetries : null, "maxRetries");
            this.maxRetries = (int) Checks.inRange(maxRetries, 0, 100, "maxRetries");
            maxRetriesSet = true;
            return this;
        }

        /**
         * Which failures of an endpoint are retried elsewhere; default {@link UnprocessedException}s.
         * Accept only failures after which the request is certainly unprocessed, or requests that
         * are safe to repeat. A predicate that throws means "do not retry".
         */
        public Builder<Req, Res> retryIf(Predicate<? super Throwable> retryIf) {
            Checks.notSetTwice(retryIfSet ? "a predicate" : null, "retryIf");
            this.retryIf = Checks.notNull(retryIf, "retryIf");
            retryIfSet = true;
            return this;
        }

        /** Hears each retry (with the attempt number it starts) and each refusal by the budget; default none. */
        public Builder<Req, Res> listener(RetryListener listener) {
            Checks.notSetTwice(listenerSet ? this.listener : null, "listener");
            this.listener = Checks.notNull(listener, "listener");
            listenerSet = true;
            return this;
        }

        /** The retry layer over the balancer. */
        public RetryElsewhere<Req, Res> build() {
            return new RetryElsewhere<>(this);
        }
    }
}
