package dev.belfry.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The layering drawn from the sources: no package of any module depends, directly or through
 * others, on a package that depends on it. An arrow that runs back up (a cycle) is reported with
 * the packages in it and one file for each arrow.
 *
 * <p>Dependencies are read from the main sources of every module, as imports and fully qualified
 * names of Belfry types in code (comments left out), which is what the compiler sees.
 */
class PackageLayeringTest {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Pattern PACKAGE = Pattern.compile("(?m)^package (dev\\.belfry[\\w.]*);");
    private static final Pattern REFERENCE = Pattern.compile("\\b(dev\\.belfry(?:\\.[a-z0-9_]+)*)\\.[A-Z]");
    private static final Pattern COMMENT = Pattern.compile("/\\*.*?\\*/|//[^\\n]*", Pattern.DOTALL);

    /** package → the packages it uses → a file where it does. */
    private static final Map<String, Map<String, Path>> USES = new TreeMap<>();

    @BeforeAll
    static void readTheSources() throws IOException {
        try (Stream<Path> modules = Files.list(ROOT)) {
            for (Path module : modules.filter(m -> Files.isDirectory(m.resolve("src/main/java")))
                    .toList()) {
                try (Stream<Path> files = Files.walk(module.resolve("src/main/java"))) {
                    files.filter(f -> f.toString().endsWith(".java")).forEach(PackageLayeringTest::read);
                }
            }
        }
    }

    private static void read(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Matcher declared = PACKAGE.matcher(text);
        if (!declared.find()) {
            return;
        }
        String from = declared.group(1);
        Map<String, Path> uses = USES.computeIfAbsent(from, k -> new TreeMap<>());
        Matcher reference = REFERENCE.matcher(COMMENT.matcher(text).replaceAll(" "));
        while (reference.find()) {
            String to = reference.group(1);
            if (!to.equals(from)) {
                uses.putIfAbsent(to, ROOT.relativize(file));
            }
        }
    }

    @Test
    void theSourcesWereRead() {
        // The check below means nothing if the walk found nothing: these packages and arrows exist.
        assertThat(USES).containsKeys("dev.belfry", "dev.belfry.balance", "dev.belfry.proxy.l4", "dev.belfry.http");
        assertThat(USES.get("dev.belfry.proxy.l4")).containsKey("dev.belfry.proxy.cluster");
        assertThat(USES.get("dev.belfry.balance")).containsKey("dev.belfry");
    }

    @Test
    void noPackageDependsOnAPackageThatDependsOnIt() {
        List<String> cycles = new ArrayList<>();
        for (Set<String> component : stronglyConnected()) {
            if (component.size() < 2) {
                continue;
            }
            StringBuilder cycle = new StringBuilder(String.join(", ", component)).append(':');
            for (String from : component) {
                USES.getOrDefault(from, Map.of()).forEach((to, file) -> {
                    if (component.contains(to)) {
                        cycle.append("\n    ")
                                .append(from)
                                .append(" -> ")
                                .append(to)
                                .append(" (")
                                .append(file)
                                .append(')');
                    }
                });
            }
            cycles.add(cycle.toString());
        }
        assertThat(cycles).as("package cycles").isEmpty();
    }

    /** Tarjan's algorithm over the sorted graph, so the report is stable. */
    private static List<Set<String>> stronglyConnected() {
        Map<String, Integer> index = new HashMap<>();
        Map<String, Integer> low = new HashMap<>();
        Deque<String> stack = new ArrayDeque<>();
        Set<String> onStack = new TreeSet<>();
        List<Set<String>> components = new ArrayList<>();
        int[] next = {0};
        for (String start : USES.keySet()) {
            if (!index.containsKey(start)) {
                connect(start, index, low, stack, onStack, components, next);
            }
        }
        return components;
    }

    private static void connect(
            String node,
            Map<String, Integer> index,
            Map<String, Integer> low,
            Deque<String> stack,
            Set<String> onStack,
            List<Set<String>> components,
            int[] next) {
        index.put(node, next[0]);
        low.put(node, next[0]);
        next[0]++;
        stack.push(node);
        onStack.add(node);
        for (String to : USES.getOrDefault(node, Map.of()).keySet()) {
            if (!index.containsKey(to)) {
                connect(to, index, low, stack, onStack, components, next);
                low.put(node, Math.min(low.get(node), low.get(to)));
            } else if (onStack.contains(to)) {
                low.put(node, Math.min(low.get(node), index.get(to)));
            }
        }
        if (low.get(node).equals(index.get(node))) {
            Set<String> component = new TreeSet<>();
            String member;
            do {
                member = stack.pop();
                onStack.remove(member);
                component.add(member);
            } while (!member.equals(node));
            components.add(component);
        }
    }
}
