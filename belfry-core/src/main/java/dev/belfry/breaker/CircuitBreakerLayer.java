package dev.belfry.breaker;

import dev.belfry.Checks;
import dev.belfry.Layer;
import dev.belfry.Service;
import dev.belfry.backoff.Backoff;
import dev.belfry.time.Clock;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BiPredicate;
import java.util.random.RandomGenerator;
import org.jspecify.annotations.Nullable;

/**
 * Gives every service it wraps a {@link CircuitBreaker} of its own, with shared settings: under a
 * balancer, one breaker per endpoint.
 */
public final class CircuitBreakerLayer<Req, Res> implements Layer<Req, Res, Req, Res> {
    /** How long the circuit stays half-open with probes in flight before it opens again, by default. */
    public static final Duration DEFAULT_HALF_OPEN_TIMEOUT = Duration.ofSeconds(30);

    /** Each call draws from the calling thread's generator, so the default backoff is shareable. */
    private static final RandomGenerator THREAD_LOCAL_RANDOM =
            () -> ThreadLocalRandom.current().nextLong();

    private final BreakerSettings<Res> settings;
    private final Clock clock;
    private final BreakerListener listener;

    private CircuitBreakerLayer(BreakerSettings<Res> settings, Clock clock, BreakerListener listener) {
        this.settings = settings;
        this.clock = Checks.notNull(clock, "clock");
        this.listener = BreakerListener.guarded(listener);
    }

    /** Breakers with the default settings (see {@link Builder}), timed on {@code clock}. */
    public static <Req, Res> CircuitBreakerLayer<Req, Res> of(Clock clock) {
        return CircuitBreakerLayer.<Req, Res>builder().clock(clock).build();
    }

    /** A builder for breakers with non-default settings. */
    public static <Req, Res> Builder<Req, Res> builder() {
        return new Builder<>();
    }

    @Override
    public CircuitBreaker<Req, Res> wrap(Service<Req, Res> inner) {
        return new CircuitBreaker<>(inner, settings, clock, listener);
    }

    @Override
    public String toString() {
        return "CircuitBreakerLayer" + settings;
    }

    /**
     * The settings of a {@link CircuitBreakerLayer}; each may be set once, and the two kinds of
     * sliding window exclude each other.
     *
     * @param <Req> the request type
     * @param <Res> the response type
     */
    public static final class Builder<Req, Res> {
        private @Nullable Integer consecutiveFailures;
        private @Nullable Double failureRateThreshold;
        private @Nullable Object slidingWindow;
        private @Nullable Integer minimumCalls;
        private @Nullable Backoff openInterval;
        private @Nullable Integer halfOpenCalls;
        private @Nullable Duration halfOpenTimeout;
        private @Nullable BiPredicate<? super Res, ? super Throwable> isFailure;
        private @Nullable BreakerListener listener;
        private @Nullable Clock clock;

        private Builder() {}

        /** Opens after this many failures in a row, whatever the rate (default 5). */
        public Builder<Req, Res> consecutiveFailures(int consecutiveFailures) {
            Checks.notSetTwice(this.consecutiveFailures, "consecutiveFailures");
            this.consecutiveFailures = Checks.positive(consecutiveFailures, "consecutiveFailures");
            return this;
        }

        /** Opens when this share of the calls in the sliding window failed, in (0, 1] (default 0.5). */
        public Builder<Req, Res> failureRateThreshold(double failureRateThreshold) {
            Checks.notSetTwice(this.failureRateThreshold, "failureRateThreshold");
            if (!(failureRateThreshold > 0 && failureRateThreshold <= 1)) {
                throw new IllegalArgumentException(
                        "failureRateThreshold must be in (0, 1], was " + failureRateThreshold);
            }
            this.failureRateThreshold = failureRateThreshold;
            return this;
        }

        /** Computes the failure rate over the last {@code calls} calls (the default, 100). */
        public Builder<Req, Res> countWindow(int calls) {
            Checks.notSetTwice(slidingWindow, "slidingWindow");
            slidingWindow = Checks.positive(calls, "countWindow");
            return this;
        }

        /** Computes the failure rate over the calls that ended within the last {@code window}. */
        public Builder<Req, Res> timeWindow(Duration window) {
            Checks.notSetTwice(slidingWindow, "slidingWindow");
            slidingWindow = Checks.positive(window, "timeWindow");
            return this;
        }

        /** The failure rate counts only once the window holds this many calls (default 20). */
        public Builder<Req, Res> minimumCalls(int minimumCalls) {
            Checks.notSetTwice(this.minimumCalls, "minimumCalls");
            this.minimumCalls = Checks.positive(minimumCalls, "minimumCalls");
            return this;
        }

        /**
         * How long the circuit stays open, by the number of times it opened in a row (default:
         * exponential with full jitter from 5 s, its ceiling doubling each reopening up to 5 min).
         */
        public Builder<Req, Res> openInterval(Backoff openInterval) {
            Checks.notSetTwice(this.openInterval, "openInterval");
            this.openInterval = Checks.notNull(openInterval, "openInterval");
            return this;
        }

        /**
         * How many probe calls may be in flight at once when half-open, and how many must succeed
         * to close the circuit (default 3).
         */
        public Builder<Req, Res> halfOpenCalls(int halfOpenCalls) {
            Checks.notSetTwice(this.halfOpenCalls, "halfOpenCalls");
            this.halfOpenCalls = Checks.positive(halfOpenCalls, "halfOpenCalls");
            return this;
        }

        /**
         * How long the circuit may stay half-open with probe calls in flight and too few of them
         * answered (default 30 s): then it opens again, as if a probe had failed, and the
         * outcomes of those probes are ignored. Without it, probes that never complete would
         * keep the circuit half-open and busy for ever. Probes still get their own timeout from a
         * timeout layer below the breaker; this bounds the breaker when they have none.
         */
        public Builder<Req, Res> halfOpenTimeout(Duration halfOpenTimeout) {
            Checks.notSetTwice(this.halfOpenTimeout, "halfOpenTimeout");
            this.halfOpenTimeout = Checks.positive(halfOpenTimeout, "halfOpenTimeout");
            return this;
        }

        /**
         * Which outcomes count as failures, given the response (null on failure) and the unwrapped
         * failure (null on success); for example timeouts and 5xx responses but not 404s. The
         * default counts every failure and no response. Cancelled calls are never counted.
         */
        public Builder<Req, Res> isFailure(BiPredicate<? super Res, ? super Throwable> isFailure) {
            Checks.notSetTwice(this.isFailure, "isFailure");
            this.isFailure = Checks.notNull(isFailure, "isFailure");
            return this;
        }

        /** Hears state changes (default: none). */
        public Builder<Req, Res> listener(BreakerListener listener) {
            Checks.notSetTwice(this.listener, "listener");
            this.listener = Checks.notNull(listener, "listener");
            return this;
        }

        /** The clock for open intervals, time windows and half-open timeouts; default the system clock. Tests pass a manual clock. */
        public Builder<Req, Res> clock(Clock clock) {
            Checks.notSetTwice(this.clock, "clock");
            this.clock = Checks.notNull(clock, "clock");
            return this;
        }

        /** The layer; each service it wraps gets its own breaker. */
        public CircuitBreakerLayer<Req, Res> build() {
            int calls = slidingWindow instanceof Integer count ? count : 100;
            Duration time = slidingWindow instanceof Duration duration ? duration : null;
            int minimum = minimumCalls != null ? minimumCalls : 20;
            if (time == null && minimum > calls) {
                throw new IllegalArgumentException(
                        "minimumCalls must be at most the countWindow (" + calls + "), was " + minimum);
            }
            BreakerSettings<Res> settings = new BreakerSettings<>(
                    consecutiveFailures != null ? consecutiveFailures : 5,
                    failureRateThreshold != null ? failureRateThreshold : 0.5,
                    calls,
                    time,
                    minimum,
                    openInterval != null
                            ? openInterval
                            : Backoff.exponential(Duration.ofSeconds(5), Duration.ofMinutes(5), THREAD_LOCAL_RANDOM),
                    halfOpenCalls != null ? halfOpenCalls : 3,
                    halfOpenTimeout != null ? halfOpenTimeout : DEFAULT_HALF_OPEN_TIMEOUT,
                    isFailure != null ? isFailure : (response, failure) -> failure != null);
            return new CircuitBreakerLayer<>(
                    settings,
                    clock != null ? clock : Clock.system(),
                    listener != null ? listener : BreakerListener.none());
        }
    }
}
