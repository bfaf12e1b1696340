package dev.belfry.proxy.config;

import dev.belfry.Checks;

/**
 * Logging settings.
 *
 * @param level the root level: {@code error}, {@code warn}, {@code info} (default), {@code debug}
 * @param json one JSON object per line instead of plain text
 */
public record LogConfig(String level, boolean json) {
    public LogConfig {
        Checks.notNull(level, "level");
    }
}
