package dev.belfry.load;

import dev.belfry.AbandonedException;
import dev.belfry.Checks;
import dev.belfry.Futures;
import dev.belfry.Service;
import dev.belfry.time.Clock;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * Peak-EWMA load: an estimate of the service's round-trip time, times its pending requests plus
 * one (Finagle's and Tower's latency-aware measure).
 *
 * <p>The estimate moves up at once to any slower response (the peak) and otherwise decays
 * exponentially over the {@linkplain Builder#decay decay window} towards recent round-trip times.
 * It also decays towards zero while no responses arrive, and the decay is applied whenever the load
 * is read, so an endpoint that was slow once gets a fresh chance after a while instead of being
 * avoided forever. Before the first response the estimate is the {@linkplain Builder#initialRtt
 * initial round-trip time}, and the load counts only the requests in flight (so an endpoint not
 * yet measured costs nothing while idle and is tried at once); the first response replaces the
 * guess outright. (Blending the first responses into the guess, as Tower does, leaves every
 * endpoint of a sub-millisecond service priced near the guess for tens of seconds, since the guess
 * fades over the decay window: endpoints 0.3 ms and 20 ms away then look alike and share the
 * calls. Keeping the guess for a new endpoint while the others are measured would instead starve
 * it until the guess decayed. Finagle's Peak-EWMA does the same: an endpoint without history costs
 * nothing while idle, and its first response sets the estimate.)
 *
 * <p>Precisely, with {@code w = exp(-elapsed / decay)} where {@code elapsed} is the time since the
 * last update: reading gives {@code estimate * w}; the first sample {@code rtt}, and any larger than
 * {@code estimate * w}, replaces the estimate, a smaller one gives {@code estimate * w + rtt * (1 -
 * w)}. (Reads do not write, so,
 * unlike Tower, how often the load is read does not change the result.)
 *
 * <p>With a {@linkplain Builder#failurePenalty failure penalty}, a failed request (and a response
 * the {@linkplain Builder#pushback pushback} test flags, such as a 503 with {@code Retry-After})
 * counts as at least that slow, so an endpoint that fails fast does not look cheap. A cancelled
 * request says nothing about the endpoint and is not sampled. An {@linkplain
 * dev.belfry.AbandonedException abandoned} one (a hedge's loser) is a lower bound: the estimate is raised to the time it ran if
 * that is more, and otherwise held where it is, undecayed.
 *
 * <p>Lock-free and thread-safe. Times are read from the injected {@link Clock}.
 *
 * @param <Req> the request type
 * @param <Res> the response type
 */
public final class PeakEwma<Req, Res> extends Tracked<Req, Res> {
    /** The default initial round-trip time estimate. */
    public static final Duration DEFAULT_INITIAL_RTT = Duration.ofMillis(30);

    /** The default decay window. */
    public static final Duration DEFAULT_DECAY = Duration.ofSeconds(10);

    private final Clock clock;
    private final double decayNanos;
    private final long penaltyNanos;
    private final Predicate<? super Res> pushback;
    private final AtomicReference<Estimate> estimate;

    private PeakEwma(Service<Req, Res> inner, Builder<Req, Res> settings) {
        super(Checks.notNull(inner, "service"));
        this.clock = settings.clock;
        this.decayNanos = settings.decay.toNanos();
        this.penaltyNanos = settings.failurePenalty == null ? 0 : settings.failurePenalty.toNanos();
        this.pushback = settings.pushback;
        this.estimate = new AtomicReference<>(new Estimate(settings.initialRtt.toNanos(), clock.nanoTime(), false));
    }

    /** A builder of Peak-EWMA measures. */
    public static <Req, Res> Builder<Req, Res> builder() {
        return new Builder<>();
    }

    /**
     * The round-trip time estimate times pending requests plus one, in nanoseconds; before the first
     * response, the initial round-trip time times pending requests (nothing while idle).
     */
    @Override
    public double load() {
        Estimate current = estimate.get();
        double nanos = current.at(clock.nanoTime(), decayNanos);
        int pending = pending();
        // Not measured yet: idle, it is the cheapest choice, so a new endpoint is tried at once
        // rather than waiting for its guess to decay below the measured endpoints' estimates.
        return current.measured() ? nanos * (pending + 1) : nanos * pending;
    }

    /** The current round-trip time estimate, decayed to now, in nanoseconds. */
    public double rttEstimateNanos() {
        return estimate.get().at(clock.nanoTime(), decayNanos);
    }

    @Override
    long startTime() {
        return clock.nanoTime();
    }

    @Override
    void completed(long start, @Nullable Res response, @Nullable Throwable failure) {
        Throwable cause = failure == null ? null : Futures.unwrap(failure);
        if (cause instanceof AbandonedException) {
            long now = clock.nanoTime();
            double atLeast = (double) Math.max(0, now - start);
            estimate.updateAndGet(current -> current.hold(now, atLeast));
            return;
        }
        if (cause instanceof CancellationException) {
            return;
        }
        long now = clock.nanoTime();
        double rtt = (double) Math.max(0, now - start);
        if (penaltyNanos > 0 && (failure != null || (response != null && pushback.test(response)))) {
            rtt = Math.max(rtt, (double) penaltyNanos);
        }
        double sample = rtt;
        estimate.updateAndGet(current -> current.observe(now, sample, decayNanos));
    }

    @Override
    public String toString() {
        return "PeakEwma[rtt=" + Math.round(rttEstimateNanos() / 1000.0) + "us, pending=" + pending() + "]";
    }

    /**
     * An immutable estimate, when it was last updated and whether a response has set it (else it is
     * the initial guess), swapped atomically.
     */
    private record Estimate(double nanos, long stamp, boolean measured) {
        /** After a request abandoned at {@code atLeast}: no lower than that, and not decayed. */
        Estimate hold(long now, double atLeast) {
            return new Estimate(Math.max(nanos, atLeast), Math.max(now, stamp), measured);
        }

        double at(long now, double decayNanos) {
            long elapsed = Math.max(0, now - stamp);
            return nanos * Math.exp(-elapsed / decayNanos);
        }

        Estimate observe(long now, double rtt, double decayNanos) {
            if (!measured) {
                return new Estimate(rtt, Math.max(now, stamp), true);
            }
            long elapsed = Math.max(0, now - stamp);
            double weight = Math.exp(-elapsed / decayNanos);
            double decayed = nanos * weight;
            // The peak: a slower sample takes over at once; faster ones pull the estimate down slowly.
            double next = rtt > decayed ? rtt : decayed + rtt * (1 - weight);
            return new Estimate(next, Math.max(now, stamp), true);
        }
    }

    /**
     * Settings for {@link PeakEwma}; each may be set once.
     *
     * @param <Req> the request type
     * @param <Res> the response type
     */
    public static final class Builder<Req, Res> {
        private Clock clock = Clock.system();
        private boolean clockSet;
        private Duration initialRtt = DEFAULT_INITIAL_RTT;
        private Duration decay = DEFAULT_DECAY;
        private @Nullable Duration failurePenalty;
        private Predicate<? super Res> pushback = response -> false;
        private boolean initialRttSet;
        private boolean decaySet;
        private boolean pushbackSet;

        private Builder() {}

        /** The clock for round-trip times and the decay; default the system clock. Tests pass a manual clock. */
        public Builder<Req, Res> clock(Clock clock) {
            Checks.notSetTwice(clockSet ? this.clock : null, "clock");
            this.clock = Checks.notNull(clock, "clock");
            clockSet = true;
            return this;
        }

        /** The estimate before the first response; default 30 ms. */
        public Builder<Req, Res> initialRtt(Duration initialRtt) {
            Checks.notSetTwice(initialRttSet ? this.initialRtt : null, "initialRtt");
            this.initialRtt = Checks.positive(initialRtt, "initialRtt");
            initialRttSet = true;
            return this;
        }

        /** How fast the estimate forgets: the time constant of the exponential decay; default 10 s. */
        public Builder<Req, Res> decay(Duration decay) {
            Checks.notSetTwice(decaySet ? this.decay : null, "decay");
            this.decay = Checks.positive(decay, "decay");
            decaySet = true;
            return this;
        }

        /**
         * Counts every failed request as taking at least {@code penalty}, so a fast-failing endpoint
         * looks slow; off by default.
         */
        public Builder<Req, Res> failurePenalty(Duration penalty) {
            Checks.notSetTwice(failurePenalty, "failurePenalty");
            this.failurePenalty = Checks.positive(penalty, "failurePenalty");
            return this;
        }

        /**
         * Counts responses for which {@code test} is true (an overload answer, a {@code Retry-After})
         * as failures for the {@linkplain #failurePenalty penalty}; requires a penalty.
         */
        public Builder<Req, Res> pushback(Predicate<? super Res> test) {
            Checks.notSetTwice(pushbackSet ? pushback : null, "pushback");
            this.pushback = Checks.notNull(test, "pushback");
            pushbackSet = true;
            return this;
        }

        /** The measure; each service it wraps gets its own estimate. */
        public Load<Req, Res> build() {
            if (pushbackSet && failurePenalty == null) {
                throw new IllegalStateException("pushback needs a failurePenalty to count as slow");
            }
            Builder<Req, Res> settings = copy();
            return service -> new PeakEwma<>(service, settings);
        }

        // A frozen copy, so changing the builder later does not change measures already built.
        private Builder<Req, Res> copy() {
            Builder<Req, Res> copy = new Builder<>();
            copy.clock = clock;
            copy.initialRtt = initialRtt;
            copy.decay = decay;
            copy.failurePenalty = failurePenalty;
            copy.pushback = pushback;
            return copy;
        }
    }
}
