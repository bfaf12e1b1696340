package dev.belfry.limit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.belfry.Futures;
import dev.belfry.OverloadedException;
import dev.belfry.test.Verifiable;
import dev.belfry.test.VerifyAfterEach;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VerifyAfterEach.class)
class PermitsTest {
    private final Permits permits = Permits.of(2, 3);

    // Not private: only VerifyAfterEach reads it, by reflection.
    final Verifiable allReturned = () -> {
        if (permits.available() != permits.max() || permits.queued() != 0) {
            throw new AssertionError("permits not all returned: " + permits);
        }
    };

    @Test
    void tryAcquireTakesFreePermitsUpToMax() {
        assertThat(permits.tryAcquire()).isTrue();
        assertThat(permits.tryAcquire()).isTrue();
        assertThat(permits.tryAcquire()).isFalse();
        assertThat(permits.available()).isZero();
        permits.release();
        assertThat(permits.available()).isEqualTo(1);
        permits.release();
    }

    @Test
    void waitersAreHandedPermitsInTheOrderTheyAsked() {
        permits.tryAcquire();
        permits.tryAcquire();
        List<String> order = new ArrayList<>();
        CompletableFuture<Void> first = permits.acquire().thenRun(() -> order.add("first"));
        CompletableFuture<Void> second = permits.acquire().thenRun(() -> order.add("second"));
        CompletableFuture<Void> third = permits.acquire().thenRun(() -> order.add("third"));
        assertThat(permits.queued()).isEqualTo(3);

        permits.release();
        assertThat(order).containsExactly("first");
        assertThat(second).isNotDone();
        permits.release();
        assertThat(order).containsExactly("first", "second");
        assertThat(third).isNotDone();
        assertThat(permits.available()).isZero();
        permits.release();
        assertThat(order).containsExactly("first", "second", "third");
        assertThat(first).isDone();
        assertThat(permits.queued()).isZero();

        permits.release();
        permits.release();
    }

    @Test
    void tryAcquireNeverJumpsTheQueue() {
        permits.tryAcquire();
        permits.tryAcquire();
        CompletableFuture<Void> waiter = permits.acquire();
        // A permit handed to the waiter is not free for a newcomer, even for an instant.
        permits.release();
        assertThat(waiter).isCompleted();
        assertThat(permits.tryAcquire()).isFalse();
        permits.release();
        permits.release();
    }

    @Test
    void acquireFailsAtOnceWhenTheQueueIsFull() throws Exception {
        permits.tryAcquire();
        permits.tryAcquire();
        List<CompletableFuture<Void>> queued = List.of(permits.acquire(), permits.acquire(), permits.acquire());
        CompletableFuture<Void> rejected = permits.acquire();
        assertThat(rejected).isCompletedExceptionally();
        assertThat(failureOf(rejected))
                .isInstanceOf(OverloadedException.class)
                .hasMessage("concurrency limit of 2 reached and 3 callers already queued");
        assertThat(permits.queued()).isEqualTo(3);

        queued.forEach(f -> f.cancel(false));
        permits.release();
        permits.release();
    }

    @Test
    void withNoQueueAcquireFailsAtOnceWhenNoPermitIsFree() {
        Permits noQueue = Permits.of(1, 0);
        assertThat(noQueue.acquire()).isCompleted();
        assertThat(failureOf(noQueue.acquire()))
                .isInstanceOf(OverloadedException.class)
                .hasMessage("concurrency limit of 1 reached");
        noQueue.release();
        assertThat(noQueue.acquire()).isCompleted();
        noQueue.release();
    }

    @Test
    void aCancelledWaiterLeavesTheQueueAndNeverTakesAPermit() {
        permits.tryAcquire();
        permits.tryAcquire();
        CompletableFuture<Void> cancelled = permits.acquire();
        CompletableFuture<Void> next = permits.acquire();
        cancelled.cancel(false);
        assertThat(permits.queued()).isEqualTo(1);

        permits.release();
        assertThat(next).as("the permit skips the cancelled waiter").isCompleted();
        assertThat(permits.available()).isZero();
        permits.release();
        permits.release();
        assertThat(permits.available()).isEqualTo(2);
    }

    @Test
    void aWaiterCancelledDuringAHandOffIsSkipped() {
        permits.tryAcquire();
        permits.tryAcquire();
        CompletableFuture<Void> first = permits.acquire();
        CompletableFuture<Void> second = permits.acquire();
        CompletableFuture<Void> third = permits.acquire();
        // The first waiter's callback runs inside the hand-off and cancels the second.
        first.thenRun(() -> second.cancel(false));

        permits.release();
        assertThat(first).isCompleted();
        assertThat(second).isCancelled();
        assertThat(third).isNotDone();
        permits.release();
        assertThat(third).as("gets the permit the cancelled one would have had").isCompleted();
        permits.release();
        permits.release();
    }

    @Test
    void handOffsToWaitersThatReleaseAtOnceDoNotRecurse() {
        Permits one = Permits.of(1);
        one.tryAcquire();
        int waiters = 50_000;
        int[] served = {0};
        for (int i = 0; i < waiters; i++) {
            one.acquire().thenRun(() -> {
                served[0]++;
                one.release();
            });
        }
        one.release();
        assertThat(served[0]).isEqualTo(waiters);
        assertThat(one.available()).isEqualTo(1);
    }

    @Test
    void whenAvailableCompletesWhenAReleaseLeavesAPermitFree() {
        assertThat(permits.whenAvailable()).isCompleted();
        permits.tryAcquire();
        permits.tryAcquire();
        CompletableFuture<Void> waiter = permits.acquire();
        CompletionStage<Void> available = permits.whenAvailable();

        permits.release();
        assertThat(waiter).isCompleted();
        assertThat(available.toCompletableFuture())
                .as("the permit went to the waiter")
                .isNotDone();
        permits.release();
        assertThat(available.toCompletableFuture()).isCompleted();
        permits.release();
    }

    @Test
    void cancellingOneReadinessSignalLeavesTheOthers() {
        permits.tryAcquire();
        permits.tryAcquire();
        CompletableFuture<Void> first = permits.whenAvailable().toCompletableFuture();
        CompletableFuture<Void> second = permits.whenAvailable().toCompletableFuture();
        first.cancel(false);
        permits.release();
        assertThat(second).isCompleted();
        permits.release();
    }

    @Test
    void releasingMoreThanWasTakenFails() {
        assertThatThrownBy(permits::release)
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("release() without a permit held: all 2 are free");
    }

    @Test
    void rejectsBadArgumentsNamingTheParameter() {
        assertThatThrownBy(() -> Permits.of(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("max must be at least 1, was 0");
        assertThatThrownBy(() -> Permits.of(1, -1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("maxQueued must not be negative, was -1");
        assertThat(Permits.of(3).maxQueued()).isEqualTo(Permits.UNBOUNDED_QUEUE);
    }

    @Test
    void whenAvailableCompletesAtOnceIfAPermitFreedJustBefore() {
        permits.tryAcquire();
        permits.tryAcquire();
        CompletionStage<Void> pending = permits.whenAvailable();
        permits.release();
        assertThat(pending.toCompletableFuture()).isCompleted();
        assertThat(permits.whenAvailable().toCompletableFuture())
                .as("a permit is free: no new signal to wait on")
                .isCompleted();
        permits.release();
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void underConcurrencyAReleaseNeverMissesACallerQueueingAtTheSameTime() throws Exception {
        Permits few = Permits.of(2);
        AtomicInteger holding = new AtomicInteger();
        AtomicInteger highest = new AtomicInteger();
        ExecutorService callers = Executors.newFixedThreadPool(4);
        try {
            List<Future<Integer>> batches = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                batches.add(callers.submit(() -> {
                    int held = 0;
                    for (int i = 0; i < 20_000; i++) {
                        boolean got;
                        if (i % 4 == 0) {
                            got = few.tryAcquire();
                        } else {
                            CompletableFuture<Void> permit = few.acquire();
                            if (i % 7 == 0 && permit.cancel(false)) {
                                continue;
                            }
                            // A release that missed this caller would leave it waiting forever.
                            permit.get(30, TimeUnit.SECONDS);
                            got = true;
                        }
                        if (got) {
                            highest.accumulateAndGet(holding.incrementAndGet(), Math::max);
                            holding.decrementAndGet();
                            few.release();
                            held++;
                        }
                    }
                    return held;
                }));
            }
            int held = 0;
            for (Future<Integer> batch : batches) {
                held += batch.get(60, TimeUnit.SECONDS);
            }
            assertThat(held).isPositive();
        } finally {
            callers.shutdown();
            assertThat(callers.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(highest.get()).as("most holders at once").isBetween(1, 2);
        assertThat(few.available()).isEqualTo(2);
        assertThat(few.queued()).isZero();
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void underConcurrencyTryAcquireNeverTakesAPermitReleasedToAQueuedCaller() throws Exception {
        Permits one = Permits.of(1);
        AtomicBoolean stop = new AtomicBoolean();
        // Set while a caller is queued for the permit this thread holds or has just released.
        AtomicBoolean someoneQueued = new AtomicBoolean();
        AtomicInteger overtakes = new AtomicInteger();
        ExecutorService racers = Executors.newFixedThreadPool(1);
        try {
            Future<?> racer = racers.submit(() -> {
                while (!stop.get()) {
                    if (one.tryAcquire()) {
                        if (someoneQueued.get()) {
                            overtakes.incrementAndGet();
                        }
                        one.release();
                    }
                }
            });
            for (int i = 0; i < 20_000; i++) {
                one.acquire().get(30, TimeUnit.SECONDS);
                someoneQueued.set(true);
                // This thread holds the only permit, so the next caller queues behind it.
                CompletableFuture<Void> queued = one.acquire();
                one.release();
                // The hand-off may run on the racer's thread if it is still handing off.
                queued.get(30, TimeUnit.SECONDS);
                someoneQueued.set(false);
                one.release();
            }
            stop.set(true);
            racer.get(30, TimeUnit.SECONDS);
        } finally {
            stop.set(true);
            racers.shutdown();
            assertThat(racers.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(overtakes.get()).as("permits taken ahead of a queued caller").isZero();
        assertThat(one.available()).isEqualTo(1);
        assertThat(one.queued()).isZero();
    }

    private static Throwable failureOf(CompletableFuture<?> future) {
        try {
            future.get();
        } catch (ExecutionException e) {
            return Futures.unwrap(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
        throw new AssertionError("expected a failure: " + future);
    }
}
