package dev.belfry.health.registry;

import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A snapshot of a {@link HealthRegistry}: the overall status, readiness, the draining flag, and every
 * dependency in the order it was registered. Immutable.
 *
 * <p>The overall status is {@link Health#UNHEALTHY} if a required dependency is unhealthy, else
 * {@link Health#UNKNOWN} if a required dependency has no result yet, else {@link Health#DEGRADED} if
 * any dependency is degraded or an optional one is unhealthy, else {@link Health#HEALTHY} (also
 * with no dependencies at all). Draining does not change it; it makes the process not ready.
 *
 * @param status the overall status
 * @param ready whether the process should get new traffic: not draining, and every required
 *     dependency healthy or degraded
 * @param draining whether the process is shutting down (see {@link HealthRegistry#drain})
 * @param dependencies each dependency's state, in registration order
 * @param atNanos when the snapshot was taken, on the registry's clock
 */
public record HealthReport(
        Health status, boolean ready, boolean draining, List<DependencyHealth> dependencies, long atNanos) {

    /** Copies the list. */
    public HealthReport {
        dependencies = List.copyOf(dependencies);
    }

    /** The named dependency's state, or {@code null} if none has that name. */
    public @Nullable DependencyHealth dependency(String name) {
        for (DependencyHealth dependency : dependencies) {
            if (dependency.name().equals(name)) {
                return dependency;
            }
        }
        return null;
    }

    /** How long {@code dependency} had been in its status when this snapshot was taken. */
    public Duration timeInStatus(DependencyHealth dependency) {
        return Duration.ofNanos(atNanos - dependency.sinceNanos());
    }

    static HealthReport of(List<DependencyHealth> dependencies, boolean draining, long atNanos) {
        boolean requiredDown = false;
        boolean requiredUnknown = false;
        boolean impaired = false;
        for (DependencyHealth dependency : dependencies) {
            switch (dependency.status()) {
                case UNHEALTHY -> {
                    if (dependency.required()) {
                        requiredDown = true;
                    } else {
                        impaired = true;
                    }
                }
                case UNKNOWN -> requiredUnknown |= dependency.required();
                case DEGRADED -> impaired = true;
                case HEALTHY -> {}
            }
        }
        Health status = requiredDown
                ? Health.UNHEALTHY
                : requiredUnknown ? Health.UNKNOWN : impaired ? Health.DEGRADED : Health.HEALTHY;
        boolean ready = !draining && !requiredDown && !requiredUnknown;
        return new HealthReport(status, ready, draining, dependencies, atNanos);
    }
}
