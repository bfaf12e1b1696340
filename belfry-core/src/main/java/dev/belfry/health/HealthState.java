package dev.belfry.health;

import org.jspecify.annotations.Nullable;

/**
 * An immutable snapshot of one endpoint's health, for diagnostics pages and metrics.
 *
 * <p>Timestamps are {@link dev.belfry.time.Clock#nanoTime()} readings of the monitor's clock (only
 * differences between them mean anything); {@code 0} means never.
 *
 * @param status where the endpoint stands
 * @param lastError the most recent failure seen (by a check or a request), or {@code null}
 * @param changedAtNanos when the status last changed (or the endpoint joined)
 * @param lastCheckAtNanos when the last active check finished, or {@code 0}
 * @param consecutiveFailures request failures since the last success
 * @param ejections how many times in a row it was ejected (the ejection time grows with it)
 * @param ejectedUntilNanos when the current ejection ends, or {@code 0} if not ejected
 */
public record HealthState(
        HealthStatus status,
        @Nullable Throwable lastError,
        long changedAtNanos,
        long lastCheckAtNanos,
        int consecutiveFailures,
        int ejections,
        long ejectedUntilNanos) {}
