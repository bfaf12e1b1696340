package dev.belfry.proxy.config;

import dev.belfry.Checks;
import java.time.Duration;

/**
 * Passive outlier detection: backends whose connects keep failing are ejected for a while.
 *
 * @param consecutiveFailures failed connects in a row that eject a backend (default 5)
 * @param baseEjectionTime the first ejection's length; later ones grow (default 30 s)
 * @param maxEjectionTime the longest ejection (default 300 s)
 * @param maxEjectedPercent at most this share of a cluster's backends are ejected at once (default 10)
 */
public record OutlierConfig(
        int consecutiveFailures, Duration baseEjectionTime, Duration maxEjectionTime, int maxEjectedPercent) {
    public static final int DEFAULT_CONSECUTIVE_FAILURES = 5;
    public static final Duration DEFAULT_BASE_EJECTION_TIME = Duration.ofSeconds(30);
    /** The longest ejection when none is set, unless the base is longer (then the base). */
    public static final Duration DEFAULT_MAX_EJECTION_TIME = Duration.ofMinutes(5);

    public static final int DEFAULT_MAX_EJECTED_PERCENT = 10;

    public OutlierConfig {
        Checks.positive(consecutiveFailures, "consecutive_failures");
        Checks.positive(baseEjectionTime, "base_ejection_time");
        Checks.positive(maxEjectionTime, "max_ejection_time");
        if (maxEjectionTime.compareTo(baseEjectionTime) < 0) {
            throw new IllegalArgumentException("max_ejection_time must be at least base_ejection_time ("
                    + baseEjectionTime + "), was " + maxEjectionTime);
        }
        if (maxEjectedPercent < 0 || maxEjectedPercent > 100) {
            throw new IllegalArgumentException(
                    "max_ejected_percent must be between 0 and 100, was " + maxEjectedPercent);
        }
    }
}
