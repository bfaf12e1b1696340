package dev.belfry.retry;

import dev.belfry.Checks;
import dev.belfry.Layer;
import dev.belfry.Service;
import dev.belfry.time.Clock;
import org.jspecify.annotations.Nullable;

/**
 * Applies a {@link Retry} to every service it wraps; all of them share the layer's {@link
 * RetryBudget}.
 */
public final class RetryLayer<Req, Res> implements Layer<Req, Res, Req, Res> {
    private final RetryPolicy<Req, Res> policy;
    private final RetryBudget budget;
    private final Clock clock;
    private final RetryListener listener;

    private RetryLayer(RetryPolicy<Req, Res> policy, RetryBudget budget, Clock clock, RetryListener listener) {
        this.policy = Checks.notNull(policy, "policy");
        this.budget = Checks.notNull(budget, "budget");
        this.clock = Checks.notNull(clock, "clock");
        this.listener = RetryListener.guarded(listener);
    }

    /** Retries by {@code policy} within a default budget, on the system clock. */
    public static <Req, Res> RetryLayer<Req, Res> of(RetryPolicy<Req, Res> policy) {
        return of(policy, Clock.system());
    }

    /** Retries by {@code policy} within a default {@link RetryBudget#of budget}, on {@code clock}. */
    public static <Req, Res> RetryLayer<Req, Res> of(RetryPolicy<Req, Res> policy, Clock clock) {
        Checks.notNull(clock, "clock");
        return new RetryLayer<>(policy, RetryBudget.of(clock), clock, RetryListener.none());
    }

    /** A builder for a retry layer with a shared budget or a listener. */
    public static <Req, Res> Builder<Req, Res> builder(RetryPolicy<Req, Res> policy) {
        return new Builder<>(Checks.notNull(policy, "policy"));
    }

    @Override
    public Service<Req, Res> wrap(Service<Req, Res> inner) {
        return new Retry<>(inner, policy, budget, clock, listener);
    }

    @Override
    public String toString() {
        return "RetryLayer[" + policy + ", " + budget + "]";
    }

    /**
     * The settings of a {@link RetryLayer}; each may be set once.
     *
     * @param <Req> the request type
     * @param <Res> the response type
     */
    public static final class Builder<Req, Res> {
        private final RetryPolicy<Req, Res> policy;
        private @Nullable RetryBudget budget;
        private @Nullable RetryListener listener;
        private @Nullable Clock clock;

        private Builder(RetryPolicy<Req, Res> policy) {
            this.policy = policy;
        }

        /**
         * The budget retries spend (default: a new {@link RetryBudget#of default budget} on the
         * layer's clock); pass one budget to every layer that repeats requests of one client.
         */
        public Builder<Req, Res> budget(RetryBudget budget) {
            Checks.notSetTwice(this.budget, "budget");
            this.budget = Checks.notNull(budget, "budget");
            return this;
        }

        /** Hears retries and budget refusals (default: none). */
        public Builder<Req, Res> listener(RetryListener listener) {
            Checks.notSetTwice(this.listener, "listener");
            this.listener = Checks.notNull(listener, "listener");
            return this;
        }

        /** The clock for backoffs, attempt timeouts and the default budget; default the system clock. Tests pass a manual clock. */
        public Builder<Req, Res> clock(Clock clock) {
            Checks.notSetTwice(this.clock, "clock");
            this.clock = Checks.notNull(clock, "clock");
            return this;
        }

        /** The layer. */
        public RetryLayer<Req, Res> build() {
            Clock c = clock != null ? clock : Clock.system();
            return new RetryLayer<>(
                    policy,
                    budget != null ? budget : RetryBudget.of(c),
                    c,
                    listener != null ? listener : RetryListener.none());
        }
    }
}
