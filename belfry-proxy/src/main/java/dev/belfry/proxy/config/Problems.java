package dev.belfry.proxy.config;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.tomlj.TomlPosition;

/** Collects the problems found in one file, so that one run reports all of them. */
final class Problems {
    private final String file;
    private final List<ConfigProblem> found = new ArrayList<>();

    Problems(String file) {
        this.file = file;
    }

    String file() {
        return file;
    }

    void add(TomlPosition position, String message) {
        found.add(new ConfigProblem(file, position.line(), position.column(), message));
    }

    int count() {
        return found.size();
    }

    /** The problems in file order (a stable sort: problems at one place keep the order found). */
    List<ConfigProblem> sorted() {
        List<ConfigProblem> sorted = new ArrayList<>(found);
        sorted.sort(Comparator.comparingInt(ConfigProblem::line).thenComparingInt(ConfigProblem::column));
        return sorted;
    }
}
