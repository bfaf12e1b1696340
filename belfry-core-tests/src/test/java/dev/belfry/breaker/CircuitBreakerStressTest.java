package dev.belfry.breaker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.Service;
import dev.belfry.backoff.Backoff;
import dev.belfry.test.ManualClock;
import java.time.Duration;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class CircuitBreakerStressTest {
    private static final int THREADS = 8;
    private static final int PROBES = 3;

    /**
     * Many threads race for the probe permits of a half-open breaker, cancel their probes, and race
     * again: every round exactly {@code PROBES} are admitted, so no permit leaks or doubles.
     */
    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void concurrentCallersNeverGetMoreProbesThanPermittedAndCancelledProbesAlwaysReturnThem() throws Exception {
        ManualClock clock = new ManualClock();
        Queue<CompletableFuture<String>> held = new ConcurrentLinkedQueue<>();
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger maxInFlight = new AtomicInteger();
        Service<String, String> hanging = request -> {
            maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
            CompletableFuture<String> future = new CompletableFuture<>();
            future.whenComplete((r, f) -> inFlight.decrementAndGet());
            held.add(future);
            return future;
        };
        CircuitBreaker<String, String> probing = CircuitBreakerLayer.<String, String>builder()
                .consecutiveFailures(1)
                .halfOpenCalls(PROBES)
                .openInterval(Backoff.constant(Duration.ofSeconds(1)))
                .clock(clock)
                .build()
                .wrap(hanging);
        // Open it with a failure, then let the interval pass.
        CompletableFuture<String> failing = probing.call("fail");
        held.poll().completeExceptionally(new IllegalStateException("down"));
        assertThat(failing).isCompletedExceptionally();
        clock.advance(Duration.ofSeconds(1));
        assertThat(probing.state()).isEqualTo(CircuitState.HALF_OPEN);

        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            for (int round = 0; round < 200; round++) {
                CountDownLatch start = new CountDownLatch(1);
                Queue<CompletableFuture<String>> admitted = new ConcurrentLinkedQueue<>();
                CountDownLatch done = new CountDownLatch(THREADS);
                for (int t = 0; t < THREADS; t++) {
                    pool.execute(() -> {
                        try {
                            start.await();
                            for (int i = 0; i < 5; i++) {
                                CompletableFuture<String> probe = probing.tryCall("probe");
                                if (probe != null) {
                                    admitted.add(probe);
                                }
                            }
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        } finally {
                            done.countDown();
                        }
                    });
                }
                start.countDown();
                assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
                assertThat(admitted).as("round %d", round).hasSize(PROBES);
                // Cancel them from several threads at once: each permit must come back exactly once.
                CountDownLatch cancelled = new CountDownLatch(admitted.size());
                for (CompletableFuture<String> probe : admitted) {
                    pool.execute(() -> {
                        probe.cancel(false);
                        cancelled.countDown();
                    });
                }
                assertThat(cancelled.await(10, TimeUnit.SECONDS)).isTrue();
                assertThat(inFlight.get()).isZero();
                held.clear();
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(maxInFlight.get()).isEqualTo(PROBES);
        assertThat(probing.state()).isEqualTo(CircuitState.HALF_OPEN);
        assertThat(clock.pendingTasks()).isZero();
    }
}
