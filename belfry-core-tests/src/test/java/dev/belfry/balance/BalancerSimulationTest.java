package dev.belfry.balance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.Service;
import dev.belfry.discover.Discover;
import dev.belfry.load.Load;
import dev.belfry.test.ManualClock;
import dev.belfry.test.VerifyAfterEach;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A deterministic simulation on the manual clock: three endpoints, one ten times slower than the
 * others, under open-loop Poisson traffic. Prints p50/p99 latency and the slow endpoint's share for
 * each strategy, and checks Peak-EWMA's goal: p99 within 1.5x of the p99 with no slow endpoint, and
 * under 10 % of the traffic on the slow endpoint.
 */
@ExtendWith(VerifyAfterEach.class)
class BalancerSimulationTest {
    private static final Duration FAST = Duration.ofMillis(10);
    private static final Duration SLOW = Duration.ofMillis(100);
    private static final Duration MEAN_GAP = Duration.ofMillis(1);
    private static final int REQUESTS = 30_000;

    private final ManualClock clock = new ManualClock();

    /** A service that answers after its latency (times a seeded uniform 0.75..1.25), on the clock. */
    private static final class SimulatedEndpoint implements Service<Long, String> {
        private final String name;
        private final long latencyNanos;
        private final ManualClock clock;
        private final SplittableRandom random;

        SimulatedEndpoint(String name, Duration latency, ManualClock clock, long seed) {
            this.name = name;
            this.latencyNanos = latency.toNanos();
            this.clock = clock;
            this.random = new SplittableRandom(seed);
        }

        @Override
        public CompletableFuture<String> call(Long request) {
            CompletableFuture<String> result = new CompletableFuture<>();
            long latency = (long) (latencyNanos * (0.75 + random.nextDouble() * 0.5));
            clock.schedule(Duration.ofNanos(latency), () -> result.complete(name));
            return result;
        }
    }

    private record Outcome(String name, double p50Millis, double p99Millis, double slowShare) {}

    private Outcome simulate(
            String name,
            Duration slowLatency,
            UnaryOperator<Balancer.Builder<String, Service<Long, String>, Long, String>> strategy) {
        Map<String, Service<Long, String>> endpoints = new LinkedHashMap<>();
        endpoints.put("fast-1", new SimulatedEndpoint("fast-1", FAST, clock, 1));
        endpoints.put("fast-2", new SimulatedEndpoint("fast-2", FAST, clock, 2));
        endpoints.put("slow", new SimulatedEndpoint("slow", slowLatency, clock, 3));
        Balancer<Long, String> balancer = strategy.apply(Balancer.builder(Discover.of(endpoints)))
                .clock(clock)
                .random(new SplittableRandom(7))
                .failFast()
                .build();
        SplittableRandom arrivals = new SplittableRandom(11);
        long[] latencies = new long[REQUESTS];
        Map<String, Integer> served = new HashMap<>();
        List<CompletableFuture<String>> calls = new ArrayList<>(REQUESTS);
        for (int i = 0; i < REQUESTS; i++) {
            // Exponential gaps: Poisson arrivals at 1000 requests per second.
            long gap = (long) (-Math.log(1 - arrivals.nextDouble()) * MEAN_GAP.toNanos());
            clock.advance(Duration.ofNanos(gap));
            long start = clock.nanoTime();
            int index = i;
            CompletableFuture<String> call = balancer.call((long) i);
            call.whenComplete((endpoint, failure) -> {
                latencies[index] = clock.nanoTime() - start;
                served.merge(endpoint, 1, Integer::sum);
            });
            calls.add(call);
        }
        clock.advance(Duration.ofSeconds(1));
        assertThat(calls).allMatch(call -> call.isDone() && !call.isCompletedExceptionally());
        balancer.close();
        Arrays.sort(latencies);
        return new Outcome(
                name,
                latencies[REQUESTS / 2] / 1e6,
                latencies[REQUESTS * 99 / 100] / 1e6,
                served.getOrDefault("slow", 0) / (double) REQUESTS);
    }

    @Test
    void peakEwmaKeepsTheTailNearTheNoSlowEndpointTailAndSendsUnderTenPercentToTheSlowEndpoint() {
        Outcome baseline = simulate("p2c PeakEWMA, third also 10 ms", FAST, b -> b.p2c());
        Outcome roundRobin = simulate("round robin", SLOW, b -> b.roundRobin());
        Outcome leastConnections = simulate("least connections", SLOW, b -> b.leastConnections());
        Outcome leastLoaded = simulate("p2c least-loaded (pending)", SLOW, b -> b.p2c(Load.pending()));
        Outcome peakEwma = simulate("p2c PeakEWMA", SLOW, b -> b.p2c());

        StringBuilder table = new StringBuilder();
        table.append(String.format(
                Locale.ROOT,
                "%n3 endpoints (10 ms, 10 ms, and 100 ms unless stated; each x U[0.75, 1.25]),"
                        + " Poisson 1000 req/s, %d requests; share = traffic to the third endpoint%n",
                REQUESTS));
        table.append(
                String.format(Locale.ROOT, "| %-32s | %8s | %8s | %10s |%n", "balancer", "p50 ms", "p99 ms", "share"));
        table.append("|----------------------------------|----------|----------|------------|\n");
        for (Outcome outcome : List.of(baseline, roundRobin, leastConnections, leastLoaded, peakEwma)) {
            table.append(String.format(
                    Locale.ROOT,
                    "| %-32s | %8.2f | %8.2f | %9.2f%% |%n",
                    outcome.name(),
                    outcome.p50Millis(),
                    outcome.p99Millis(),
                    outcome.slowShare() * 100));
        }
        System.out.print(table);

        assertThat(peakEwma.p99Millis())
                .as("Peak-EWMA p99 within 1.5x of no-slow p99")
                .isLessThanOrEqualTo(1.5 * baseline.p99Millis());
        assertThat(peakEwma.slowShare())
                .as("slow endpoint's share under Peak-EWMA")
                .isLessThan(0.10);
        // The simulation can tell strategies apart: round robin gives the slow endpoint a third.
        assertThat(roundRobin.slowShare()).isBetween(0.33, 0.34);
        assertThat(roundRobin.p99Millis()).isGreaterThan(75);
    }
}
