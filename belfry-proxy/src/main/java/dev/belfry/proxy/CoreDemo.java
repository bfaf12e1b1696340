package dev.belfry.proxy;

import dev.belfry.Futures;
import dev.belfry.OverloadedException;
import dev.belfry.Service;
import dev.belfry.builder.ServiceBuilder;
import dev.belfry.time.Clock;
import dev.belfry.timeout.ElapsedException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The embedded demo: a client stack of core layers in front of a simulated backend, driven by a
 * paced burst of requests, with a report of what each layer did.
 *
 * <p>The backend answers after a seeded random latency, sometimes stalls and sometimes fails, all
 * on the system {@link Clock}; nothing touches the network. The proxy's demo replaces this once the
 * proxy exists.
 */
final class CoreDemo {
    static final Duration TIMEOUT = Duration.ofMillis(150);
    static final int CONCURRENCY = 16;

    private CoreDemo() {}

    /** Runs the demo with {@code requests} requests; returns the process exit status. */
    static int run(int requests, int rate, long seed, PrintWriter out) throws InterruptedException {
        Clock clock = Clock.system();
        Duration spacing = Duration.ofNanos(1_000_000_000L / rate);
        SimulatedBackend backend = new SimulatedBackend(clock, new SplittableRandom(seed));
        Service<String, String> client = ServiceBuilder.<String, String>builder()
                .timeout(TIMEOUT)
                .loadShed()
                .concurrencyLimit(CONCURRENCY)
                .service(backend);

        out.printf("Belfry core demo: a client stack of core layers in front of a simulated backend%n%n");
        out.printf(
                "  caller -> timeout %d ms -> load shed -> concurrency limit %d -> backend%n",
                TIMEOUT.toMillis(), CONCURRENCY);
        out.printf("  backend: answers in 5-40 ms, stalls 400 ms for 3 %% of requests, fails 2 %%%n%n");
        out.flush();

        AtomicInteger answered = new AtomicInteger();
        AtomicInteger timedOut = new AtomicInteger();
        AtomicInteger shed = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        long[] latencies = new long[requests];
        CountDownLatch done = new CountDownLatch(requests);
        long start = clock.nanoTime();
        for (int i = 0; i < requests; i++) {
            int index = i;
            clock.schedule(spacing.multipliedBy(i), () -> {
                long sent = clock.nanoTime();
                client.call("request-" + index).whenComplete((response, failure) -> {
                    latencies[index] = clock.nanoTime() - sent;
                    if (failure == null) {
                        answered.incrementAndGet();
                    } else if (failure instanceof ElapsedException) {
                        timedOut.incrementAndGet();
                    } else if (failure instanceof OverloadedException) {
                        shed.incrementAndGet();
                    } else {
                        failed.incrementAndGet();
                    }
                    done.countDown();
                });
            });
        }
        long bound = spacing.multipliedBy(requests).plus(TIMEOUT).plusSeconds(5).toMillis();
        if (!done.await(bound, TimeUnit.MILLISECONDS)) {
            out.printf("demo did not finish within %d ms: %d requests unanswered%n", bound, done.getCount());
            return 1;
        }
        double seconds = (clock.nanoTime() - start) / 1e9;
        long[] okLatencies = successfulLatencies(latencies, backend);

        out.printf("sent %d requests over %.1f s (%d per second)%n", requests, seconds, rate);
        out.printf(
                "  answered   %5d   p50 %s  p99 %s%n",
                answered.get(), millis(percentile(okLatencies, 50)), millis(percentile(okLatencies, 99)));
        out.printf(
                "  timed out  %5d   ElapsedException after %d ms; the backend saw %d cancellations%n",
                timedOut.get(), TIMEOUT.toMillis(), backend.cancelled.get());
        out.printf(
                "  shed       %5d   OverloadedException: %d already in flight, refused at once%n",
                shed.get(), CONCURRENCY);
        out.printf("  failed     %5d   backend errors, passed through unchanged%n", failed.get());
        out.printf("  peak in flight at the backend: %d (limit %d)%n%n", backend.peak.get(), CONCURRENCY);
        out.printf("Try: bin/belfry core-demo --rate 1500   (more load: more shedding)%n");
        out.printf("Tests: ./mvnw -B verify    Docs: docs/core.md%n");
        client.close();
        return 0;
    }

    private static long[] successfulLatencies(long[] latencies, SimulatedBackend backend) {
        List<Long> ok = new ArrayList<>();
        for (int i = 0; i < latencies.length; i++) {
            if (backend.succeeded.get(i)) {
                ok.add(latencies[i]);
            }
        }
        return ok.stream().mapToLong(Long::longValue).sorted().toArray();
    }

    private static long percentile(long[] sorted, int percentile) {
        if (sorted.length == 0) {
            return 0;
        }
        int index = (int) Math.ceil(percentile / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }

    private static String millis(long nanos) {
        return String.format("%5.1f ms", nanos / 1e6);
    }

    /** A backend with seeded latencies, stalls and errors, answering on the clock. */
    private static final class SimulatedBackend implements Service<String, String> {
        private final Clock clock;
        private final SplittableRandom random;
        private final AtomicInteger inFlight = new AtomicInteger();
        final AtomicInteger peak = new AtomicInteger();
        final AtomicInteger cancelled = new AtomicInteger();
        final java.util.BitSet succeeded = new java.util.BitSet();

        SimulatedBackend(Clock clock, SplittableRandom random) {
            this.clock = clock;
            this.random = random;
        }

        @Override
        public CompletableFuture<String> call(String request) {
            double roll;
            long latencyMillis;
            synchronized (random) {
                roll = random.nextDouble();
                latencyMillis = random.nextLong(5, 41);
            }
            boolean stall = roll < 0.03;
            boolean error = !stall && roll < 0.05;
            int now = inFlight.incrementAndGet();
            peak.accumulateAndGet(now, Math::max);
            CompletableFuture<String> response = new CompletableFuture<>();
            Clock.Scheduled timer = clock.schedule(Duration.ofMillis(stall ? 400 : latencyMillis), () -> {
                if (error) {
                    response.completeExceptionally(new IllegalStateException("backend error for " + request));
                } else if (response.complete("ok " + request)) {
                    int index = Integer.parseInt(request.substring("request-".length()));
                    synchronized (succeeded) {
                        succeeded.set(index);
                    }
                }
            });
            // The caller sees the answer only after the backend has counted the request out, so a
            // permit freed by it can never let a new request in while this one still counts.
            CompletableFuture<String> result = new CompletableFuture<>();
            response.whenComplete((r, f) -> {
                inFlight.decrementAndGet();
                if (response.isCancelled()) {
                    cancelled.incrementAndGet();
                    timer.cancel();
                }
                Futures.completeFrom(result, r, f);
            });
            Futures.propagateCancellation(result, response);
            return result;
        }
    }
}
