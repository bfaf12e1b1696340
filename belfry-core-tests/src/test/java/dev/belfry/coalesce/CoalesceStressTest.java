package dev.belfry.coalesce;

import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.Service;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class CoalesceStressTest {
    private static final int THREADS = 8;
    private static final int KEYS = 5;
    private static final int ROUNDS = 200;

    /**
     * Each round, many threads ask for the same few keys while the inner calls are held; some
     * waiters cancel. Exactly one inner call per key is made, and every waiter that did not cancel
     * gets that call's response.
     */
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void exactlyOneInnerCallPerKeyPerRoundAndEveryWaiterGetsItsResult() throws Exception {
        Map<String, List<CompletableFuture<String>>> calls = new ConcurrentHashMap<>();
        Service<String, String> inner = request -> {
            CompletableFuture<String> future = new CompletableFuture<>();
            calls.computeIfAbsent(request, k -> java.util.Collections.synchronizedList(new ArrayList<>()))
                    .add(future);
            return future;
        };
        Coalesce<String, String> service =
                CoalesceLayer.<String, String>of(r -> r).wrap(inner);
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            for (int round = 0; round < ROUNDS; round++) {
                calls.clear();
                CountDownLatch start = new CountDownLatch(1);
                CountDownLatch asked = new CountDownLatch(THREADS);
                List<List<CompletableFuture<String>>> perThread = new ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    List<CompletableFuture<String>> mine = java.util.Collections.synchronizedList(new ArrayList<>());
                    perThread.add(mine);
                    pool.execute(() -> {
                        try {
                            start.await();
                            for (int k = 0; k < KEYS; k++) {
                                mine.add(service.call("key" + k));
                            }
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        } finally {
                            asked.countDown();
                        }
                    });
                }
                start.countDown();
                assertThat(asked.await(10, TimeUnit.SECONDS)).isTrue();
                assertThat(calls).as("round %d", round).hasSize(KEYS);
                // Thread 0 gives up on everything once all have joined: the others must not notice.
                perThread.get(0).forEach(waiter -> waiter.cancel(false));
                for (int k = 0; k < KEYS; k++) {
                    List<CompletableFuture<String>> forKey = calls.get("key" + k);
                    assertThat(forKey)
                            .as("inner calls for key%d in round %d", k, round)
                            .hasSize(1);
                    forKey.get(0).complete("value" + k + "@" + round);
                }
                for (List<CompletableFuture<String>> mine : perThread.subList(1, THREADS)) {
                    for (CompletableFuture<String> waiter : mine) {
                        String value = waiter.get(10, TimeUnit.SECONDS);
                        assertThat(value).endsWith("@" + round);
                    }
                }
                for (int t = 1; t < THREADS; t++) {
                    List<CompletableFuture<String>> mine = perThread.get(t);
                    for (int k = 0; k < KEYS; k++) {
                        assertThat(mine.get(k).getNow(null)).isEqualTo("value" + k + "@" + round);
                    }
                }
                assertThat(service.trackedKeys()).as("no growth").isZero();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Inner calls complete on another thread while callers keep joining: whatever the interleaving,
     * every caller completes (no lost wake-up) and the table ends empty.
     */
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void callersJoiningAsTheCallCompletesAreNeverLeftWaiting() throws Exception {
        ExecutorService completer = Executors.newSingleThreadExecutor();
        AtomicInteger innerCalls = new AtomicInteger();
        Service<String, String> inner = request -> {
            innerCalls.incrementAndGet();
            return CompletableFuture.supplyAsync(() -> request.toUpperCase(java.util.Locale.ROOT), completer);
        };
        Coalesce<String, String> service =
                CoalesceLayer.<String, String>of(r -> r).wrap(inner);
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        int perThread = 2_000;
        try {
            List<CompletableFuture<List<CompletableFuture<String>>>> all = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                all.add(CompletableFuture.supplyAsync(
                        () -> {
                            List<CompletableFuture<String>> mine = new ArrayList<>();
                            for (int i = 0; i < perThread; i++) {
                                mine.add(service.call("k" + (i % 3)));
                            }
                            return mine;
                        },
                        pool));
            }
            for (CompletableFuture<List<CompletableFuture<String>>> thread : all) {
                for (CompletableFuture<String> waiter : thread.get(30, TimeUnit.SECONDS)) {
                    assertThat(waiter.get(10, TimeUnit.SECONDS)).startsWith("K");
                }
            }
        } finally {
            pool.shutdownNow();
            completer.shutdownNow();
        }
        assertThat(service.trackedKeys()).isZero();
        assertThat(innerCalls.get()).as("calls were shared").isLessThan(THREADS * perThread);
    }
}
