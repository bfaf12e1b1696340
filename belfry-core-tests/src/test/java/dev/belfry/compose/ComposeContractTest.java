package dev.belfry.compose;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The composition contract: random stacks of the core's layers, over scripted endpoints, driven by
 * a random script on a manual clock, keep the contract {@link Run} checks. Seeded and reproducible.
 *
 * <p>Properties (see docs/testing.md): {@code belfry.compose.seeds} (how many seeds, default
 * {@value #DEFAULT_SEEDS}), {@code belfry.compose.from} (the first seed, default 0), {@code
 * belfry.compose.seed} (replay one seed and print it, pass or fail), {@code belfry.compose.ops}
 * (with a replayed seed: keep only these op indices, as a shrunk report prints them).
 */
class ComposeContractTest {
    static final int DEFAULT_SEEDS = 3000;

    /** A seed taking longer than this spins (a timer rescheduling itself at once, a busy loop). */
    private static final long SEED_DEADLINE_SECONDS = 30;

    /** How many failing seeds a report lists; the first is shrunk and printed in full. */
    private static final int REPORTED_SEEDS = 20;

    /** How many replays shrinking may spend. */
    private static final int SHRINK_BUDGET = 400;

    @Test
    void randomStacksKeepTheContract() throws Exception {
        String replay = System.getProperty("belfry.compose.seed");
        if (replay != null && !replay.isBlank()) {
            replayOne(Long.parseLong(replay.trim()), System.getProperty("belfry.compose.ops"));
            return;
        }
        long from = Long.getLong("belfry.compose.from", 0);
        long seeds = Long.getLong("belfry.compose.seeds", DEFAULT_SEEDS);
        AtomicLong current = new AtomicLong(-1);
        List<Long> failing = new ArrayList<>();
        ExecutorService worker = Executors.newSingleThreadExecutor(runnable -> {
            Thread thread = new Thread(runnable, "compose-seeds");
            thread.setDaemon(true); // a seed that spins must not keep the JVM alive
            return thread;
        });
        try {
            Future<?> all = worker.submit(() -> {
                for (long seed = from; seed < from + seeds; seed++) {
                    current.set(seed);
                    if (!Run.play(Scenario.generate(seed)).isEmpty()) {
                        failing.add(seed);
                        if (failing.size() >= REPORTED_SEEDS) {
                            return;
                        }
                    }
                }
            });
            waitWatching(all, current);
        } finally {
            worker.shutdownNow();
        }
        assertThat(failing)
                .as(() -> failing.size() + " seed(s) of " + seeds + " from " + from + " broke the contract: "
                        + failing + (failing.size() >= REPORTED_SEEDS ? " (stopped there)" : "") + "\n"
                        + report(failing.get(0)))
                .isEmpty();
    }

    /** Waits for the seeds, failing with the seed at hand if one runs past the deadline. */
    private static void waitWatching(Future<?> all, AtomicLong current) throws Exception {
        long seen = -2;
        long since = System.nanoTime();
        while (true) {
            try {
                all.get(1, TimeUnit.SECONDS);
                return;
            } catch (TimeoutException e) {
                long now = current.get();
                if (now != seen) {
                    seen = now;
                    since = System.nanoTime();
                } else if (System.nanoTime() - since > TimeUnit.SECONDS.toNanos(SEED_DEADLINE_SECONDS)) {
                    all.cancel(true);
                    throw new AssertionError("seed " + now + " did not finish within " + SEED_DEADLINE_SECONDS
                            + " s (replay: -Dbelfry.compose.seed=" + now + ")\n"
                            + Scenario.generate(now).describe());
                }
            } catch (ExecutionException e) {
                throw new AssertionError("the seeds' run crashed", e.getCause());
            }
        }
    }

    private static void replayOne(long seed, String ops) {
        Scenario scenario = Scenario.generate(seed);
        if (ops != null && !ops.isBlank()) {
            List<Integer> kept = new ArrayList<>();
            for (String index : ops.split(",", -1)) {
                kept.add(Integer.valueOf(index.trim()));
            }
            scenario = scenario.keeping(kept);
        }
        List<String> violations = Run.play(scenario);
        System.out.println("compose seed " + seed + (violations.isEmpty() ? " keeps the contract" : " fails") + "\n"
                + scenario.describe()
                + (violations.isEmpty() ? "" : "  violations:\n    " + String.join("\n    ", violations)));
        assertThat(violations).as(() -> report(seed)).isEmpty();
    }

    /** The failure of {@code seed} in full, and the smallest script found that still shows it. */
    static String report(long seed) {
        Scenario scenario = Scenario.generate(seed);
        List<String> violations = Run.play(scenario);
        StringBuilder text =
                new StringBuilder("compose seed " + seed + " (replay: -Dbelfry.compose.seed=" + seed + ")\n");
        text.append(scenario.describe());
        text.append("  violations:\n    ")
                .append(String.join("\n    ", violations))
                .append('\n');
        if (violations.isEmpty()) {
            return text.append("  (passes on replay: not reproducible)\n").toString();
        }
        List<Integer> kept = shrink(scenario, tag(violations.get(0)));
        if (kept.size() < scenario.ops().size()) {
            Scenario shrunk = scenario.keeping(kept);
            text.append("  shrunk to ")
                    .append(kept.size())
                    .append(" of ")
                    .append(scenario.ops().size())
                    .append(" ops (replay: -Dbelfry.compose.seed=")
                    .append(seed)
                    .append(" -Dbelfry.compose.ops=")
                    .append(String.join(",", kept.stream().map(String::valueOf).toList()))
                    .append("):\n");
            for (int i = 0; i < shrunk.ops().size(); i++) {
                text.append("    ")
                        .append(kept.get(i))
                        .append(": ")
                        .append(shrunk.ops().get(i))
                        .append('\n');
            }
            text.append("  violations of the shrunk script:\n    ")
                    .append(String.join("\n    ", Run.play(shrunk)))
                    .append('\n');
        }
        return text.toString();
    }

    private static String tag(String violation) {
        int end = violation.indexOf(']');
        return end < 0 ? violation : violation.substring(0, end + 1);
    }

    /**
     * Removes ops one at a time, from the last, keeping each removal after which the run still
     * breaks the same rule: a greedy shrink, enough to make most failures a handful of ops.
     */
    private static List<Integer> shrink(Scenario scenario, String tag) {
        List<Integer> kept = new ArrayList<>();
        for (int i = 0; i < scenario.ops().size(); i++) {
            kept.add(i);
        }
        int budget = SHRINK_BUDGET;
        boolean progress = true;
        while (progress && budget > 0) {
            progress = false;
            for (int i = kept.size() - 1; i >= 0 && budget > 0; i--) {
                List<Integer> candidate = new ArrayList<>(kept);
                candidate.remove(/* index */ i);
                budget--;
                if (Run.play(scenario.keeping(candidate)).stream().anyMatch(v -> v.startsWith(tag))) {
                    kept = candidate;
                    progress = true;
                }
            }
        }
        return kept;
    }
}
