package dev.belfry.channel;

import dev.belfry.Checks;

/**
 * One error a {@link WarmPool} recorded, with its repeats folded in: the same message seen again
 * moves {@code lastNanos} and counts, instead of pushing older errors out.
 *
 * @param message what went wrong
 * @param firstNanos when it was first seen, on the pool's clock
 * @param lastNanos when it was last seen, on the pool's clock
 * @param count how many times in a row it was seen (1 if once)
 */
public record RecordedError(String message, long firstNanos, long lastNanos, int count) {

    /** Validates. */
    public RecordedError {
        Checks.notNull(message, "message");
        Checks.positive(count, "count");
    }

    RecordedError repeated(long now) {
        return new RecordedError(message, firstNanos, now, count + 1);
    }

    @Override
    public String toString() {
        return count == 1 ? message : message + " (x" + count + ")";
    }
}
