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
import org.junit.jupiter.api.Test;
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
