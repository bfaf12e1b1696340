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

class RateLimitTest extends LayerContractTest {
    private static final Duration PERIOD = Duration.ofMillis(100);

    /** Every limiter a test made; after each test, nobody may still be waiting on one. */
    private final List<RateLimiter> created = new CopyOnWriteArrayList<>();

    // Not private: only VerifyAfterEach reads it, by reflection.
    final Verifiable nobodyWaiting = () -> {
        for (RateLimiter limiter : created) {
            if (limiter.queued() != 0) {
                throw new AssertionError("callers still waiting: " + limiter);
            }
        }
    };

    @Override
    protected Service<String, String> wrap(Service<String, String> inner, ManualClock clock) {
        RateLimit<String, String> service = RateLimitLayer.<String, String>of(10, Duration.ofSeconds(1), clock)
                .wrap(inner);
        created.add(service.limiter());
        return service;
    }

    /** One request per {@link #PERIOD}, no burst, unbounded queue. */
    private RateLimiter onePerPeriod() {
        return track(RateLimiter.builder().rate(1, PERIOD).clock(clock).build());
    }

    private RateLimiter track(RateLimiter limiter) {
        created.add(limiter);
        return limiter;
    }

    private RateLimit<String, String> limited(RateLimiter limiter) {
        return RateLimitLayer.<String, String>of(limiter).wrap(inner);
    }

    @Test
    void theNextTokenArrivesAtOnePeriodAndNotBefore() {
        RateLimit<String, String> service = limited(onePerPeriod());
        CompletableFuture<String> first = service.call("a");
        CompletableFuture<String> second = service.call("b");
        assertThat(inner.handle().respondNext("A")).isEqualTo("a");
        assertThat(first).isCompletedWithValue("A");
        assertThat(clock.nextDelay()).isEqualTo(PERIOD);

        clock.advance(PERIOD.minusNanos(1));
        inner.handle().assertNoMoreRequests();
        assertThat(second).isNotDone();
        clock.advance(Duration.ofNanos(1));
        assertThat(inner.handle().respondNext("B")).isEqualTo("b");
        assertThat(second).isCompletedWithValue("B");
        assertThat(clock.pendingTasks()).as("no timer once nobody waits").isZero();
    }

    @Test
    void aBurstIsAdmittedAtOnceThenCallsWait() {
        RateLimiter limiter = track(
                RateLimiter.builder().rate(2, PERIOD).burst(3).clock(clock).build());
        RateLimit<String, String> service = limited(limiter);
        List<CompletableFuture<String>> burst = List.of(service.call("a"), service.call("b"), service.call("c"));
        CompletableFuture<String> waits = service.call("d");
        assertThat(inner.handle().admitted()).isEqualTo(3);
        assertThat(limiter.available()).isZero();
        assertThat(waits).isNotDone();

        // Two per 100 ms: the next token is 50 ms away.
        clock.advance(Duration.ofMillis(50).minusNanos(1));
        assertThat(inner.handle().admitted()).isEqualTo(3);
        clock.advance(Duration.ofNanos(1));
        assertThat(inner.handle().admitted()).isEqualTo(4);
        for (String response : List.of("A", "B", "C", "D")) {
            inner.handle().respondNext(response);
        }
        assertThat(burst).allMatch(f -> f.isDone() && !f.isCompletedExceptionally());
        assertThat(waits).isCompletedWithValue("D");
    }

    @Test
    void anIdleBucketRunsNoTimerAndFillsOnlyToTheBurst() {
        RateLimiter limiter = track(
                RateLimiter.builder().rate(1, PERIOD).burst(2).clock(clock).build());
        RateLimit<String, String> service = limited(limiter);
        service.call("a");
        service.call("b");
        assertThat(limiter.available()).isZero();
        assertThat(clock.pendingTasks()).isZero();

        clock.advance(Duration.ofHours(1));
        assertThat(limiter.available()).isEqualTo(2);
        service.call("c");
        service.call("d");
        CompletableFuture<String> waits = service.call("e");
        assertThat(inner.handle().admitted()).isEqualTo(4);
        // A full bucket mints nothing, so the next token is a whole interval after it was emptied.
        assertThat(clock.nextDelay()).isEqualTo(PERIOD);
        clock.advance(PERIOD);
        for (String response : List.of("A", "B", "C", "D", "E")) {
            inner.handle().respondNext(response);
        }
        assertThat(waits).isCompletedWithValue("E");
    }

    @Test
    void tokensArriveAtExactlyTheirShareOfThePeriodWhenItDoesNotDivideEvenly() {
        // Three per second: while the bucket is not full, tokens arrive at 333,333,334 ns,
        // 666,666,667 ns and 1 s (each rounded up), so no rounding error accumulates.
        RateLimiter limiter = track(RateLimiter.of(3, Duration.ofSeconds(1), clock));
        for (int i = 0; i < 3; i++) {
            assertThat(limiter.tryAcquire()).isTrue();
        }
        long previous = 0;
        for (long due : new long[] {333_333_334L, 666_666_667L, 1_000_000_000L, 1_333_333_334L}) {
            clock.advance(Duration.ofNanos(due - 1 - previous));
            assertThat(limiter.tryAcquire()).as("before %d ns", due).isFalse();
            clock.advance(Duration.ofNanos(1));
            assertThat(limiter.tryAcquire()).as("at %d ns", due).isTrue();
            previous = due;
        }
    }

    @Test
    void queuedCallersAreServedInOrderByOneTimer() {
        RateLimit<String, String> service = limited(onePerPeriod());
        List<String> order = new ArrayList<>();
        service.call("a");
        for (String request : List.of("b", "c", "d")) {
            service.call(request).thenRun(() -> order.add(request));
        }
        assertThat(clock.pendingTasks()).isEqualTo(1);

        clock.advance(PERIOD);
        inner.handle().respondNext("A");
        inner.handle().respondNext("B");
        assertThat(order).containsExactly("b");
        assertThat(clock.pendingTasks()).isEqualTo(1);
        clock.advance(PERIOD.multipliedBy(2));
        inner.handle().respondNext("C");
        inner.handle().respondNext("D");
        assertThat(order).containsExactly("b", "c", "d");
        assertThat(clock.pendingTasks()).isZero();
    }

    @Test
    void aCallerCancelledWhileQueuedNeverReachesInnerAndSpendsNoToken() {
        RateLimiter limiter = onePerPeriod();
        RateLimit<String, String> service = limited(limiter);
        service.call("a");
        CompletableFuture<String> cancelled = service.call("b");
        CompletableFuture<String> next = service.call("c");
        cancelled.cancel(false);
        assertThat(limiter.queued()).isEqualTo(1);

        clock.advance(PERIOD);
        inner.handle().respondNext("A");
        assertThat(inner.handle().respondNext("C"))
                .as("c takes the token b would have had")
                .isEqualTo("c");
        assertThat(next).isCompletedWithValue("C");
        inner.handle().assertNoMoreRequests();
    }

    @Test
    void theTimerIsCancelledWhenTheLastWaiterLeaves() {
        RateLimit<String, String> service = limited(onePerPeriod());
        service.call("a");
        CompletableFuture<String> b = service.call("b");
        CompletableFuture<String> c = service.call("c");
        assertThat(clock.pendingTasks()).isEqualTo(1);
        b.cancel(false);
        assertThat(clock.pendingTasks()).isEqualTo(1);
        c.cancel(true);
        assertThat(clock.pendingTasks()).isZero();
        inner.handle().respondNext("A");
        inner.handle().assertNoMoreRequests();
    }

    @Test
    void rejectsWhenTheQueueIsFull() {
        RateLimiter limiter = track(
                RateLimiter.builder().rate(1, PERIOD).maxQueued(1).clock(clock).build());
        RateLimit<String, String> service = limited(limiter);
        service.call("a");
        CompletableFuture<String> queued = service.call("b");
        CompletableFuture<String> rejected = service.call("c");
        assertThat(failureOf(rejected))
                .isInstanceOf(OverloadedException.class)
                .hasMessage("rate limit of 1 per PT0.1S reached and 1 callers already queued");
        clock.advance(PERIOD);
        inner.handle().respondNext("A");
        assertThat(inner.handle().respondNext("B")).isEqualTo("b");
        assertThat(queued).isCompletedWithValue("B");
        inner.handle().assertNoMoreRequests();
    }

    @Test
    void withNoQueueRejectsAtOnce() {
        RateLimiter limiter = track(
                RateLimiter.builder().rate(1, PERIOD).maxQueued(0).clock(clock).build());
        RateLimit<String, String> service = limited(limiter);
        service.call("a");
        assertThat(failureOf(service.call("b")))
                .isInstanceOf(OverloadedException.class)
                .hasMessage("rate limit of 1 per PT0.1S reached");
        assertThat(clock.pendingTasks()).isZero();
        inner.handle().respondNext("A");
        inner.handle().assertNoMoreRequests();
    }

    @Test
    void tryCallTakesATokenOnlyIfOneIsAvailableNow() {
        RateLimiter limiter = onePerPeriod();
        RateLimit<String, String> service = limited(limiter);
        CompletableFuture<String> admitted = service.tryCall("a");
        assertThat(admitted).isNotNull();
        assertThat(service.readiness()).isEqualTo(Readiness.BUSY);
        assertThat(service.tryCall("b")).isNull();
        assertThat(clock.pendingTasks()).as("tryCall never waits").isZero();
        inner.handle().respondNext("A");
        inner.handle().assertNoMoreRequests();
        clock.advance(PERIOD);
        assertThat(service.readiness()).isEqualTo(Readiness.READY);
    }

    @Test
    void tryCallPutsTheTokenBackWhenTheInnerServiceDeclines() {
        RateLimiter limiter = onePerPeriod();
        RateLimit<String, String> service = limited(limiter);
        inner.handle().allow(0);
        assertThat(service.tryCall("a")).isNull();
        assertThat(limiter.available()).isEqualTo(1);
        inner.handle().allowUnlimited();
        assertThat(service.tryCall("b")).isNotNull();
        assertThat(inner.handle().respondNext("B")).isEqualTo("b");
    }

    @Test
    void whenReadyCompletesWhenTheNextTokenArrives() {
        RateLimit<String, String> service = limited(onePerPeriod());
        assertThat(service.whenReady().toCompletableFuture()).isCompleted();
        service.call("a");
        inner.handle().respondNext("A");
        CompletionStage<Void> ready = service.whenReady();
        clock.advance(PERIOD.minusNanos(1));
        assertThat(ready.toCompletableFuture()).isNotDone();
        clock.advance(Duration.ofNanos(1));
        assertThat(ready.toCompletableFuture()).isCompleted();
        assertThat(service.readiness()).isEqualTo(Readiness.READY);
        assertThat(clock.pendingTasks()).isZero();
    }

    @Test
    void readinessIsClosedWhenTheInnerServiceIs() {
        RateLimit<String, String> service = limited(onePerPeriod());
        service.close();
        assertThat(service.readiness()).isEqualTo(Readiness.CLOSED);
        assertThat(service.whenReady().toCompletableFuture()).isCompleted();
    }

    @Test
    void oneLimiterSharedByTwoServicesLimitsThemTogether() {
        RateLimiter limiter = track(
                RateLimiter.builder().rate(1, PERIOD).burst(2).clock(clock).build());
        MockService<String, String> other = MockService.create();
        RateLimitLayer<String, String> layer = RateLimitLayer.of(limiter);
        RateLimit<String, String> left = layer.wrap(inner);
        RateLimit<String, String> right = layer.wrap(other);

        left.call("a");
        CompletableFuture<String> b = right.call("b");
        CompletableFuture<String> c = left.call("c");
        CompletableFuture<String> d = right.call("d");
        assertThat(inner.handle().admitted()).isEqualTo(1);
        assertThat(other.handle().admitted()).isEqualTo(1);
        assertThat(right.readiness()).isEqualTo(Readiness.BUSY);

        clock.advance(PERIOD);
        assertThat(inner.handle().admitted()).isEqualTo(2);
        assertThat(other.handle().admitted()).isEqualTo(1);
        clock.advance(PERIOD);
        assertThat(other.handle().admitted()).isEqualTo(2);

        inner.handle().respondNext("A");
        assertThat(inner.handle().respondNext("C")).isEqualTo("c");
        assertThat(other.handle().respondNext("B")).isEqualTo("b");
        assertThat(other.handle().respondNext("D")).isEqualTo("d");
        assertThat(b).isCompletedWithValue("B");
        assertThat(c).isCompletedWithValue("C");
        assertThat(d).isCompletedWithValue("D");
        other.verify();
    }

    @Test
    void perServiceLayersGiveEachServiceItsOwnRate() {
        RateLimitLayer<String, String> layer = RateLimitLayer.of(1, PERIOD, clock);
        MockService<String, String> other = MockService.create();
        RateLimit<String, String> left = layer.wrap(inner);
        RateLimit<String, String> right = layer.wrap(other);
        assertThat(left.limiter()).isNotSameAs(right.limiter());
        left.call("a");
        right.call("b");
        inner.handle().respondNext("A");
        other.handle().respondNext("B");
        assertThat(left.readiness()).isEqualTo(Readiness.BUSY);
        assertThat(right.readiness()).isEqualTo(Readiness.BUSY);
        other.verify();
    }

    @Test
    void composesThroughTheBuilder() {
        Service<String, String> service = ServiceBuilder.<String, String>builder()
                .layer(RateLimitLayer.of(onePerPeriod()))
                .service(inner);
        service.call("a");
        CompletableFuture<String> waits = service.call("b");
        clock.advance(PERIOD);
        inner.handle().respondNext("A");
        inner.handle().respondNext("B");
        assertThat(waits).isCompletedWithValue("B");
    }

    @Test
    @org.junit.jupiter.api.Timeout(value = 60, unit = TimeUnit.SECONDS)
    void underConcurrentCallersAndCancellationsNoMoreTokensAreGrantedThanTheRateAllows() throws Exception {
        RateLimiter limiter = track(RateLimiter.builder()
                .rate(1, Duration.ofMillis(10))
                .burst(5)
                .clock(clock)
                .build());
        long start = clock.elapsedNanos();
        ExecutorService callers = Executors.newFixedThreadPool(4);
        AtomicInteger tried = new AtomicInteger();
        List<Future<List<CompletableFuture<Void>>>> batches = new ArrayList<>();
        try {
            for (int t = 0; t < 4; t++) {
                batches.add(callers.submit(() -> {
                    List<CompletableFuture<Void>> acquired = new ArrayList<>();
                    for (int i = 0; i < 500; i++) {
                        if (i % 7 == 0) {
                            if (limiter.tryAcquire()) {
                                tried.incrementAndGet();
                            }
                            continue;
                        }
                        CompletableFuture<Void> token = limiter.acquire();
                        if (i % 3 == 0) {
                            // Races the clock thread handing this caller a token.
                            token.cancel(false);
                        }
                        acquired.add(token);
                    }
                    return acquired;
                }));
            }
            // This thread is the clock: it moves time while the callers run, then until nobody waits.
            for (int step = 0; step < 1_000_000; step++) {
                boolean callersDone = batches.stream().allMatch(Future::isDone);
                if (callersDone && limiter.queued() == 0) {
                    break;
                }
                clock.advanceMillis(1);
            }
            List<CompletableFuture<Void>> all = new ArrayList<>();
            for (Future<List<CompletableFuture<Void>>> batch : batches) {
                all.addAll(batch.get(30, TimeUnit.SECONDS));
            }
            assertThat(all).allMatch(CompletableFuture::isDone);
            long granted =
                    tried.get() + all.stream().filter(f -> !f.isCancelled()).count();
            long minted = (clock.elapsedNanos() - start) / Duration.ofMillis(10).toNanos();
            assertThat(granted).as("tokens granted").isPositive().isLessThanOrEqualTo(5 + minted);
            assertThat(limiter.queued()).isZero();
            assertThat(clock.pendingTasks()).isZero();
        } finally {
            callers.shutdown();
            assertThat(callers.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void rejectsBadArgumentsNamingTheParameter() {
        assertThatThrownBy(() -> RateLimitLayer.of(0, PERIOD, clock))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("requests must be at least 1, was 0");
        assertThatThrownBy(() -> RateLimitLayer.of(1, Duration.ZERO, clock))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("per must be positive, was PT0S");
        assertThatThrownBy(() -> RateLimitLayer.of(1, PERIOD, null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("clock must not be null");
        assertThatThrownBy(() -> RateLimitLayer.of(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("limiter must not be null");
        assertThatThrownBy(() -> RateLimiter.builder().burst(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("burst must be at least 1, was 0");
        assertThatThrownBy(() -> RateLimiter.builder().maxQueued(-1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("maxQueued must not be negative, was -1");
        assertThatThrownBy(() ->
                        RateLimiter.builder().rate(10, Duration.ofSeconds(1)).rate(5, PERIOD))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("rate was already set to 10 per PT1S");
        assertThatThrownBy(() -> RateLimiter.builder().burst(2).burst(3))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("burst was already set to 2");
        assertThatThrownBy(() -> RateLimiter.builder().burst(2).build())
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("rate must be set");
        assertThatThrownBy(() -> new RateLimit<String, String>(inner, null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("limiter must not be null");
    }
}
