package dev.belfry.health.registry;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * One dependency's state in a {@link HealthReport}.
 *
 * @param name the dependency's name
 * @param required whether readiness needs it up
 * @param status its status after hysteresis ({@link Health#UNKNOWN} until its first check ends)
 * @param latency how long its latest check took (the timeout, if it timed out), or {@code null}
 *     before the first check ended
 * @param message the latest check's message (a failure's reason), or {@code null}
 * @param sinceNanos when it entered {@code status}, on the registry's clock ({@link
 *     dev.belfry.time.Clock#nanoTime()}); compare with {@link HealthReport#atNanos()}
 */
public record DependencyHealth(
        String name,
        boolean required,
        Health status,
        @Nullable Duration latency,
        @Nullable String message,
        long sinceNanos) {

    /** Whether this dependency keeps the process from being ready. */
    public boolean blocksReadiness() {
        return required && !status.isUp();
    }
}
