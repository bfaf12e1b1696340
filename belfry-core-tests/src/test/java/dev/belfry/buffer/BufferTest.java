package dev.belfry.buffer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.belfry.OverloadedException;
import dev.belfry.Readiness;
import dev.belfry.Service;
import dev.belfry.ServiceClosedException;
import dev.belfry.UnprocessedException;
import dev.belfry.builder.ServiceBuilder;
import dev.belfry.steer.Steer;
import dev.belfry.test.LayerContractTest;
import dev.belfry.test.ManualClock;
import dev.belfry.test.MockService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class BufferTest extends LayerContractTest {
    private static final int CAPACITY = 3;

    @Override
    protected Service<String, String> wrap(Service<String, String> inner, ManualClock clock) {
        return BufferLayer.<String, String>of(CAPACITY, clock).wrap(inner);
    }

    // A buffer admits into its queue while the inner service is busy: that is its purpose, so the
    // "tryCall returns null when the inner service is busy" rule does not apply. Its own tryCall
    // exactness (null only when the queue is full) is tested below.
    @Override
    protected boolean admitsWhileInnerIsBusy() {
        return true;
    }

    private Buffer<String, String> buffer() {
        return new Buffer<>(inner, CAPACITY, clock);
    }

    @Test
    void keepsDrainingWhenTheInnerSaysReadyButRefusesTheHead() {
        // Steer is ready while any route is, yet refuses a request whose own route is busy.
        MockService<String, String> a = MockService.create();
        MockService<String, String> b = MockService.create();
        a.handle().allow(1);
        Service<String, String> steer = Steer.of(List.of(a, b), (request, count) -> request.startsWith("a") ? 0 : 1);
        Buffer<String, String> buffer = new Buffer<>(steer, 1, clock);
        // A's only slot is taken by a call that did not go through the buffer, so the buffer
        // hears of it ending only by looking again.
        CompletableFuture<String> first = steer.call("a-1");
        CompletableFuture<String> second = buffer.call("a-2");
        assertThat(buffer.queued()).isEqualTo(1);
        MockService.Pending<String, String> one = a.handle().next();
        a.handle().allow(1);
        one.respond("one");
        assertThat(first).isCompletedWithValue("one");
        clock.advance(Duration.ofMillis(1).minusNanos(1));
        assertThat(a.handle().admitted()).as("not before the first recheck").isEqualTo(1);
        clock.advance(Duration.ofNanos(1));
        assertThat(a.handle().respondNext("two")).isEqualTo("a-2");
        assertThat(second).isCompletedWithValue("two");
        assertThat(buffer.queued()).isZero();
        assertThat(buffer.call("b-1")).as("later calls go through").isNotDone();
        assertThat(b.handle().respondNext("b")).isEqualTo("b-1");
        assertThat(clock.pendingTasks()).isZero();
    }

    @Test
    void aCallItSentEndingResumesTheQueueAtOnce() {
        MockService<String, String> a = MockService.create();
        a.handle().allow(1);
        Service<String, String> steer = Steer.of(List.of(a, MockService.<String, String>create()), (r, n) -> 0);
        Buffer<String, String> buffer = new Buffer<>(steer, 1, clock);
        CompletableFuture<String> first = buffer.call("a-1");
        CompletableFuture<String> second = buffer.call("a-2");
        assertThat(clock.pendingTasks()).as("rechecking").isEqualTo(1);
        a.handle().allow(1);
        a.handle().respondNext("one");
        assertThat(first).isCompletedWithValue("one");
        assertThat(a.handle().respondNext("two"))
                .as("sent with no clock advance")
                .isEqualTo("a-2");
        assertThat(second).isCompletedWithValue("two");
        assertThat(clock.pendingTasks()).as("the recheck was cancelled").isZero();
    }

    @Test
    void closeCancelsAPendingRecheck() {
        MockService<String, String> a = MockService.create();
        a.handle().allow(1);
        Service<String, String> steer = Steer.of(List.of(a, MockService.<String, String>create()), (r, n) -> 0);
        Buffer<String, String> buffer = new Buffer<>(steer, 2, clock);
        CompletableFuture<String> first = buffer.call("a-1");
        CompletableFuture<String> second = buffer.call("a-2");
        assertThat(clock.pendingTasks()).as("rechecking").isEqualTo(1);
        buffer.close();
        assertThat(clock.pendingTasks()).isZero();
        assertThat(failureOf(second)).isInstanceOf(ServiceClosedException.class);
        a.handle().respondNext("one");
        assertThat(first).isCompletedWithValue("one");
    }

    @Test
    void goesStraightThroughWhenTheQueueIsEmptyAndTheInnerAdmits() {
        Buffer<String, String> buffer = buffer();
        CompletableFuture<String> result = buffer.call("a");
        assertThat(buffer.queued()).isZero();
        assertThat(inner.handle().respondNext("A")).isEqualTo("a");
        assertThat(result).isCompletedWithValue("A");
    }

    @Test
    void queuesWhileTheInnerIsBusyAndSendsInArrivalOrder() {
        inner.handle().allow(0);
        Buffer<String, String> buffer = buffer();
        CompletableFuture<String> a = buffer.call("a");
        CompletableFuture<String> b = buffer.call("b");
        CompletableFuture<String> c = buffer.call("c");
        assertThat(buffer.queued()).isEqualTo(3);
        assertThat(inner.handle().waitingCalls())
                .as("nothing waits inside the inner")
                .isZero();

        inner.handle().allowUnlimited();
        assertThat(buffer.queued()).isZero();
        assertThat(inner.handle().respondNext("A")).isEqualTo("a");
        assertThat(inner.handle().respondNext("B")).isEqualTo("b");
        assertThat(inner.handle().respondNext("C")).isEqualTo("c");
        assertThat(a).isCompletedWithValue("A");
        assertThat(b).isCompletedWithValue("B");
        assertThat(c).isCompletedWithValue("C");
    }

    @Test
    void aLaterCallDoesNotOvertakeQueuedOnesEvenIfTheInnerHasRoomFirst() {
        Gate gate = new Gate();
        Buffer<String, String> buffer = new Buffer<>(gate, CAPACITY);
        CompletableFuture<String> first = buffer.call("first");
        // The inner frees up before its signal reaches the parked drain (as it may on another
        // thread); a newcomer must still queue behind "first" rather than take the free slot.
        gate.open = true;
        CompletableFuture<String> second = buffer.call("second");
        assertThat(gate.admitted).isEmpty();
        gate.signal.complete(null);
        assertThat(gate.admitted).containsExactly("first", "second");
        assertThat(first).isCompletedWithValue("FIRST");
        assertThat(second).isCompletedWithValue("SECOND");
    }

    @Test
    void drainsOneRequestPerFreedSlotAsTheInnerFreesUp() {
        inner.handle().allow(0);
        Buffer<String, String> buffer = buffer();
        List<CompletableFuture<String>> results = new ArrayList<>();
        for (String request : List.of("a", "b", "c")) {
            results.add(buffer.call(request));
        }
        inner.handle().allow(1);
        assertThat(inner.handle().admitted()).isEqualTo(1);
        assertThat(buffer.queued()).isEqualTo(2);
        inner.handle().allow(1);
        assertThat(inner.handle().admitted()).isEqualTo(2);
        assertThat(buffer.queued()).isEqualTo(1);
        inner.handle().allow(1);
        assertThat(inner.handle().admitted()).isEqualTo(3);
        assertThat(buffer.queued()).isZero();
        for (String response : List.of("A", "B", "C")) {
            inner.handle().respondNext(response);
        }
        assertThat(results).extracting(CompletableFuture::join).containsExactly("A", "B", "C");
    }

    @Test
    void rejectsCallsBeyondTheCapacityWithOverloadedNamingIt() {
        inner.handle().allow(0);
        Buffer<String, String> buffer = buffer();
        for (int i = 0; i < CAPACITY; i++) {
            assertThat(buffer.call("r" + i)).isNotDone();
        }
        assertThat(buffer.readiness()).isEqualTo(Readiness.BUSY);
        CompletableFuture<String> rejected = buffer.call("one too many");
        assertThat(failureOf(rejected))
                .isInstanceOf(OverloadedException.class)
                .isInstanceOf(UnprocessedException.class)
                .hasMessage("buffer is full (capacity 3); the request was not sent");
        assertThat(buffer.queued()).isEqualTo(CAPACITY);
        buffer.close();
    }

    @Test
    void tryCallQueuesWhileThereIsRoomAndReturnsNullWhenFull() {
        inner.handle().allow(0);
        Buffer<String, String> buffer = buffer();
        assertThat(buffer.readiness()).isEqualTo(Readiness.READY);
        for (int i = 0; i < CAPACITY; i++) {
            assertThat(buffer.tryCall("r" + i)).isNotNull();
        }
        assertThat(buffer.tryCall("no room")).isNull();
        assertThat(buffer.queued()).isEqualTo(CAPACITY);
        inner.handle().allowUnlimited();
        for (int i = 0; i < CAPACITY; i++) {
            assertThat(inner.handle().respondNext("ok")).isEqualTo("r" + i);
        }
        inner.handle().assertNoMoreRequests();
    }

    @Test
    void aCallCancelledWhileQueuedNeverReachesTheInner() {
        inner.handle().allow(0);
        Buffer<String, String> buffer = buffer();
        CompletableFuture<String> a = buffer.call("a");
        CompletableFuture<String> b = buffer.call("b");
        CompletableFuture<String> c = buffer.call("c");
        b.cancel(false);
        assertThat(buffer.queued()).as("cancelled call left the queue").isEqualTo(2);
        assertThat(buffer.call("d")).as("its slot is free again").isNotDone();

        inner.handle().allowUnlimited();
        assertThat(inner.handle().respondNext("A")).isEqualTo("a");
        assertThat(inner.handle().respondNext("C")).isEqualTo("c");
        assertThat(inner.handle().respondNext("D")).isEqualTo("d");
        inner.handle().assertNoMoreRequests();
        assertThat(a).isCompletedWithValue("A");
        assertThat(c).isCompletedWithValue("C");
    }

    @Test
    void cancellingAHandedOnCallCancelsTheInnerCall() {
        inner.handle().allow(0);
        Buffer<String, String> buffer = buffer();
        CompletableFuture<String> result = buffer.call("a");
        inner.handle().allow(1);
        MockService.Pending<String, String> pending = inner.handle().next();
        result.cancel(false);
        assertThat(pending.isCancelled()).isTrue();
    }

    @Test
    void whenReadyCompletesOnceAQueueSlotFreesUp() {
        inner.handle().allow(0);
        Buffer<String, String> buffer = buffer();
        List<CompletableFuture<String>> queued = new ArrayList<>();
        for (int i = 0; i < CAPACITY; i++) {
            queued.add(buffer.call("r" + i));
        }
        CompletableFuture<Void> ready = buffer.whenReady().toCompletableFuture();
        assertThat(ready).isNotDone();
        queued.get(1).cancel(false);
        assertThat(ready).isCompleted();
        assertThat(buffer.readiness()).isEqualTo(Readiness.READY);
        buffer.close();
    }

    @Test
    void failsEveryQueuedCallWhenTheInnerCloses() {
        inner.handle().allow(0);
        Buffer<String, String> buffer = buffer();
        CompletableFuture<String> a = buffer.call("a");
        CompletableFuture<String> b = buffer.call("b");

        // The drain is parked on inner.whenReady(), which completes when the inner closes.
        inner.close();
        for (CompletableFuture<String> result : List.of(a, b)) {
            assertThat(failureOf(result))
                    .isInstanceOf(ServiceClosedException.class)
                    .hasMessage("the buffer's inner service closed; the request was not sent");
        }
        assertThat(buffer.readiness()).isEqualTo(Readiness.CLOSED);
        assertThat(failureOf(buffer.call("c"))).isInstanceOf(ServiceClosedException.class);
        assertThat(buffer.tryCall("d")).isNull();
        inner.handle().assertNoMoreRequests();
    }

    @Test
    void reportsClosedAsSoonAsTheInnerIsClosed() {
        Buffer<String, String> buffer = buffer();
        inner.close();
        assertThat(buffer.readiness()).isEqualTo(Readiness.CLOSED);
        assertThat(failureOf(buffer.call("late")))
                .isInstanceOf(ServiceClosedException.class)
                .hasMessageContaining("inner service closed");
    }

    @Test
    void closeFailsQueuedCallsAndClosesTheInner() {
        inner.handle().allow(0);
        Buffer<String, String> buffer = buffer();
        CompletableFuture<String> a = buffer.call("a");
        buffer.close();
        assertThat(failureOf(a))
                .isInstanceOf(ServiceClosedException.class)
                .hasMessage("buffer closed; the request was not sent");
        assertThat(inner.handle().closeCount()).isEqualTo(1);
        assertThat(buffer.readiness()).isEqualTo(Readiness.CLOSED);
        assertThat(buffer.whenReady()).isCompleted();
        assertThat(failureOf(buffer.call("b"))).isInstanceOf(ServiceClosedException.class);
        buffer.close();
        assertThat(inner.handle().closeCount()).as("close is idempotent").isEqualTo(1);
    }

    @Test
    void aBusyInnerParksTheDrainInsteadOfSpinning() {
        Gate gate = new Gate();
        Buffer<String, String> buffer = new Buffer<>(gate, CAPACITY);
        CompletableFuture<String> a = buffer.call("a");
        CompletableFuture<String> b = buffer.call("b");
        // a: the direct attempt and one drain attempt; b: no direct attempt (the queue is not
        // empty) and no drain attempt (the drain is parked on whenReady).
        assertThat(gate.offers).isEqualTo(2);
        assertThat(gate.readinessWaits).isEqualTo(1);

        gate.open = true;
        gate.signal.complete(null);
        assertThat(a).isCompletedWithValue("A");
        assertThat(b).isCompletedWithValue("B");
        assertThat(gate.offers).isEqualTo(4);
    }

    @Test
    void anInnerWhoseSignalIsAlwaysCompleteDoesNotSpinTheDrain() {
        AtomicInteger offers = new AtomicInteger();
        Service<String, String> liar = new Service<>() {
            @Override
            public CompletableFuture<String> call(String request) {
                throw new AssertionError("the buffer must use tryCall");
            }

            @Override
            public @Nullable CompletableFuture<String> tryCall(String request) {
                offers.incrementAndGet();
                return null;
            }

            @Override
            public Readiness readiness() {
                return Readiness.BUSY;
            }
        };
        Buffer<String, String> buffer = new Buffer<>(liar, CAPACITY);
        CompletableFuture<String> result = buffer.call("a");
        assertThat(result).isNotDone();
        assertThat(offers.get()).as("bounded retries, no spin").isLessThanOrEqualTo(4);
        buffer.close();
        assertThat(failureOf(result)).isInstanceOf(ServiceClosedException.class);
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void underConcurrentCallersEveryAdmittedRequestIsAnsweredOnceWithinTheInnerLimit() throws Exception {
        int producers = 4;
        int callsEach = 5_000;
        ExecutorService workers = Executors.newFixedThreadPool(2);
        ExecutorService callers = Executors.newFixedThreadPool(producers);
        try {
            Permits permits = new Permits(3, workers);
            Buffer<Integer, Integer> buffer = new Buffer<>(permits, 16);
            AtomicInteger rejections = new AtomicInteger();
            List<Future<List<CompletableFuture<Integer>>>> batches = new ArrayList<>();
            for (int p = 0; p < producers; p++) {
                int base = p * callsEach;
                batches.add(callers.submit(() -> {
                    List<CompletableFuture<Integer>> results = new ArrayList<>();
                    for (int i = base; i < base + callsEach; i++) {
                        CompletableFuture<Integer> result = buffer.call(i);
                        // Backpressure: a full buffer says so at once; wait for a slot and retry.
                        while (result.isCompletedExceptionally() && !result.isCancelled()) {
                            assertThat(failureOf(result)).isInstanceOf(OverloadedException.class);
                            rejections.incrementAndGet();
                            buffer.whenReady().toCompletableFuture().get(10, TimeUnit.SECONDS);
                            result = buffer.call(i);
                        }
                        if (i % 11 == 0) {
                            result.cancel(false);
                        }
                        results.add(result);
                    }
                    return results;
                }));
            }
            int answered = 0;
            int cancelled = 0;
            for (int p = 0; p < producers; p++) {
                List<CompletableFuture<Integer>> results = batches.get(p).get(30, TimeUnit.SECONDS);
                for (int i = 0; i < results.size(); i++) {
                    try {
                        assertThat(results.get(i).get(30, TimeUnit.SECONDS)).isEqualTo(p * callsEach + i);
                        answered++;
                    } catch (CancellationException e) {
                        cancelled++;
                    }
                }
            }
            assertThat(answered + cancelled).isEqualTo(producers * callsEach);
            assertThat(cancelled)
                    .as("only the calls the test cancelled")
                    .isLessThanOrEqualTo(producers * callsEach / 11 + producers);
            assertThat(rejections.get())
                    .as("the buffer filled up, so backpressure was exercised")
                    .isPositive();
            assertThat(permits.maxInFlight.get()).as("the inner limit holds").isEqualTo(3);
            assertThat(buffer.queued()).isZero();
            assertThat(permits.duplicates.get()).as("no request sent twice").isZero();
            // A call cancelled just as the worker answers it counts below but not for the caller.
            assertThat(permits.answered.get()).isBetween(answered, answered + cancelled);
        } finally {
            callers.shutdownNow();
            workers.shutdownNow();
            assertThat(workers.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void rejectsANonPositiveCapacityNamingIt() {
        assertThatThrownBy(() -> BufferLayer.of(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("capacity must be at least 1, was 0");
        assertThatThrownBy(() -> new Buffer<String, String>(null, 1))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("inner must not be null");
    }

    @Test
    void composesThroughTheBuilder() {
        inner.handle().allow(0);
        Service<String, String> service = ServiceBuilder.<String, String>builder()
                .layer(BufferLayer.of(1))
                .service(inner);
        CompletableFuture<String> queued = service.call("a");
        assertThat(failureOf(service.call("b"))).isInstanceOf(OverloadedException.class);
        inner.handle().allow(1);
        inner.handle().respondNext("A");
        assertThat(queued).isCompletedWithValue("A");
    }

    /**
     * An inner service that admits only while the test holds it open, and whose readiness signal
     * the test completes separately, so the two can happen in either order. Answers at once.
     */
    private static final class Gate implements Service<String, String> {
        final List<String> admitted = new ArrayList<>();
        final CompletableFuture<Void> signal = new CompletableFuture<>();
        boolean open;
        int offers;
        int readinessWaits;

        @Override
        public CompletableFuture<String> call(String request) {
            throw new AssertionError("the buffer must use tryCall");
        }

        @Override
        public @Nullable CompletableFuture<String> tryCall(String request) {
            offers++;
            if (!open) {
                return null;
            }
            admitted.add(request);
            return CompletableFuture.completedFuture(request.toUpperCase(Locale.ROOT));
        }

        @Override
        public Readiness readiness() {
            return open ? Readiness.READY : Readiness.BUSY;
        }

        @Override
        public CompletionStage<Void> whenReady() {
            readinessWaits++;
            return signal.copy();
        }
    }

    /**
     * A thread-safe inner service with a fixed number of permits that answers each request (with
     * the request itself) on a worker thread, honestly reporting readiness and signalling it.
     */
    private static final class Permits implements Service<Integer, Integer> {
        final AtomicInteger inFlight = new AtomicInteger();
        final AtomicInteger maxInFlight = new AtomicInteger();
        final AtomicInteger answered = new AtomicInteger();
        final AtomicInteger duplicates = new AtomicInteger();
        private final Set<Integer> seen = ConcurrentHashMap.newKeySet();
        private final int limit;
        private final Executor workers;
        private final Object lock = new Object();
        private @Nullable CompletableFuture<Void> signal;

        Permits(int limit, Executor workers) {
            this.limit = limit;
            this.workers = workers;
        }

        @Override
        public CompletableFuture<Integer> call(Integer request) {
            throw new AssertionError("the buffer must use tryCall");
        }

        @Override
        public @Nullable CompletableFuture<Integer> tryCall(Integer request) {
            int now;
            do {
                now = inFlight.get();
                if (now >= limit) {
                    return null;
                }
            } while (!inFlight.compareAndSet(now, now + 1));
            maxInFlight.accumulateAndGet(now + 1, Math::max);
            if (!seen.add(request)) {
                duplicates.incrementAndGet();
            }
            CompletableFuture<Integer> result = new CompletableFuture<>();
            workers.execute(() -> {
                if (result.complete(request)) {
                    answered.incrementAndGet();
                }
                release();
            });
            return result;
        }

        private void release() {
            CompletableFuture<Void> waiting;
            synchronized (lock) {
                inFlight.decrementAndGet();
                waiting = signal;
                signal = null;
            }
            if (waiting != null) {
                waiting.complete(null);
            }
        }

        @Override
        public Readiness readiness() {
            return inFlight.get() < limit ? Readiness.READY : Readiness.BUSY;
        }

        @Override
        public CompletionStage<Void> whenReady() {
            synchronized (lock) {
                if (inFlight.get() < limit) {
                    return CompletableFuture.completedFuture(null);
                }
                if (signal == null) {
                    signal = new CompletableFuture<>();
                }
                return signal;
            }
        }
    }
}
