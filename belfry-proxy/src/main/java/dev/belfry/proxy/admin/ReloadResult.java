package dev.belfry.proxy.admin;

import dev.belfry.Checks;
import java.time.Instant;
import java.util.List;

/**
 * The outcome of a configuration reload: applied, or rejected with the problems that kept the old
 * configuration running.
 *
 * @param ok whether the new configuration was applied
 * @param at when the reload finished
 * @param problems why it was rejected, one per line as {@code FILE:LINE:COLUMN: message}; empty if
 *     {@code ok}
 */
public record ReloadResult(boolean ok, Instant at, List<String> problems) {
    public ReloadResult {
        Checks.notNull(at, "at");
        problems = List.copyOf(Checks.notNull(problems, "problems"));
        if (ok && !problems.isEmpty()) {
            throw new IllegalArgumentException("problems must be empty when ok, was " + problems);
        }
        if (!ok && problems.isEmpty()) {
            throw new IllegalArgumentException("problems must name at least one problem when not ok");
        }
    }

    /** A reload that applied the new configuration at {@code at}. */
    public static ReloadResult applied(Instant at) {
        return new ReloadResult(true, at, List.of());
    }

    /** A reload rejected at {@code at} for {@code problems} (at least one); the old configuration runs on. */
    public static ReloadResult rejected(Instant at, List<String> problems) {
        return new ReloadResult(false, at, problems);
    }
}
