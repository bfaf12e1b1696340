package dev.belfry.health.registry;

import java.util.Locale;

/**
 * How well a dependency, or the whole process, is doing, as a {@link HealthRegistry} reports it.
 *
 * <p>Not to be confused with {@link dev.belfry.health.HealthStatus}, which says whether one
 * endpoint of a balancer takes traffic.
 */
public enum Health {
    /** No check has finished yet (a dependency just registered). */
    UNKNOWN,
    /** Working. */
    HEALTHY,
    /** Working, impaired (slow, a fallback in use); still counts as up for readiness. */
    DEGRADED,
    /** Not working. */
    UNHEALTHY;

    /** Whether a required dependency in this state lets the process be ready. */
    public boolean isUp() {
        return this == HEALTHY || this == DEGRADED;
    }

    /** The lower-case name used on the wire: {@code "healthy"}, {@code "unhealthy"}, ... */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
