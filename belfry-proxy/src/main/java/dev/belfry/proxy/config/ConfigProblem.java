package dev.belfry.proxy.config;

import dev.belfry.Checks;

/**
 * One thing wrong with a configuration file, and where it is.
 *
 * <p>{@link #toString()} gives {@code FILE:LINE:COLUMN: message}, the form editors and CI logs link
 * to. Lines and columns start at 1; a problem with the file as a whole (it cannot be read) has line
 * and column 0 and prints as {@code FILE: message}.
 *
 * @param file the file's name as the user gave it
 * @param line the line, from 1, or 0 for the whole file
 * @param column the column, from 1, or 0 for the whole file
 * @param message what is wrong, naming the key
 */
public record ConfigProblem(String file, int line, int column, String message) {
    public ConfigProblem {
        Checks.notNull(file, "file");
        Checks.nonNegative(line, "line");
        Checks.nonNegative(column, "column");
        Checks.notNull(message, "message");
    }

    /** Returns {@code FILE:LINE:COLUMN: message}, or {@code FILE: message} for the whole file. */
    @Override
    public String toString() {
        return line == 0 ? file + ": " + message : file + ":" + line + ":" + column + ": " + message;
    }
}
