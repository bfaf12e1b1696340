package dev.belfry.proxy.config;

import java.time.Duration;

/** Durations as the configuration writes them, for command-line options too. */
public final class Durations {
    private Durations() {}

    /**
     * Parses a duration in the config's syntax ({@code "250ms"}, {@code "20s"}, {@code "1.5m"},
     * {@code "1h"}); a bare whole number is taken as seconds, as the command line always took it.
     *
     * @throws IllegalArgumentException naming the accepted forms when {@code text} is none of them
     */
    public static Duration parse(String text) {
        if (!text.isEmpty() && text.length() <= 18 && text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return ConfigValues.duration(text + "s");
        }
        return ConfigValues.duration(text);
    }

    /** Formats a duration as the config writes it: "250ms", "20s", "1m". */
    public static String format(Duration duration) {
        return ConfigValues.format(duration);
    }
}
