package dev.belfry.backoff;

import dev.belfry.Checks;
import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * How long to wait before the next attempt: of a retry, a reconnect, a health probe.
 *
 * <p>A strategy, so custom ones are a lambda. Implementations are thread-safe if the random source
 * they were given is; {@link RandomGenerator#of} sources are not shared across threads safely, so
 * give each backoff a {@code java.util.concurrent.ThreadLocalRandom#current()} in production or a
 * seeded source confined to one test thread.
 */
@FunctionalInterface
public interface Backoff {

    /** The delay before attempt {@code attempt}, counting the first repeat as 1. */
    Duration delay(int attempt);

    /** The same delay every time. */
    static Backoff constant(Duration delay) {
        Checks.nonNegative(delay, "delay");
        return attempt -> delay;
    }

    /**
     * Exponential backoff with full jitter: before attempt {@code n} waits a uniformly random time
     * between {@code min} and {@code min(max, min * 2^n)}.
     *
     * <p>Jitter spreads the attempts of many clients that failed together, so they do not return
     * together; the upper bound doubles each attempt until it reaches {@code max}.
     */
    static Backoff exponential(Duration min, Duration max, RandomGenerator random) {
        return new ExponentialBackoff(min, max, random);
    }
}
