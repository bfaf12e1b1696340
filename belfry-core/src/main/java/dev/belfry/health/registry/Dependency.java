package dev.belfry.health.registry;

import dev.belfry.Checks;
import java.time.Duration;

/**
 * A named dependency and how to check it: {@code Dependency.required("database", check)} or
 * {@code Dependency.optional("cache", check)}, then {@code with...} to change the schedule.
 *
 * <p>A <b>required</b> dependency that is down makes the process unhealthy and not ready (the
 * process cannot serve without it); an <b>optional</b> one that is down only makes it degraded.
 *
 * @param name unique within a registry; shown by {@code /health}
 * @param check the probe
 * @param required whether readiness needs it up
 * @param interval time from the end of one check to the start of the next; default 5 s
 * @param timeout how long one check may take before it counts as unhealthy; default 2 s
 * @param rise passes in a row that bring an unhealthy dependency back up; default 2
 * @param fall failures in a row that take an up dependency down; default 3
 */
public record Dependency(
        String name, DependencyCheck check, boolean required, Duration interval, Duration timeout, int rise, int fall) {

    /** The default time between checks. */
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(5);

    /** The default time a check may take. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(2);

    /** Validates every setting, naming the one that is wrong. */
    public Dependency {
        Checks.notNull(name, "name");
        if (name.isBlank()) {
            throw new IllegalArgumentException("name must not be blank, was '" + name + "'");
        }
        Checks.notNull(check, "check");
        Checks.positive(interval, "interval");
        Checks.positive(timeout, "timeout");
        Checks.positive(rise, "rise");
        Checks.positive(fall, "fall");
    }

    /** A dependency the process cannot serve without, with the default schedule. */
    public static Dependency required(String name, DependencyCheck check) {
        return new Dependency(name, check, true, DEFAULT_INTERVAL, DEFAULT_TIMEOUT, 2, 3);
    }

    /** A dependency the process can serve without (degraded), with the default schedule. */
    public static Dependency optional(String name, DependencyCheck check) {
        return new Dependency(name, check, false, DEFAULT_INTERVAL, DEFAULT_TIMEOUT, 2, 3);
    }

    /** A copy checked every {@code value}. */
    public Dependency withInterval(Duration value) {
        return new Dependency(name, check, required, value, timeout, rise, fall);
    }

    /** A copy whose checks time out after {@code value}. */
    public Dependency withTimeout(Duration value) {
        return new Dependency(name, check, required, interval, value, rise, fall);
    }

    /** A copy that needs {@code value} passes in a row to come back up. */
    public Dependency withRise(int value) {
        return new Dependency(name, check, required, interval, timeout, value, fall);
    }

    /** A copy that needs {@code value} failures in a row to go down. */
    public Dependency withFall(int value) {
        return new Dependency(name, check, required, interval, timeout, rise, value);
    }
}
