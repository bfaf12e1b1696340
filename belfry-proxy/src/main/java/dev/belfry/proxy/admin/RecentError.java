package dev.belfry.proxy.admin;

import dev.belfry.Checks;
import java.time.Instant;

/**
 * One entry of the proxy's recent errors, as shown on the dashboard and {@code /health}.
 *
 * @param at when it happened
 * @param source what it concerns, e.g. {@code cluster app backend 10.0.0.7:8080} or {@code listener web}
 * @param message what went wrong, e.g. {@code connect timed out after 5s}
 */
public record RecentError(Instant at, String source, String message) {
    public RecentError {
        Checks.notNull(at, "at");
        Checks.notNull(source, "source");
        Checks.notNull(message, "message");
    }
}
