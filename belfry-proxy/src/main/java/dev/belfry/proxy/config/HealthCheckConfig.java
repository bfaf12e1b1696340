package dev.belfry.proxy.config;

import dev.belfry.Checks;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * Active health checking of a cluster's backends.
 *
 * @param kind {@code tcp} (a connect succeeds) or {@code http} (a GET of {@link #path} answers
 *     {@link #expectedStatus})
 * @param interval time between checks (default 2 s)
 * @param timeout how long one check may take (default 1 s)
 * @param rise consecutive passes that make an unhealthy backend healthy (default 2)
 * @param fall consecutive failures that make a healthy backend unhealthy (default 3)
 * @param path for {@code http}: the path to request (default {@code /}); {@code null} for {@code tcp}
 * @param expectedStatus for {@code http}: the status that counts as a pass (default 200)
 */
public record HealthCheckConfig(
        Kind kind,
        Duration interval,
        Duration timeout,
        int rise,
        int fall,
        @Nullable String path,
        int expectedStatus) {

    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(2);
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(1);
    public static final int DEFAULT_RISE = 2;
    public static final int DEFAULT_FALL = 3;
    public static final int DEFAULT_EXPECTED_STATUS = 200;

    /** How a backend is checked. */
    public enum Kind {
        TCP,
        HTTP
    }

    public HealthCheckConfig {
        Checks.notNull(kind, "kind");
        Checks.positive(interval, "interval");
        Checks.positive(timeout, "timeout");
        Checks.positive(rise, "rise");
        Checks.positive(fall, "fall");
        if (expectedStatus < 100 || expectedStatus > 599) {
            throw new IllegalArgumentException("expected_status must be between 100 and 599, was " + expectedStatus);
        }
    }
}
