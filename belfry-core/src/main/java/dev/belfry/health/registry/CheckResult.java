package dev.belfry.health.registry;

import dev.belfry.Checks;
import org.jspecify.annotations.Nullable;

/**
 * The outcome of one dependency check: a status and an optional message for people (shown by
 * {@code /health}). The registry measures the check's latency itself.
 *
 * @param status {@link Health#HEALTHY}, {@link Health#DEGRADED} or {@link Health#UNHEALTHY}; a
 *     check cannot report {@link Health#UNKNOWN}
 * @param message what to tell an operator, or {@code null}
 */
public record CheckResult(Health status, @Nullable String message) {

    /** Validates the status. */
    public CheckResult {
        Checks.notNull(status, "status");
        if (status == Health.UNKNOWN) {
            throw new IllegalArgumentException("a check result must be healthy, degraded or unhealthy, was unknown");
        }
    }

    private static final CheckResult HEALTHY = new CheckResult(Health.HEALTHY, null);

    /** A pass with no message. */
    public static CheckResult healthy() {
        return HEALTHY;
    }

    /** A pass with a message. */
    public static CheckResult healthy(String message) {
        return new CheckResult(Health.HEALTHY, Checks.notNull(message, "message"));
    }

    /** A pass that is impaired; it keeps a required dependency up. */
    public static CheckResult degraded(String message) {
        return new CheckResult(Health.DEGRADED, Checks.notNull(message, "message"));
    }

    /** A failure, with what went wrong. */
    public static CheckResult unhealthy(String message) {
        return new CheckResult(Health.UNHEALTHY, Checks.notNull(message, "message"));
    }

    /** Whether this result counts as a pass for rise/fall (healthy or degraded). */
    public boolean passed() {
        return status.isUp();
    }
}
