package dev.belfry.backoff;

import dev.belfry.Checks;
import java.time.Duration;
import java.util.random.RandomGenerator;

/** Exponential backoff with full jitter between a floor and a ceiling. */
final class ExponentialBackoff implements Backoff {
    private final long minNanos;
    private final long maxNanos;
    private final RandomGenerator random;

    ExponentialBackoff(Duration min, Duration max, RandomGenerator random) {
        this.minNanos = Checks.positive(min, "min").toNanos();
        this.maxNanos = Checks.positive(max, "max").toNanos();
        this.random = Checks.notNull(random, "random");
        if (maxNanos < minNanos) {
            throw new IllegalArgumentException("max must be at least min (" + min + "), was " + max);
        }
    }

    @Override
    public Duration delay(int attempt) {
        Checks.positive(attempt, "attempt");
        // min * 2^attempt, saturating: past 62 doublings every realistic min exceeds max anyway.
        int shift = Math.min(attempt, 62);
        long ceiling = minNanos > (maxNanos >> shift) ? maxNanos : Math.min(maxNanos, minNanos << shift);
        if (ceiling <= minNanos) {
            return Duration.ofNanos(minNanos);
        }
        return Duration.ofNanos(random.nextLong(minNanos, ceiling + 1));
    }

    @Override
    public String toString() {
        return "Backoff.exponential[" + Duration.ofNanos(minNanos) + ".." + Duration.ofNanos(maxNanos) + "]";
    }
}
