package dev.belfry.compose;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Collectors;

/**
 * One composed run, as data: a stack of layers over scripted endpoints, and the script of what the
 * callers and the clock do. Made from a seed by {@link #generate}, so a seed is a complete replay.
 *
 * <p>Everything prints as a newcomer would write it: the stack outermost first, each endpoint with
 * the cycle of outcomes its calls get in turn, and the ops numbered, so a failure reads as a small
 * story and a shrunk script (a subset of the ops) replays with {@code -Dbelfry.compose.ops}.
 */
record Scenario(long seed, List<LayerSpec> layers, Backend backend, List<Op> ops) {

    // ---- requests' fate at an endpoint ------------------------------------------------------

    /** What an endpoint does with a call that reaches it. */
    enum Kind {
        /** Answers with a response (a fresh {@link Res}). */
        ANSWER,
        /** Fails after receiving the request: it may have been processed. */
        FAIL,
        /** Refuses before sending ({@link dev.belfry.UnprocessedException}): certainly not processed. */
        UNSENT,
        /** Never answers until the run's settling phase releases it (or the call is cancelled). */
        HANG
    }

    /** One outcome of an endpoint's cycle; a delay of 0 completes on the caller's thread. */
    record Outcome(Kind kind, int delayMs) {
        @Override
        public String toString() {
            String name = kind.name().toLowerCase(java.util.Locale.ROOT);
            return delayMs > 0 ? name + "@" + delayMs + "ms" : name;
        }
    }

    /** How a reconnecting endpoint connects: attempt k succeeds if {@code connects[k % n]}. */
    record ReconnectSpec(boolean failFast, List<Boolean> connects, int dropAfterCalls) {
        @Override
        public String toString() {
            return "Reconnect[" + (failFast ? "failFast" : "wait") + ", connects "
                    + connects.stream().map(ok -> ok ? "ok" : "fail").collect(Collectors.joining(","))
                    + (dropAfterCalls > 0 ? ", drops after " + dropAfterCalls + " calls" : "") + "]";
        }
    }

    /** A scripted endpoint: per-endpoint layers (outermost first), then maybe a reconnect, then it. */
    record EndpointSpec(
            int index, int weight, List<LayerSpec> guards, ReconnectSpec reconnect, List<Outcome> outcomes) {
        @Override
        public String toString() {
            StringBuilder text = new StringBuilder("e" + index + (weight > 1 ? " (weight " + weight + ")" : "") + ": ");
            for (LayerSpec guard : guards) {
                text.append(guard).append(" > ");
            }
            if (reconnect != null) {
                text.append(reconnect).append(" > ");
            }
            return text.append("endpoint, outcomes in turn ").append(outcomes).toString();
        }
    }

    // ---- layers -----------------------------------------------------------------------------

    /** A layer of the stack; its toString is its description in a failure report. */
    sealed interface LayerSpec {}

    record Timeout(int ms) implements LayerSpec {
        @Override
        public String toString() {
            return "Timeout[" + ms + "ms]";
        }
    }

    /** A concurrency limit; {@code queue} -1 waits without bound, 0 sheds. */
    record Limit(int max, int queue) implements LayerSpec {
        @Override
        public String toString() {
            return "ConcurrencyLimit[" + max + (queue < 0 ? ", wait" : queue == 0 ? ", shed" : ", queue " + queue)
                    + "]";
        }
    }

    record Shed() implements LayerSpec {
        @Override
        public String toString() {
            return "LoadShed";
        }
    }

    /** One token every {@code perMs}, bursts of {@code burst}; {@code queue} as for {@link Limit}. */
    record Rate(int perMs, int burst, int queue) implements LayerSpec {
        @Override
        public String toString() {
            return "RateLimit[1/" + perMs + "ms, burst " + burst
                    + (queue < 0 ? ", wait" : queue == 0 ? ", shed" : ", queue " + queue) + "]";
        }
    }

    record Buffer(int capacity) implements LayerSpec {
        @Override
        public String toString() {
            return "Buffer[" + capacity + "]";
        }
    }

    /**
     * A retry; {@code marksIdempotent} tells the policy which requests are idempotent, {@code
     * anyFailure} asks it to retry every failure (the layer must still refuse unsafe repeats).
     */
    record Retry(int maxAttempts, boolean marksIdempotent, boolean anyFailure, int attemptTimeoutMs)
            implements LayerSpec {
        @Override
        public String toString() {
            return "Retry[" + maxAttempts + " attempts"
                    + (marksIdempotent ? ", idempotent marked" : ", nothing idempotent")
                    + (anyFailure ? ", on any failure" : "")
                    + (attemptTimeoutMs > 0 ? ", attempt timeout " + attemptTimeoutMs + "ms" : "") + "]";
        }
    }

    record Hedge(int minSamples, int maxExtra) implements LayerSpec {
        @Override
        public String toString() {
            return "Hedge[after " + minSamples + " samples, " + maxExtra + " extra]";
        }
    }

    record Breaker(int consecutiveFailures, int halfOpenCalls) implements LayerSpec {
        @Override
        public String toString() {
            return "CircuitBreaker[" + consecutiveFailures + " failures, " + halfOpenCalls + " probes]";
        }
    }

    record Coalesce(int cacheMs) implements LayerSpec {
        @Override
        public String toString() {
            return "Coalesce[idempotent by key" + (cacheMs > 0 ? ", cache " + cacheMs + "ms" : "") + "]";
        }
    }

    // ---- what the layers wrap ---------------------------------------------------------------

    sealed interface Backend {
        List<EndpointSpec> endpoints();
    }

    record Single(EndpointSpec endpoint) implements Backend {
        @Override
        public List<EndpointSpec> endpoints() {
            return List.of(endpoint);
        }

        @Override
        public String toString() {
            return endpoint.toString();
        }
    }

    /** A {@link dev.belfry.steer.Steer} routing by {@code key % n}. */
    record Steered(List<EndpointSpec> endpoints) implements Backend {
        @Override
        public String toString() {
            return "Steer[key % " + endpoints.size() + "] over\n      "
                    + endpoints.stream().map(String::valueOf).collect(Collectors.joining("\n      "));
        }
    }

    /**
     * A balancer over a discovered set; {@code maxWaitMs} 0 fails fast. With health, each endpoint
     * is monitored (actively too if {@code checks} is not empty, each check taking the next outcome
     * of the cycle: pass, fail, or hang); {@code throwingPredicates} makes the health failure test and
     * the load's pushback test throw for requests with key 0 (a user bug they must survive).
     */
    record Balanced(
            String strategy,
            int maxWaitMs,
            boolean health,
            List<String> checks,
            boolean throwingPredicates,
            List<EndpointSpec> endpoints)
            implements Backend {
        @Override
        public String toString() {
            return "Balancer[" + strategy + (maxWaitMs == 0 ? ", failFast" : ", maxWait " + maxWaitMs + "ms")
                    + (health ? ", health" + (checks.isEmpty() ? " passive" : " checks " + checks) : "")
                    + (throwingPredicates ? ", user predicates throw on key 0" : "") + "] over\n      "
                    + endpoints.stream().map(String::valueOf).collect(Collectors.joining("\n      "));
        }
    }

    // ---- the script -------------------------------------------------------------------------

    sealed interface Op {}

    record Call(Req request) implements Op {
        @Override
        public String toString() {
            return "call " + request;
        }
    }

    record Advance(int ms) implements Op {
        @Override
        public String toString() {
            return "advance " + ms + "ms";
        }
    }

    record Cancel(int id) implements Op {
        @Override
        public String toString() {
            return "cancel r" + id;
        }
    }

    record Remove(int endpoint) implements Op {
        @Override
        public String toString() {
            return "discovery removes e" + endpoint;
        }
    }

    /** Discovery (re)inserts an endpoint; {@code broken}: its connect function throws an Error. */
    record Add(int endpoint, boolean broken) implements Op {
        @Override
        public String toString() {
            return "discovery adds e" + endpoint + (broken ? " (its connect throws an Error)" : "");
        }
    }

    /** The scenario keeping only the ops at {@code kept} (indices into {@link #ops}), in order. */
    Scenario keeping(List<Integer> kept) {
        List<Op> subset = new ArrayList<>();
        for (int index : kept) {
            subset.add(ops.get(index));
        }
        return new Scenario(seed, layers, backend, subset);
    }

    /** The stack and the script, as a failure report prints them. */
    String describe() {
        StringBuilder text = new StringBuilder();
        text.append("  stack, outermost first:\n");
        for (LayerSpec layer : layers) {
            text.append("    ").append(layer).append('\n');
        }
        text.append("    ").append(backend).append('\n');
        text.append("  script (").append(ops.size()).append(" ops):\n");
        for (int i = 0; i < ops.size(); i++) {
            text.append("    ").append(i).append(": ").append(ops.get(i)).append('\n');
        }
        return text.toString();
    }

    /** How many requests the script calls. */
    long calls() {
        return ops.stream().filter(op -> op instanceof Call).count();
    }

    // ---- the generator ----------------------------------------------------------------------

    /** The scenario of {@code seed}. */
    static Scenario generate(long seed) {
        return new Generator(new SplittableRandom(seed)).scenario(seed);
    }

    private static final class Generator {
        private final SplittableRandom random;

        Generator(SplittableRandom random) {
            this.random = random;
        }

        private boolean chance(double p) {
            return random.nextDouble() < p;
        }

        private int between(int low, int high) {
            return random.nextInt(low, high + 1);
        }

        Scenario scenario(long seed) {
            List<LayerSpec> layers = new ArrayList<>();
            int count = between(0, 4);
            for (int i = 0; i < count; i++) {
                layers.add(outerLayer());
            }
            Backend backend = backend();
            List<Op> ops = ops(backend);
            return new Scenario(seed, List.copyOf(layers), backend, List.copyOf(ops));
        }

        private LayerSpec outerLayer() {
            return switch (random.nextInt(10)) {
                case 0 -> new Timeout(between(5, 400));
                case 1 -> new Limit(between(1, 3), chance(0.5) ? -1 : between(0, 2));
                case 2 -> new Shed();
                case 3 -> new Rate(between(1, 20), between(1, 3), chance(0.5) ? -1 : between(0, 3));
                case 4 -> new Buffer(between(1, 3));
                case 5, 6 -> new Retry(between(2, 4), chance(0.6), chance(0.4), chance(0.3) ? between(5, 100) : 0);
                case 7 -> new Hedge(between(1, 4), between(1, 2));
                case 8 -> new Breaker(between(1, 4), between(1, 2));
                default -> new Coalesce(chance(0.3) ? between(1, 50) : 0);
            };
        }

        private Backend backend() {
            double roll = random.nextDouble();
            if (roll < 0.3) {
                return new Single(endpoint(0, false));
            }
            int n = between(2, 4);
            List<EndpointSpec> endpoints = new ArrayList<>();
            if (roll < 0.45) {
                for (int i = 0; i < n; i++) {
                    endpoints.add(endpoint(i, false));
                }
                return new Steered(List.copyOf(endpoints));
            }
            boolean throwing = chance(0.2);
            String strategy = switch (random.nextInt(throwing ? 8 : 7)) {
                case 0 -> "p2c";
                case 1 -> "p2c-pending";
                case 2 -> "roundRobin";
                case 3 -> "weightedRoundRobin";
                case 4 -> "weightedRandom";
                case 5 -> "leastConnections";
                case 6 -> "consistentHash";
                default -> "p2c-ewma-pushback";
            };
            int maxWait = chance(0.3) ? 0 : between(5, 300);
            boolean health = chance(0.5) || throwing;
            List<String> checks = new ArrayList<>();
            if (health && chance(0.5)) {
                int length = between(1, 4);
                for (int i = 0; i < length; i++) {
                    checks.add(List.of("pass", "pass", "fail", "hang").get(random.nextInt(4)));
                }
            }
            for (int i = 0; i < n; i++) {
                endpoints.add(endpoint(i, true));
            }
            return new Balanced(strategy, maxWait, health, List.copyOf(checks), throwing, List.copyOf(endpoints));
        }

        private EndpointSpec endpoint(int index, boolean weighted) {
            List<LayerSpec> guards = new ArrayList<>();
            int count = between(0, 2);
            for (int i = 0; i < count; i++) {
                guards.add(
                        switch (random.nextInt(4)) {
                            case 0 -> new Limit(between(1, 2), chance(0.5) ? -1 : between(0, 1));
                            case 1 -> new Rate(between(1, 20), between(1, 2), chance(0.5) ? -1 : between(0, 2));
                            case 2 -> new Breaker(between(1, 3), between(1, 2));
                            default -> new Timeout(between(5, 200));
                        });
            }
            ReconnectSpec reconnect = null;
            if (chance(0.25)) {
                List<Boolean> connects = new ArrayList<>();
                int length = between(1, 3);
                for (int i = 0; i < length; i++) {
                    connects.add(chance(0.7));
                }
                if (!connects.contains(true)) {
                    connects.set(0, true);
                }
                reconnect = new ReconnectSpec(chance(0.3), List.copyOf(connects), chance(0.3) ? between(1, 4) : 0);
            }
            List<Outcome> outcomes = new ArrayList<>();
            int length = between(1, 6);
            for (int i = 0; i < length; i++) {
                double roll = random.nextDouble();
                Kind kind = roll < 0.45 ? Kind.ANSWER : roll < 0.6 ? Kind.FAIL : roll < 0.8 ? Kind.UNSENT : Kind.HANG;
                int delay = kind == Kind.UNSENT || kind == Kind.HANG || chance(0.4) ? 0 : between(1, 60);
                outcomes.add(new Outcome(kind, delay));
            }
            return new EndpointSpec(
                    index, weighted ? between(1, 3) : 1, List.copyOf(guards), reconnect, List.copyOf(outcomes));
        }

        private List<Op> ops(Backend backend) {
            List<Op> ops = new ArrayList<>();
            int length = between(5, 40);
            int nextId = 0;
            boolean balanced = backend instanceof Balanced;
            for (int i = 0; i < length; i++) {
                double roll = random.nextDouble();
                if (roll < 0.5) {
                    ops.add(new Call(new Req(nextId++, random.nextInt(4), chance(0.5))));
                } else if (roll < 0.8) {
                    ops.add(new Advance(chance(0.8) ? between(1, 40) : between(100, 1500)));
                } else if (roll < 0.93 || !balanced) {
                    if (nextId > 0) {
                        ops.add(new Cancel(random.nextInt(nextId)));
                    }
                } else {
                    int endpoint = random.nextInt(backend.endpoints().size());
                    ops.add(chance(0.5) ? new Remove(endpoint) : new Add(endpoint, chance(0.3)));
                }
            }
            return ops;
        }
    }
}
