package dev.belfry.load;

import dev.belfry.Service;
import dev.belfry.time.Clock;

/**
 * A way to measure a service's load: wraps a service in a {@link Loaded} that tracks its own calls.
 *
 * <p>The measures, cheapest first: {@link #constant} (no information: every endpoint looks equal),
 * {@link #pending} (requests in flight), {@link #peakEwma} (latency-aware: round-trip time estimate
 * times pending requests plus one) and {@link PeakEwma#builder} for tuning it or penalising
 * failures, so that an endpoint that fails fast does not look cheap.
 *
 * <p>Every measure passes responses, failures and cancellation through unchanged, and counts a
 * request as pending from admission until it completes or is cancelled, exactly once.
 *
 * @param <Req> the request type
 * @param <Res> the response type
 */
@FunctionalInterface
public interface Load<Req, Res> {

    /** Wraps {@code service} so its load can be read; each call returns a new, independent measure. */
    Loaded<Req, Res> measure(Service<Req, Res> service);

    /** Every service reports {@code value}: a balancer over it chooses at random. */
    static <Req, Res> Load<Req, Res> constant(double value) {
        if (Double.isNaN(value)) {
            throw new IllegalArgumentException("load must be a number, was NaN");
        }
        return service -> new ConstantLoad<>(service, value);
    }

    /** The number of requests admitted and not yet completed or cancelled. */
    static <Req, Res> Load<Req, Res> pending() {
        return PendingLoad::new;
    }

    /**
     * Peak-EWMA with the defaults (30 ms initial round-trip time, 10 s decay, no failure penalty),
     * timed on {@code clock}.
     */
    static <Req, Res> Load<Req, Res> peakEwma(Clock clock) {
        return PeakEwma.<Req, Res>builder().clock(clock).build();
    }
}
