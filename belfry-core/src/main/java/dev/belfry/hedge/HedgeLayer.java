package dev.belfry.hedge;

import dev.belfry.Checks;
import dev.belfry.Layer;
import dev.belfry.Service;
import dev.belfry.retry.RetryBudget;
import dev.belfry.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * Applies a {@link Hedge} to every service it wraps; all of them share the layer's {@link
 * RetryBudget}, and each measures its own latencies.
 */
public final class HedgeLayer<Req, Res> implements Layer<Req, Res, Req, Res> {
    private final HedgeSettings<Req> settings;
    private final RetryBudget budget;
    private final Clock clock;
    private final HedgeListener listener;

    private HedgeLayer(HedgeSettings<Req> settings, RetryBudget budget, Clock clock, HedgeListener listener) {
        this.settings = settings;
        this.budget = budget;
        this.clock = clock;
        this.listener = HedgeListener.guarded(listener);
    }

    /**
     * Hedges the requests {@code idempotent} accepts with the default settings (see {@link
     * Builder}), timed on {@code clock}.
     */
    public static <Req, Res> HedgeLayer<Req, Res> of(Predicate<? super Req> idempotent, Clock clock) {
        return HedgeLayer.<Req, Res>builder(idempotent).clock(clock).build();
    }

    /**
     * A builder for hedging the requests {@code idempotent} accepts: a backup is a second copy of
     * the request running at the same time, so only requests that may be processed twice qualify.
     */
    public static <Req, Res> Builder<Req, Res> builder(Predicate<? super Req> idempotent) {
        return new Builder<>(Checks.notNull(idempotent, "idempotent"));
    }

    @Override
    public Service<Req, Res> wrap(Service<Req, Res> inner) {
        return new Hedge<>(inner, settings, budget, clock, listener);
    }

    @Override
    public String toString() {
        return "HedgeLayer[p" + settings.percentile() + ", maxExtra=" + settings.maxExtra() + "]";
    }

    /**
     * The settings of a {@link HedgeLayer}; each may be set once.
     *
     * @param <Req> the request type
     * @param <Res> the response type
     */
    public static final class Builder<Req, Res> {
        private final Predicate<? super Req> idempotent;
        private @Nullable Double percentile;
        private @Nullable Integer maxExtra;
        private @Nullable Duration window;
        private @Nullable Integer minSamples;
        private @Nullable RetryBudget budget;
        private @Nullable Function<? super Req, Optional<Req>> copy;
        private @Nullable HedgeListener listener;
        private @Nullable Clock clock;

        private Builder(Predicate<? super Req> idempotent) {
            this.idempotent = idempotent;
        }

        /** Sends a backup when a request is slower than this latency percentile, in (0, 100) (default 95). */
        public Builder<Req, Res> percentile(double percentile) {
            Checks.notSetTwice(this.percentile, "percentile");
            if (!(percentile > 0 && percentile < 100)) {
                throw new IllegalArgumentException("percentile must be in (0, 100), was " + percentile);
            }
            this.percentile = percentile;
            return this;
        }

        /** The most backups per request, each a percentile's wait after the last (default 1). */
        public Builder<Req, Res> maxExtra(int maxExtra) {
            Checks.notSetTwice(this.maxExtra, "maxExtra");
            this.maxExtra = Checks.positive(maxExtra, "maxExtra");
            return this;
        }

        /** How long latencies are collected before they are used, and then replaced (default 10 s). */
        public Builder<Req, Res> window(Duration window) {
            Checks.notSetTwice(this.window, "window");
            this.window = Checks.positive(window, "window");
            return this;
        }

        /** No hedging until the last window holds this many successful calls (default 20). */
        public Builder<Req, Res> minSamples(int minSamples) {
            Checks.notSetTwice(this.minSamples, "minSamples");
            this.minSamples = Checks.positive(minSamples, "minSamples");
            return this;
        }

        /**
         * The budget backups spend (default: a new {@link RetryBudget#of default budget} on the
         * layer's clock). Share the client's budget here; if a retry layer above already deposits
         * for the same requests, pass {@link RetryBudget#withdrawOnly()}.
         */
        public Builder<Req, Res> budget(RetryBudget budget) {
            Checks.notSetTwice(this.budget, "budget");
            this.budget = Checks.notNull(budget, "budget");
            return this;
        }

        /**
         * How to copy a request for a backup; empty for requests that cannot be sent twice
         * (default: the request itself, for immutable requests).
         */
        public Builder<Req, Res> copy(Function<? super Req, Optional<Req>> copy) {
            Checks.notSetTwice(this.copy, "copy");
            this.copy = Checks.notNull(copy, "copy");
            return this;
        }

        /** Hears backups sent and backups refused by the budget (default: none). */
        public Builder<Req, Res> listener(HedgeListener listener) {
            Checks.notSetTwice(this.listener, "listener");
            this.listener = Checks.notNull(listener, "listener");
            return this;
        }

        /** The clock for latencies, backups and the default budget; default the system clock. Tests pass a manual clock. */
        public Builder<Req, Res> clock(Clock clock) {
            Checks.notSetTwice(this.clock, "clock");
            this.clock = Checks.notNull(clock, "clock");
            return this;
        }

        /** The layer. */
        public HedgeLayer<Req, Res> build() {
            Clock c = clock != null ? clock : Clock.system();
            HedgeSettings<Req> settings = new HedgeSettings<>(
                    idempotent,
                    copy != null ? copy : Optional::of,
                    percentile != null ? percentile : 95.0,
                    maxExtra != null ? maxExtra : 1,
                    window != null ? window : Duration.ofSeconds(10),
                    minSamples != null ? minSamples : 20);
            return new HedgeLayer<>(
                    settings,
                    budget != null ? budget : RetryBudget.of(c),
                    c,
                    listener != null ? listener : HedgeListener.none());
        }
    }
}
