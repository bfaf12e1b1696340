package dev.belfry.breaker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.belfry.Readiness;
import dev.belfry.Service;
import dev.belfry.backoff.Backoff;
import dev.belfry.builder.ServiceBuilder;
import dev.belfry.test.LayerContractTest;
import dev.belfry.test.ManualClock;
import dev.belfry.test.MockService;
import dev.belfry.timeout.ElapsedException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class CircuitBreakerTest extends LayerContractTest {
    private static final Duration OPEN = Duration.ofSeconds(10);

    private final RecordingBreakerListener listener = new RecordingBreakerListener();

    /** Default settings: the contract's single calls never come near the thresholds. */
    @Override
    protected Service<String, String> wrap(Service<String, String> inner, ManualClock clock) {
        return CircuitBreakerLayer.<String, String>of(clock).wrap(inner);
    }

    private static CircuitBreakerLayer.Builder<String, String> settings() {
        return CircuitBreakerLayer.<String, String>builder().openInterval(Backoff.constant(OPEN));
    }

    private CircuitBreaker<String, String> breaker(CircuitBreakerLayer.Builder<String, String> settings) {
        return settings.listener(listener).clock(clock).build().wrap(inner);
    }

    /** The failure of a future that must already be done: never blocks. */
    private static Throwable failed(CompletableFuture<?> future) {
        assertThat(future).as("completed").isDone();
        return failureOf(future);
    }

    private void fail(CircuitBreaker<String, String> breaker, int times) {
        for (int i = 0; i < times; i++) {
            CompletableFuture<String> result = breaker.call("x");
            inner.handle().next().fail(new IllegalStateException("boom " + i));
            assertThat(result).isCompletedExceptionally();
        }
    }

    private void succeed(CircuitBreaker<String, String> breaker, int times) {
        for (int i = 0; i < times; i++) {
            CompletableFuture<String> result = breaker.call("x");
            inner.handle().respondNext("ok");
            assertThat(result).isCompletedWithValue("ok");
        }
    }

    @Test
    void opensAfterConsecutiveFailuresAndThenFailsFastWithoutCallingInner() {
        CircuitBreaker<String, String> breaker = breaker(settings().consecutiveFailures(3));
        fail(breaker, 2);
        assertThat(breaker.state()).isEqualTo(CircuitState.CLOSED);
        fail(breaker, 1);
        assertThat(breaker.state()).isEqualTo(CircuitState.OPEN);

        assertThat(breaker.readiness()).isEqualTo(Readiness.BUSY);
        assertThat(breaker.tryCall("x")).isNull();
        clock.advanceMillis(2500);
        Throwable rejected = failed(breaker.call("x"));
        assertThat(rejected)
                .isInstanceOf(CircuitOpenException.class)
                .hasMessage("circuit is open for another 7500 ms (opened after 3 consecutive failures)");
        assertThat(((CircuitOpenException) rejected).retryAfter()).isEqualTo(Duration.ofMillis(7500));
        assertThat(((CircuitOpenException) rejected).reason()).isEqualTo("3 consecutive failures");
        inner.handle().assertNoMoreRequests();
        assertThat(clock.pendingTasks()).as("no timer while nobody waits").isZero();
        assertThat(listener.events()).containsExactly("CLOSED -> OPEN");
    }

    @Test
    void aSuccessResetsTheConsecutiveFailures() {
        CircuitBreaker<String, String> breaker = breaker(settings().consecutiveFailures(3));
        fail(breaker, 2);
        succeed(breaker, 1);
        fail(breaker, 2);
        assertThat(breaker.state()).isEqualTo(CircuitState.CLOSED);
    }

    @Test
    void opensOnTheFailureRateOfTheCountWindowOnlyOnceItHoldsTheMinimumCalls() {
        CircuitBreaker<String, String> breaker = breaker(settings()
                .consecutiveFailures(100)
                .countWindow(10)
                .minimumCalls(10)
                .failureRateThreshold(0.5));
        for (int i = 0; i < 4; i++) {
            fail(breaker, 1);
            succeed(breaker, 1);
        }
        fail(breaker, 1);
        assertThat(breaker.state()).as("5 of 9 calls failed, below the minimum").isEqualTo(CircuitState.CLOSED);
        succeed(breaker, 1);
        assertThat(breaker.state()).as("5 of 10: a success never opens").isEqualTo(CircuitState.CLOSED);
        // The window now holds 10 calls; the oldest (a failure) slides out as this one comes in.
        fail(breaker, 1);
        assertThat(breaker.state()).as("5 of the last 10 failed").isEqualTo(CircuitState.OPEN);
        assertThat(failed(breaker.call("x")))
                .hasMessageContaining("5 failures in the last 10 calls (10 calls, threshold 0.5)");
    }

    @Test
    void theCountWindowForgetsOutcomesThatSlideOut() {
        CircuitBreaker<String, String> breaker =
                breaker(settings().consecutiveFailures(100).countWindow(4).minimumCalls(4));
        fail(breaker, 1);
        succeed(breaker, 4);
        fail(breaker, 1);
        assertThat(breaker.state()).as("1 of the last 4").isEqualTo(CircuitState.CLOSED);
        fail(breaker, 1);
        assertThat(breaker.state()).as("2 of the last 4").isEqualTo(CircuitState.OPEN);
    }

    @Test
    void theTimeWindowCountsOutcomesForExactlyOneWindow() {
        Duration window = Duration.ofSeconds(10);
        CircuitBreaker<String, String> expired =
                breaker(settings().consecutiveFailures(100).timeWindow(window).minimumCalls(4));
        CircuitBreaker<String, String> current = CircuitBreakerLayer.<String, String>builder()
                .consecutiveFailures(100)
                .timeWindow(window)
                .minimumCalls(4)
                .openInterval(Backoff.constant(OPEN))
                .clock(clock)
                .build()
                .wrap(inner);
        fail(expired, 2);
        fail(current, 2);

        clock.advance(window.minusNanos(1));
        succeed(current, 1);
        fail(current, 1);
        assertThat(current.state()).as("3 of 4 within the window").isEqualTo(CircuitState.OPEN);

        clock.advance(Duration.ofNanos(1));
        succeed(expired, 3);
        fail(expired, 1);
        assertThat(expired.state()).as("the first two failures expired: 1 of 4").isEqualTo(CircuitState.CLOSED);
    }

    @Test
    void staysOpenForTheIntervalAndTurnsHalfOpenExactlyAtItsEnd() {
        CircuitBreaker<String, String> breaker = breaker(settings().consecutiveFailures(1));
        fail(breaker, 1);
        clock.advance(OPEN.minusNanos(1));
        assertThat(breaker.readiness()).isEqualTo(Readiness.BUSY);
        assertThat(failed(breaker.call("x")))
                .hasMessage("circuit is open for another 0 ms (opened after 1 consecutive failures)");
        clock.advance(Duration.ofNanos(1));
        assertThat(breaker.readiness()).isEqualTo(Readiness.READY);
        assertThat(breaker.state()).isEqualTo(CircuitState.HALF_OPEN);
        inner.handle().assertNoMoreRequests();
        assertThat(listener.events()).containsExactly("CLOSED -> OPEN", "OPEN -> HALF_OPEN");
    }

    @Test
    void halfOpenAdmitsABoundedNumberOfConcurrentProbesAndClosesWhenTheySucceed() {
        CircuitBreaker<String, String> breaker =
                breaker(settings().consecutiveFailures(1).halfOpenCalls(2));
        fail(breaker, 1);
        clock.advance(OPEN);

        CompletableFuture<String> first = breaker.call("probe 1");
        CompletableFuture<String> second = breaker.call("probe 2");
        assertThat(breaker.readiness()).isEqualTo(Readiness.BUSY);
        assertThat(breaker.tryCall("x")).isNull();
        assertThat(failed(breaker.call("x")))
                .isInstanceOf(CircuitOpenException.class)
                .hasMessage("circuit is half-open and all its probe calls are in flight"
                        + " (opened after 1 consecutive failures)");
        MockService.Pending<String, String> p1 = inner.handle().next();
        MockService.Pending<String, String> p2 = inner.handle().next();
        inner.handle().assertNoMoreRequests();

        p1.respond("ok");
        assertThat(first).isCompletedWithValue("ok");
        assertThat(breaker.state()).as("one success of two").isEqualTo(CircuitState.HALF_OPEN);
        assertThat(breaker.readiness()).as("a probe permit came back").isEqualTo(Readiness.READY);
        p2.respond("ok");
        assertThat(second).isCompletedWithValue("ok");
        assertThat(breaker.state()).isEqualTo(CircuitState.CLOSED);
        assertThat(listener.events()).containsExactly("CLOSED -> OPEN", "OPEN -> HALF_OPEN", "HALF_OPEN -> CLOSED");
    }

    @Test
    void aCancelledProbeReturnsItsPermitAndCancelsItsCall() {
        CircuitBreaker<String, String> breaker =
                breaker(settings().consecutiveFailures(1).halfOpenCalls(1));
        fail(breaker, 1);
        clock.advance(OPEN);
        CompletableFuture<String> probe = breaker.call("probe");
        MockService.Pending<String, String> pending = inner.handle().next();
        assertThat(breaker.tryCall("x")).isNull();

        probe.cancel(true);
        assertThat(pending.isCancelled()).isTrue();
        assertThat(breaker.state()).as("cancellation is not an outcome").isEqualTo(CircuitState.HALF_OPEN);
        CompletableFuture<String> next = breaker.tryCall("probe again");
        assertThat(next).as("permit returned").isNotNull();
        inner.handle().respondNext("ok");
        assertThat(breaker.state()).isEqualTo(CircuitState.CLOSED);
    }

    @Test
    void probesThatNeverCompleteReopenTheCircuitAtTheHalfOpenTimeout() {
        Duration limit = Duration.ofSeconds(10);
        CircuitBreaker<String, String> breaker =
                breaker(settings().consecutiveFailures(1).halfOpenCalls(1).halfOpenTimeout(limit));
        fail(breaker, 1);
        clock.advance(OPEN);
        CompletableFuture<String> probe = breaker.call("probe");
        MockService.Pending<String, String> hung = inner.handle().next();
        CompletableFuture<Void> ready = breaker.whenReady().toCompletableFuture();
        assertThat(breaker.readiness()).isEqualTo(Readiness.BUSY);
        clock.advance(limit.minusNanos(1));
        assertThat(breaker.state()).isEqualTo(CircuitState.HALF_OPEN);
        clock.advance(Duration.ofNanos(1));
        assertThat(breaker.state()).isEqualTo(CircuitState.OPEN);
        assertThat(failed(breaker.call("x")))
                .isInstanceOf(CircuitOpenException.class)
                .hasMessageContaining("probe calls did not complete within 10000 ms");
        assertThat(ready).as("still waiting: the circuit is open again").isNotDone();
        clock.advance(OPEN);
        assertThat(ready).as("woken when the new open interval ends").isDone();
        assertThat(breaker.state()).isEqualTo(CircuitState.HALF_OPEN);
        hung.respond("late");
        assertThat(probe).isCompletedWithValue("late");
        assertThat(breaker.state()).as("a stale probe's outcome is ignored").isEqualTo(CircuitState.HALF_OPEN);
        assertThat(clock.pendingTasks()).isZero();
    }

    @Test
    void aProbeWhoseCallerCompletesTheFutureItselfReturnsItsPermitToo() {
        CircuitBreaker<String, String> breaker =
                breaker(settings().consecutiveFailures(1).halfOpenCalls(1));
        fail(breaker, 1);
        clock.advance(OPEN);
        CompletableFuture<String> probe = breaker.call("probe");
        MockService.Pending<String, String> pending = inner.handle().next();
        probe.complete("caller gave up with a default");
        assertThat(pending.isCancelled()).as("abandoned call cancelled").isTrue();
        assertThat(breaker.readiness()).isEqualTo(Readiness.READY);
    }

    @Test
    void aProbeNotAdmittedBelowReturnsItsPermitAtOnce() {
        CircuitBreaker<String, String> breaker =
                breaker(settings().consecutiveFailures(1).halfOpenCalls(1));
        fail(breaker, 1);
        clock.advance(OPEN);
        inner.handle().allow(0);
        assertThat(breaker.tryCall("x")).isNull();
        inner.handle().allowUnlimited();
        CompletableFuture<String> probe = breaker.tryCall("x");
        assertThat(probe).isNotNull();
        inner.handle().respondNext("ok");
        assertThat(breaker.state()).isEqualTo(CircuitState.CLOSED);
    }

    @Test
    void aFailedProbeReopensForALongerIntervalAndClosingResetsIt() {
        CircuitBreaker<String, String> breaker = breaker(CircuitBreakerLayer.<String, String>builder()
                .consecutiveFailures(1)
                .halfOpenCalls(1)
                .openInterval(attempt -> Duration.ofSeconds(10L * attempt)));
        fail(breaker, 1);
        clock.advance(Duration.ofSeconds(10));
        fail(breaker, 1); // the probe fails
        assertThat(failed(breaker.call("x")))
                .hasMessage("circuit is open for another 20000 ms (opened after a probe call failed)");
        clock.advance(Duration.ofSeconds(20).minusNanos(1));
        assertThat(breaker.state()).isEqualTo(CircuitState.OPEN);
        clock.advance(Duration.ofNanos(1));
        assertThat(breaker.state()).isEqualTo(CircuitState.HALF_OPEN);
        succeed(breaker, 1);
        assertThat(breaker.state()).isEqualTo(CircuitState.CLOSED);

        fail(breaker, 1);
        assertThat(((CircuitOpenException) failed(breaker.call("x"))).retryAfter())
                .as("back to the first interval")
                .isEqualTo(Duration.ofSeconds(10));
        assertThat(listener.events())
                .containsExactly(
                        "CLOSED -> OPEN",
                        "OPEN -> HALF_OPEN",
                        "HALF_OPEN -> OPEN",
                        "OPEN -> HALF_OPEN",
                        "HALF_OPEN -> CLOSED",
                        "CLOSED -> OPEN");
    }

    @Test
    void thePredicateDecidesWhichOutcomesAreFailures() {
        CircuitBreaker<String, String> breaker = breaker(settings()
                .consecutiveFailures(2)
                .isFailure((response, failure) -> failure instanceof ElapsedException || "500".equals(response)));
        for (int i = 0; i < 5; i++) {
            CompletableFuture<String> result = breaker.call("x");
            inner.handle().respondNext("404");
            assertThat(result).isCompletedWithValue("404");
        }
        CompletableFuture<String> invalid = breaker.call("x");
        inner.handle().next().fail(new IllegalArgumentException("bad request"));
        assertThat(invalid).isCompletedExceptionally();
        breaker.call("x");
        inner.handle().respondNext("500");
        assertThat(breaker.state()).isEqualTo(CircuitState.CLOSED);
        breaker.call("x");
        inner.handle().next().fail(new ElapsedException(Duration.ofSeconds(1)));
        assertThat(breaker.state()).isEqualTo(CircuitState.OPEN);
    }

    @Test
    void cancelledCallsAreNotCountedAsFailures() {
        CircuitBreaker<String, String> breaker = breaker(settings().consecutiveFailures(1));
        CompletableFuture<String> result = breaker.call("x");
        MockService.Pending<String, String> pending = inner.handle().next();
        result.cancel(false);
        assertThat(pending.isCancelled()).isTrue();
        assertThat(breaker.state()).isEqualTo(CircuitState.CLOSED);
    }

    @Test
    void anOutcomeFromBeforeTheCircuitOpenedCannotCloseIt() {
        CircuitBreaker<String, String> breaker =
                breaker(settings().consecutiveFailures(1).halfOpenCalls(1));
        CompletableFuture<String> slow = breaker.call("slow");
        MockService.Pending<String, String> slowPending = inner.handle().next();
        fail(breaker, 1);
        clock.advance(OPEN);
        assertThat(breaker.state()).isEqualTo(CircuitState.HALF_OPEN);
        slowPending.respond("finally");
        assertThat(slow).isCompletedWithValue("finally");
        assertThat(breaker.state()).isEqualTo(CircuitState.HALF_OPEN);
        assertThat(breaker.readiness()).as("probe permit untouched").isEqualTo(Readiness.READY);
    }

    @Test
    void whenReadyCompletesExactlyWhenTheOpenIntervalEndsAndLeavesNoTimer() {
        CircuitBreaker<String, String> breaker = breaker(settings().consecutiveFailures(1));
        fail(breaker, 1);
        clock.advanceMillis(4000);
        CompletableFuture<Void> ready = breaker.whenReady().toCompletableFuture();
        CompletableFuture<Void> alsoReady = breaker.whenReady().toCompletableFuture();
        assertThat(clock.pendingTasks()).as("one timer for all waiters").isEqualTo(1);
        clock.advance(Duration.ofSeconds(6).minusNanos(1));
        assertThat(ready).isNotDone();
        clock.advance(Duration.ofNanos(1));
        assertThat(ready).isDone();
        assertThat(alsoReady).isDone();
        assertThat(breaker.state()).isEqualTo(CircuitState.HALF_OPEN);
        assertThat(clock.pendingTasks()).isZero();
    }

    @Test
    void whoeverObservesTheEndOfTheIntervalFirstWakesTheWaiters() {
        CircuitBreaker<String, String> breaker = breaker(settings().consecutiveFailures(1));
        fail(breaker, 1);
        CompletableFuture<Void> ready = breaker.whenReady().toCompletableFuture();
        // Drop the waiters' timer, as if it ran late: a readiness check at the deadline must wake them.
        clock.cancelAll();
        clock.advance(OPEN.minusNanos(1));
        assertThat(breaker.readiness()).isEqualTo(Readiness.BUSY);
        assertThat(ready).isNotDone();
        clock.advance(Duration.ofNanos(1));
        assertThat(breaker.readiness()).isEqualTo(Readiness.READY);
        assertThat(ready).isDone();
    }

    @Test
    void whenReadyWhileHalfOpenAndFullCompletesWhenAProbeEnds() {
        CircuitBreaker<String, String> breaker =
                breaker(settings().consecutiveFailures(1).halfOpenCalls(1));
        fail(breaker, 1);
        clock.advance(OPEN);
        breaker.call("probe");
        CompletionStage<Void> ready = breaker.whenReady();
        assertThat(ready.toCompletableFuture()).isNotDone();
        assertThat(clock.pendingTasks()).as("only the half-open timeout").isEqualTo(1);
        inner.handle().next().fail(new IllegalStateException("still down"));
        assertThat(ready.toCompletableFuture())
                .as("spurious wake-ups are allowed")
                .isDone();
        assertThat(breaker.state()).isEqualTo(CircuitState.OPEN);
        assertThat(clock.pendingTasks())
                .as("the timeout stopped with the probe")
                .isZero();
    }

    @Test
    void closeWakesWaitersAndCancelsTheTimer() {
        CircuitBreaker<String, String> breaker = breaker(settings().consecutiveFailures(1));
        fail(breaker, 1);
        CompletableFuture<Void> ready = breaker.whenReady().toCompletableFuture();
        breaker.close();
        assertThat(ready).isDone();
        assertThat(clock.pendingTasks()).isZero();
        assertThat(breaker.readiness()).isEqualTo(Readiness.CLOSED);
    }

    @Test
    void eachWrappedServiceHasABreakerOfItsOwn() {
        MockService<String, String> other = MockService.create();
        CircuitBreakerLayer<String, String> layer =
                settings().consecutiveFailures(1).clock(clock).build();
        CircuitBreaker<String, String> first = layer.wrap(inner);
        CircuitBreaker<String, String> second = layer.wrap(other);
        fail(first, 1);
        assertThat(first.state()).isEqualTo(CircuitState.OPEN);
        assertThat(second.state()).isEqualTo(CircuitState.CLOSED);
        assertThat(second.readiness()).isEqualTo(Readiness.READY);
    }

    @Test
    void rejectsBadSettingsNamingThem() {
        assertThatThrownBy(() -> CircuitBreakerLayer.builder().failureRateThreshold(0.0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("failureRateThreshold must be in (0, 1], was 0.0");
        assertThatThrownBy(() -> CircuitBreakerLayer.builder().failureRateThreshold(1.5))
                .hasMessage("failureRateThreshold must be in (0, 1], was 1.5");
        assertThatThrownBy(() -> CircuitBreakerLayer.builder().timeWindow(Duration.ZERO))
                .hasMessage("timeWindow must be positive, was PT0S");
        assertThatThrownBy(() -> CircuitBreakerLayer.builder().countWindow(0))
                .hasMessage("countWindow must be at least 1, was 0");
        assertThatThrownBy(() -> CircuitBreakerLayer.builder().minimumCalls(0))
                .hasMessage("minimumCalls must be at least 1, was 0");
        assertThatThrownBy(() -> CircuitBreakerLayer.builder().halfOpenCalls(0))
                .hasMessage("halfOpenCalls must be at least 1, was 0");
        assertThatThrownBy(() -> CircuitBreakerLayer.builder().consecutiveFailures(0))
                .hasMessage("consecutiveFailures must be at least 1, was 0");
        assertThatThrownBy(() -> CircuitBreakerLayer.builder().countWindow(10).timeWindow(OPEN))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("slidingWindow was already set to 10");
        assertThatThrownBy(() -> CircuitBreakerLayer.builder()
                        .countWindow(10)
                        .minimumCalls(11)
                        .clock(clock)
                        .build())
                .hasMessage("minimumCalls must be at most the countWindow (10), was 11");
        assertThatThrownBy(() -> CircuitBreakerLayer.builder().clock(null)).hasMessage("clock must not be null");
    }

    @Test
    void composesThroughTheBuilderAndOpensForCallersAbove() {
        Service<String, String> service = ServiceBuilder.<String, String>builder()
                .layer(settings().consecutiveFailures(1).clock(clock).build())
                .service(inner);
        service.call("x");
        inner.handle().next().fail(new IllegalStateException("down"));
        List<Throwable> failures = new ArrayList<>();
        service.call("y").whenComplete((r, f) -> failures.add(f));
        assertThat(failures).singleElement().isInstanceOf(CircuitOpenException.class);
    }

    @Test
    void failuresAfterAWindowFullOfSuccessesAreCountedAgainstIt() {
        CircuitBreaker<String, String> breaker = breaker(settings()
                .countWindow(4)
                .minimumCalls(4)
                .failureRateThreshold(0.5)
                .consecutiveFailures(100));
        succeed(breaker, 10);
        fail(breaker, 1);
        assertThat(breaker.state()).as("1 failure in the last 4 calls").isEqualTo(CircuitState.CLOSED);
        succeed(breaker, 3);
        fail(breaker, 1);
        assertThat(breaker.state()).as("the first failure slid out").isEqualTo(CircuitState.CLOSED);
        fail(breaker, 1);
        assertThat(breaker.state()).as("2 failures in the last 4 calls").isEqualTo(CircuitState.OPEN);
    }

    @Test
    void aSynchronousServiceIsCountedLikeAnyOther() {
        AtomicInteger calls = new AtomicInteger();
        CircuitBreaker<String, String> breaker = settings()
                .consecutiveFailures(2)
                .isFailure((response, failure) -> "500".equals(response))
                .listener(listener)
                .clock(clock)
                .build()
                .wrap(request -> CompletableFuture.completedFuture(calls.incrementAndGet() < 3 ? "500" : "200"));
        assertThat(breaker.call("x")).isCompletedWithValue("500");
        assertThat(breaker.call("x")).isCompletedWithValue("500");
        assertThat(breaker.state()).isEqualTo(CircuitState.OPEN);
        assertThat(failed(breaker.call("x"))).isInstanceOf(CircuitOpenException.class);
        assertThat(calls).hasValue(2);
    }
}
