package dev.belfry.proxy.config;

import java.util.List;

/**
 * A configuration could not be loaded: every problem found, in file order.
 *
 * <p>The message is the problems, one {@code FILE:LINE:COLUMN: message} per line.
 */
public final class ConfigException extends Exception {
    private static final long serialVersionUID = 1L;

    private final List<ConfigProblem> problems;

    /** Creates an exception holding {@code problems}, which must not be empty. */
    public ConfigException(List<ConfigProblem> problems) {
        super(message(problems));
        this.problems = List.copyOf(problems);
    }

    /** Every problem found, in file order. */
    public List<ConfigProblem> problems() {
        return problems;
    }

    private static String message(List<ConfigProblem> problems) {
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("problems must not be empty");
        }
        StringBuilder message = new StringBuilder();
        for (ConfigProblem problem : problems) {
            if (!message.isEmpty()) {
                message.append('\n');
            }
            message.append(problem);
        }
        return message.toString();
    }
}
