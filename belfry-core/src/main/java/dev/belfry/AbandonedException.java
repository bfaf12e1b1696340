package dev.belfry;

import java.util.concurrent.CancellationException;

/**
 * A request its caller gave up on after it had been running for a while, such as the losing copy
 * of a hedged request: a {@link CancellationException} (everything that treats cancellation
 * specially treats this the same) that also says the endpoint's round trip was at least as long
 * as the request ran.
 *
 * <p>A plain cancellation says nothing about the endpoint. This one is a lower bound, and {@link
 * dev.belfry.load.PeakEwma} uses it as one: its estimate does not fall below the time the request ran, nor decay
 * while such requests keep being abandoned. Without that, an endpoint whose every request loses a
 * hedge would look as fast as the hedge's threshold (or, unsampled, decay towards zero) and be sent
 * more and more requests. {@link Futures#propagateCancellation} passes it on to the inner future
 * as it is, so the measure deep in a stack sees it.
 */
public final class AbandonedException extends CancellationException {
    private static final long serialVersionUID = 1L;

    /** An abandoned request, {@code why} saying who gave up on it and why. */
    public AbandonedException(String why) {
        super(why);
    }
}
