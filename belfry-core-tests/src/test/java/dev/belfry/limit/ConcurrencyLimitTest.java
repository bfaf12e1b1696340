package dev.belfry.limit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.belfry.OverloadedException;
import dev.belfry.Readiness;
import dev.belfry.Service;
import dev.belfry.builder.ServiceBuilder;
import dev.belfry.test.LayerContractTest;
import dev.belfry.test.ManualClock;
import dev.belfry.test.MockService;
import dev.belfry.test.Verifiable;
import dev.belfry.timeout.ElapsedException;
import dev.belfry.timeout.TimeoutLayer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ConcurrencyLimitTest extends LayerContractTest {
    private static final int MAX = 2;

    /** Every Permits a test made; after each test, all their permits must be back. */
    private final List<Permits> created = new CopyOnWriteArrayList<>();

    // Not private: only VerifyAfterEach reads it, by reflection.
    final Verifiable permitsReturned = () -> {
        for (Permits permits : created) {
            if (permits.available() != permits.max() || permits.queued() != 0) {
                throw new AssertionError("permits leaked: " + permits);
            }
        }
    };

    @Override
    protected Service<String, String> wrap(Service<String, String> inner, ManualClock clock) {
        return limited(ConcurrencyLimitLayer.of(MAX), inner);
    }

    private ConcurrencyLimit<String, String> limited(
            ConcurrencyLimitLayer<String, String> layer, Service<String, String> inner) {
        ConcurrencyLimit<String, String> service = layer.wrap(inner);
        created.add(service.permits());
        return service;
    }

    private Permits track(Permits permits) {
        created.add(permits);
        return permits;
    }

    @Test
    void admitsMaxCallsAndQueuesTheRestInOrder() {
        ConcurrencyLimit<String, String> service = limited(ConcurrencyLimitLayer.of(MAX), inner);
        CompletableFuture<String> a = service.call("a");
        CompletableFuture<String> b = service.call("b");
        CompletableFuture<String> c = service.call("c");
        CompletableFuture<String> d = service.call("d");
        assertThat(inner.handle().admitted()).isEqualTo(2);
        assertThat(service.permits().queued()).isEqualTo(2);
        assertThat(service.readiness()).isEqualTo(Readiness.BUSY);

        MockService.Pending<String, String> first = inner.handle().next();
        MockService.Pending<String, String> second = inner.handle().next();
        assertThat(first.request()).isEqualTo("a");
        assertThat(second.request()).isEqualTo("b");
        second.respond("B");
        assertThat(b).isCompletedWithValue("B");
        MockService.Pending<String, String> third = inner.handle().next();
        assertThat(third.request()).as("the first in line goes next").isEqualTo("c");
        inner.handle().assertNoMoreRequests();
        assertThat(d).isNotDone();
        first.respond("A");
        assertThat(a).isCompletedWithValue("A");
        assertThat(inner.handle().respondNext("D")).isEqualTo("d");
        assertThat(d).isCompletedWithValue("D");
        third.respond("C");
        assertThat(c).isCompletedWithValue("C");
        assertThat(service.readiness()).isEqualTo(Readiness.READY);
    }

    @Test
    void rejectsWhenTheQueueIsFull() {
        ConcurrencyLimit<String, String> service = limited(ConcurrencyLimitLayer.of(MAX, 1), inner);
        service.call("a");
        service.call("b");
        CompletableFuture<String> queued = service.call("c");
        CompletableFuture<String> rejected = service.call("d");
        assertThat(failureOf(rejected))
                .isInstanceOf(OverloadedException.class)
                .hasMessage("concurrency limit of 2 reached and 1 callers already queued");
        assertThat(queued).isNotDone();

        inner.handle().respondNext("A");
        inner.handle().respondNext("B");
        assertThat(inner.handle().respondNext("C")).isEqualTo("c");
        assertThat(queued).isCompletedWithValue("C");
        inner.handle().assertNoMoreRequests();
    }

    @Test
    void withNoQueueRejectsAtOnceAndNeverReachesInner() {
        ConcurrencyLimit<String, String> service = limited(ConcurrencyLimitLayer.of(1, 0), inner);
        CompletableFuture<String> admitted = service.call("a");
        CompletableFuture<String> rejected = service.call("b");
        assertThat(failureOf(rejected))
                .isInstanceOf(OverloadedException.class)
                .hasMessage("concurrency limit of 1 reached");
        assertThat(inner.handle().respondNext("A")).isEqualTo("a");
        inner.handle().assertNoMoreRequests();
        assertThat(admitted).isCompletedWithValue("A");
        assertThat(service.call("c")).isNotDone();
        inner.handle().respondNext("C");
    }

    @Test
    void releasesThePermitWhenTheCallFails() {
        ConcurrencyLimit<String, String> service = limited(ConcurrencyLimitLayer.of(1), inner);
        CompletableFuture<String> failing = service.call("a");
        CompletableFuture<String> queued = service.call("b");
        IllegalStateException failure = new IllegalStateException("boom");
        inner.handle().next().fail(failure);
        assertThat(failureOf(failing)).isSameAs(failure);
        assertThat(inner.handle().respondNext("B")).isEqualTo("b");
        assertThat(queued).isCompletedWithValue("B");
    }

    @Test
    void releasesThePermitWhenTheCallerCancelsAnInFlightCall() {
        ConcurrencyLimit<String, String> service = limited(ConcurrencyLimitLayer.of(1), inner);
        CompletableFuture<String> inFlight = service.call("a");
        CompletableFuture<String> queued = service.call("b");
        MockService.Pending<String, String> pending = inner.handle().next();
        inFlight.cancel(true);
        assertThat(pending.isCancelled()).isTrue();
        assertThat(inner.handle().respondNext("B"))
                .as("the freed permit admits the next")
                .isEqualTo("b");
        assertThat(queued).isCompletedWithValue("B");
    }

    @Test
    void releasesThePermitWhenTheInnerServiceThrows() {
        Service<String, String> throwing = request -> {
            throw new IllegalStateException("contract broken below");
        };
        ConcurrencyLimit<String, String> service = limited(ConcurrencyLimitLayer.of(1), throwing);
        assertThat(failureOf(service.call("a"))).hasMessage("contract broken below");
        assertThat(service.permits().available()).isEqualTo(1);
    }

    @Test
    void aCancelledQueuedCallNeverReachesInnerAndTakesNoPermit() {
        ConcurrencyLimit<String, String> service = limited(ConcurrencyLimitLayer.of(1), inner);
        CompletableFuture<String> inFlight = service.call("a");
        CompletableFuture<String> cancelled = service.call("b");
        CompletableFuture<String> next = service.call("c");
        cancelled.cancel(false);
        assertThat(service.permits().queued()).isEqualTo(1);

        inner.handle().respondNext("A");
        assertThat(inFlight).isCompletedWithValue("A");
        assertThat(inner.handle().respondNext("C")).as("b was skipped").isEqualTo("c");
        assertThat(next).isCompletedWithValue("C");
        inner.handle().assertNoMoreRequests();
        assertThat(inner.handle().admitted()).isEqualTo(2);
    }

    @Test
    void thePermitIsBackBeforeTheCallerSeesTheResponse() {
        ConcurrencyLimit<String, String> service = limited(ConcurrencyLimitLayer.of(1), inner);
        List<Integer> availableSeen = new ArrayList<>();
        CompletableFuture<String> result = service.call("a");
        result.thenRun(() -> availableSeen.add(service.permits().available()));
        inner.handle().respondNext("A");
        assertThat(availableSeen).containsExactly(1);
    }

    @Test
    void tryCallAdmitsOnlyWhileAPermitIsFree() {
        ConcurrencyLimit<String, String> service = limited(ConcurrencyLimitLayer.of(1), inner);
        CompletableFuture<String> admitted = service.tryCall("a");
        assertThat(admitted).isNotNull();
        assertThat(service.readiness()).isEqualTo(Readiness.BUSY);
        assertThat(service.tryCall("b")).isNull();
        assertThat(service.permits().queued()).as("tryCall never queues").isZero();
        assertThat(inner.handle().respondNext("A")).isEqualTo("a");
        assertThat(admitted).isCompletedWithValue("A");
        inner.handle().assertNoMoreRequests();
        assertThat(service.readiness()).isEqualTo(Readiness.READY);
    }

    @Test
    void tryCallNeverJumpsTheQueue() {
        ConcurrencyLimit<String, String> service = limited(ConcurrencyLimitLayer.of(1), inner);
        MockService.Pending<String, String> first = pendingOf(service, "a");
        CompletableFuture<String> queued = service.call("b");
        first.respond("A");
        // The freed permit went to the queued call, so nothing is free for tryCall.
        assertThat(service.tryCall("c")).isNull();
        assertThat(inner.handle().respondNext("B")).isEqualTo("b");
        assertThat(queued).isCompletedWithValue("B");
    }

    @Test
    void tryCallGivesThePermitBackWhenTheInnerServiceDeclines() {
        ConcurrencyLimit<String, String> service = limited(ConcurrencyLimitLayer.of(1), inner);
        inner.handle().allow(0);
        assertThat(service.tryCall("a")).isNull();
        assertThat(service.permits().available()).isEqualTo(1);
        assertThat(inner.handle().waitingCalls()).isZero();
    }

    @Test
    void whenReadyCompletesWhenAPermitFrees() {
        ConcurrencyLimit<String, String> service = limited(ConcurrencyLimitLayer.of(1), inner);
        assertThat(service.whenReady().toCompletableFuture()).isCompleted();
        service.call("a");
        CompletionStage<Void> ready = service.whenReady();
        assertThat(ready.toCompletableFuture()).isNotDone();
        inner.handle().respondNext("A");
        assertThat(ready.toCompletableFuture()).isCompleted();
        assertThat(service.readiness()).isEqualTo(Readiness.READY);
    }

    @Test
    void whenAPermitIsFreeReadinessFollowsTheInnerService() {
        ConcurrencyLimit<String, String> service = limited(ConcurrencyLimitLayer.of(1), inner);
        inner.handle().allow(0);
        assertThat(service.readiness()).isEqualTo(Readiness.BUSY);
        CompletionStage<Void> ready = service.whenReady();
        assertThat(ready.toCompletableFuture()).isNotDone();
        inner.handle().allow(1);
        assertThat(ready.toCompletableFuture()).isCompleted();
        assertThat(service.readiness()).isEqualTo(Readiness.READY);
        service.close();
        assertThat(service.readiness()).isEqualTo(Readiness.CLOSED);
        assertThat(service.whenReady().toCompletableFuture()).isCompleted();
    }

    @Test
    void sharedPermitsLimitTwoServicesTogether() {
        MockService<String, String> other = MockService.create();
        Permits permits = track(Permits.of(2));
        ConcurrencyLimitLayer<String, String> layer = ConcurrencyLimitLayer.shared(permits);
        ConcurrencyLimit<String, String> left = layer.wrap(inner);
        ConcurrencyLimit<String, String> right = layer.wrap(other);
        assertThat(left.permits()).isSameAs(right.permits()).isSameAs(permits);

        CompletableFuture<String> a = left.call("a");
        CompletableFuture<String> b = right.call("b");
        CompletableFuture<String> c = right.call("c");
        assertThat(left.readiness()).isEqualTo(Readiness.BUSY);
        assertThat(left.tryCall("d")).isNull();
        assertThat(other.handle().admitted()).isEqualTo(1);

        inner.handle().respondNext("A");
        assertThat(a).isCompletedWithValue("A");
        assertThat(other.handle().respondNext("B")).isEqualTo("b");
        assertThat(other.handle().respondNext("C")).isEqualTo("c");
        assertThat(b).isCompletedWithValue("B");
        assertThat(c).isCompletedWithValue("C");
        other.verify();
    }

    @Test
    void perServiceLayersGiveEachServiceItsOwnPermits() {
        ConcurrencyLimitLayer<String, String> layer = ConcurrencyLimitLayer.of(1, 0);
        MockService<String, String> other = MockService.create();
        ConcurrencyLimit<String, String> left = limited(layer, inner);
        ConcurrencyLimit<String, String> right = limited(layer, other);
        assertThat(left.permits()).isNotSameAs(right.permits());
        CompletableFuture<String> a = left.call("a");
        CompletableFuture<String> b = right.call("b");
        inner.handle().respondNext("A");
        other.handle().respondNext("B");
        assertThat(a).isCompletedWithValue("A");
        assertThat(b).isCompletedWithValue("B");
        other.verify();
    }

    @Test
    void insideATimeoutQueuedTimeCountsAndAnExpiredCallLeavesTheQueue() {
        Permits permits = track(Permits.of(1));
        Service<String, String> service = ServiceBuilder.<String, String>builder()
                .layer(TimeoutLayer.of(Duration.ofMillis(100), clock))
                .layer(ConcurrencyLimitLayer.shared(permits))
                .service(inner);
        CompletableFuture<String> first = service.call("a");
        clock.advanceMillis(50);
        CompletableFuture<String> queued = service.call("b");
        assertThat(permits.queued()).isEqualTo(1);

        clock.advanceMillis(50);
        assertThat(failureOf(first)).isInstanceOf(ElapsedException.class);
        assertThat(inner.handle().next().isCancelled()).isTrue();
        assertThat(inner.handle().respondNext("B")).as("a's permit went to b").isEqualTo("b");
        assertThat(queued).isCompletedWithValue("B");

        // Held outside the service, so only the queued call has a timer.
        assertThat(permits.tryAcquire()).isTrue();
        CompletableFuture<String> expires = service.call("c");
        clock.advance(Duration.ofMillis(100).minusNanos(1));
        assertThat(expires).isNotDone();
        assertThat(permits.queued()).isEqualTo(1);
        clock.advance(Duration.ofNanos(1));
        assertThat(failureOf(expires)).isInstanceOf(ElapsedException.class);
        assertThat(permits.queued()).as("the expired call left the queue").isZero();
        permits.release();
        inner.handle().assertNoMoreRequests();
    }

    @Test
    void rejectsBadArgumentsNamingTheParameter() {
        assertThatThrownBy(() -> ConcurrencyLimitLayer.of(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("max must be at least 1, was 0");
        assertThatThrownBy(() -> ConcurrencyLimitLayer.of(-3, 5))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("max must be at least 1, was -3");
        assertThatThrownBy(() -> ConcurrencyLimitLayer.of(1, -1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("maxQueued must not be negative, was -1");
        assertThatThrownBy(() -> ConcurrencyLimitLayer.shared(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("permits must not be null");
        assertThatThrownBy(() -> new ConcurrencyLimit<String, String>(null, Permits.of(1)))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("inner must not be null");
    }

    @Test
    @org.junit.jupiter.api.Timeout(value = 60, unit = TimeUnit.SECONDS)
    void underConcurrentCallsAndCancellationsNoMoreThanMaxAreInFlightAndEveryPermitComesBack() throws Exception {
        int max = 4;
        Permits permits = track(Permits.of(max));
        ExecutorService completer = Executors.newFixedThreadPool(2);
        ExecutorService callers = Executors.newFixedThreadPool(4);
        // An inner call is in flight until its future completes; the limit releases only after that.
        List<CompletableFuture<String>> live = new ArrayList<>();
        int[] highest = {0};
        AtomicInteger entered = new AtomicInteger();
        Service<String, String> slow = request -> {
            CompletableFuture<String> future = new CompletableFuture<>();
            synchronized (live) {
                live.removeIf(CompletableFuture::isDone);
                live.add(future);
                highest[0] = Math.max(highest[0], live.size());
            }
            entered.incrementAndGet();
            completer.execute(() -> future.complete(request));
            return future;
        };
        ConcurrencyLimit<String, String> service = new ConcurrencyLimit<>(slow, permits);
        try {
            List<Future<List<CompletableFuture<String>>>> batches = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int thread = t;
                batches.add(callers.submit(() -> {
                    List<CompletableFuture<String>> results = new ArrayList<>();
                    for (int i = 0; i < 2_000; i++) {
                        CompletableFuture<String> result =
                                i % 5 == 0 ? service.tryCall(thread + ":" + i) : service.call(thread + ":" + i);
                        if (result == null) {
                            continue;
                        }
                        if (i % 3 == 0) {
                            // Lands while queued, while in flight, or after completion.
                            result.cancel(false);
                        }
                        results.add(result);
                    }
                    return results;
                }));
            }
            List<CompletableFuture<String>> all = new ArrayList<>();
            for (Future<List<CompletableFuture<String>>> batch : batches) {
                all.addAll(batch.get(30, TimeUnit.SECONDS));
            }
            CompletableFuture.allOf(all.stream().map(f -> f.handle((r, e) -> r)).toArray(CompletableFuture[]::new))
                    .get(30, TimeUnit.SECONDS);
            long answered =
                    all.stream().filter(f -> !f.isCompletedExceptionally()).count();
            assertThat(answered).isPositive();
        } finally {
            callers.shutdown();
            assertThat(callers.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
            completer.shutdown();
            assertThat(completer.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(entered.get()).isPositive();
        synchronized (live) {
            assertThat(highest[0]).as("most inner calls in flight at once").isBetween(1, max);
        }
        assertThat(permits.available()).isEqualTo(max);
        assertThat(permits.queued()).isZero();
    }

    private MockService.Pending<String, String> pendingOf(Service<String, String> service, String request) {
        service.call(request);
        return inner.handle().next();
    }
}
