package dev.belfry.hedge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.belfry.Service;
import dev.belfry.builder.ServiceBuilder;
import dev.belfry.retry.RetryBudget;
import dev.belfry.test.LayerContractTest;
import dev.belfry.test.ManualClock;
import dev.belfry.test.MockService;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class HedgeTest extends LayerContractTest {
    private static final Duration WINDOW = Duration.ofSeconds(10);
    private static final Duration P90 = Duration.ofMillis(100);
    private static final int SAMPLES = 10;

    private final RecordingHedgeListener listener = new RecordingHedgeListener();

    /** Default settings: with no latency samples yet, the contract sees a pass-through. */
    @Override
    protected Service<String, String> wrap(Service<String, String> inner, ManualClock clock) {
        return HedgeLayer.<String, String>of(request -> true, clock).wrap(inner);
    }

    private HedgeLayer.Builder<String, String> settings() {
        return HedgeLayer.<String, String>builder(request -> !request.startsWith("POST"))
                .percentile(90)
                .window(WINDOW)
                .minSamples(SAMPLES)
                .listener(listener);
    }

    /** A hedge that has seen {@code samples} calls of {@code P90} each, rotated into use. */
    private Service<String, String> warmed(HedgeLayer.Builder<String, String> settings, int samples) {
        Service<String, String> service = settings.clock(clock).build().wrap(inner);
        for (int i = 0; i < samples; i++) {
            CompletableFuture<String> result = service.call("warm-up " + i);
            clock.advance(P90);
            inner.handle().respondNext("ok");
            assertThat(result).isCompletedWithValue("ok");
        }
        inner.handle().forgetAnswered();
        // Move to the end of the first window: its samples become the ones in use.
        clock.advance(WINDOW.minusNanos(clock.elapsedNanos()));
        return service;
    }

    private static Throwable failed(CompletableFuture<?> future) {
        assertThat(future).as("completed").isDone();
        return failureOf(future);
    }

    @Test
    void sendsABackupExactlyWhenTheRequestReachesThePercentileAndNotBefore() {
        Service<String, String> service = warmed(settings(), SAMPLES);
        CompletableFuture<String> result = service.call("GET /slow");
        MockService.Pending<String, String> original = inner.handle().next();

        clock.advance(P90.minusNanos(1));
        inner.handle().assertNoMoreRequests();
        clock.advance(Duration.ofNanos(1));
        MockService.Pending<String, String> backup = inner.handle().next();
        assertThat(backup.request()).isEqualTo("GET /slow");
        assertThat(listener.events()).containsExactly("hedge 1");

        backup.respond("from backup");
        assertThat(result).isCompletedWithValue("from backup");
        assertThat(original.isCancelled()).as("loser cancelled").isTrue();
        assertThat(original.isAbandoned())
                .as("as a loser that ran until the backup won, not a plain cancellation")
                .isTrue();
        assertThat(clock.pendingTasks()).isZero();
    }

    @Test
    void losersCountInTheLatencySoTheThresholdDoesNotDriftDownToTheWinners() {
        Service<String, String> service = warmed(settings(), SAMPLES);
        long windowStart = clock.elapsedNanos();
        for (int i = 0; i < SAMPLES; i++) {
            CompletableFuture<String> result = service.call("GET /" + i);
            MockService.Pending<String, String> original = inner.handle().next();
            clock.advance(P90);
            MockService.Pending<String, String> backup = inner.handle().next();
            clock.advanceMillis(10);
            backup.respond("fast backup");
            assertThat(result).isCompletedWithValue("fast backup");
            assertThat(original.isCancelled()).isTrue();
        }
        inner.handle().forgetAnswered();
        clock.advance(WINDOW.minusNanos(clock.elapsedNanos() - windowStart));
        // The last window saw backups answer in 10 ms and originals still running at 110 ms: the
        // 90th percentile is the originals', not the winners'.
        CompletableFuture<String> result = service.call("GET /next");
        MockService.Pending<String, String> original = inner.handle().next();
        clock.advanceMillis(100);
        inner.handle().assertNoMoreRequests();
        clock.advanceMillis(10);
        MockService.Pending<String, String> backup = inner.handle().next();
        backup.respond("b");
        assertThat(result).isCompletedWithValue("b");
        assertThat(original.isCancelled()).isTrue();
    }

    @Test
    void noHedgingUntilTheLastWindowHoldsTheMinimumSamples() {
        Service<String, String> service = warmed(settings(), SAMPLES - 1);
        CompletableFuture<String> result = service.call("GET /slow");
        assertThat(clock.pendingTasks()).isZero();
        clock.advance(P90.multipliedBy(10));
        inner.handle().respondNext("late");
        inner.handle().assertNoMoreRequests();
        assertThat(result).isCompletedWithValue("late");
    }

    @Test
    void samplesOfTheCurrentWindowAreNotUsedUntilItRotates() {
        Service<String, String> service = settings().clock(clock).build().wrap(inner);
        for (int i = 0; i < SAMPLES; i++) {
            service.call("warm-up");
            clock.advance(P90);
            inner.handle().respondNext("ok");
        }
        CompletableFuture<String> result = service.call("GET /");
        assertThat(clock.pendingTasks()).as("still the first window").isZero();
        inner.handle().respondNext("ok");
        assertThat(result).isCompletedWithValue("ok");
    }

    @Test
    void samplesOlderThanTwoWindowsAreForgotten() {
        Service<String, String> service = warmed(settings(), SAMPLES);
        clock.advance(WINDOW.multipliedBy(2));
        CompletableFuture<String> result = service.call("GET /");
        assertThat(clock.pendingTasks()).isZero();
        inner.handle().respondNext("ok");
        assertThat(result).isCompletedWithValue("ok");
    }

    @Test
    void theOriginalStillWinsIfItAnswersFirstAndTheBackupIsCancelled() {
        Service<String, String> service = warmed(settings(), SAMPLES);
        CompletableFuture<String> result = service.call("GET /");
        MockService.Pending<String, String> original = inner.handle().next();
        clock.advance(P90);
        MockService.Pending<String, String> backup = inner.handle().next();
        original.respond("from original");
        assertThat(result).isCompletedWithValue("from original");
        assertThat(backup.isCancelled()).isTrue();
    }

    @Test
    void anEarlyFailureDoesNotBeatALaterSuccess() {
        Service<String, String> service = warmed(settings(), SAMPLES);
        CompletableFuture<String> result = service.call("GET /");
        MockService.Pending<String, String> original = inner.handle().next();
        clock.advance(P90);
        MockService.Pending<String, String> backup = inner.handle().next();
        original.fail(new IllegalStateException("original broke"));
        assertThat(result).isNotDone();
        clock.advanceMillis(500);
        backup.respond("backup ok");
        assertThat(result).isCompletedWithValue("backup ok");
    }

    @Test
    void whenEveryAttemptFailsTheFirstFailureIsReturned() {
        Service<String, String> service = warmed(settings(), SAMPLES);
        CompletableFuture<String> result = service.call("GET /");
        MockService.Pending<String, String> original = inner.handle().next();
        clock.advance(P90);
        MockService.Pending<String, String> backup = inner.handle().next();
        IllegalStateException first = new IllegalStateException("backup broke first");
        backup.fail(first);
        original.fail(new IllegalStateException("original broke second"));
        assertThat(failed(result)).isSameAs(first);
    }

    @Test
    void aFailureBeforeTheBackupIsDueEndsTheCallAndCancelsTheTimer() {
        Service<String, String> service = warmed(settings(), SAMPLES);
        CompletableFuture<String> result = service.call("GET /");
        IllegalStateException failure = new IllegalStateException("fast failure");
        inner.handle().next().fail(failure);
        assertThat(failed(result)).isSameAs(failure);
        assertThat(clock.pendingTasks()).isZero();
    }

    @Test
    void noBudgetMeansNoBackup() {
        RetryBudget empty = RetryBudget.builder()
                .minRetriesPerSecond(0)
                .retryRatio(0)
                .clock(clock)
                .build();
        Service<String, String> service = warmed(settings().budget(empty), SAMPLES);
        CompletableFuture<String> result = service.call("GET /");
        clock.advance(P90);
        clock.advance(P90.multipliedBy(5));
        inner.handle().respondNext("only the original");
        inner.handle().assertNoMoreRequests();
        assertThat(result).isCompletedWithValue("only the original");
        assertThat(listener.events()).containsExactly("budget exhausted");
    }

    @Test
    void eachBackupSpendsAToken() {
        // 10 % of requests: the 10 warm-up calls and this one deposit 1.1 tokens, enough for one.
        // (A budget window longer than the latency window, so the warm-up deposits still count.)
        RetryBudget budget = RetryBudget.builder()
                .window(Duration.ofMinutes(1))
                .minRetriesPerSecond(0)
                .retryRatio(0.1)
                .clock(clock)
                .build();
        Service<String, String> service = warmed(settings().budget(budget).maxExtra(3), SAMPLES);
        CompletableFuture<String> result = service.call("GET /");
        MockService.Pending<String, String> original = inner.handle().next();
        clock.advance(P90);
        MockService.Pending<String, String> backup = inner.handle().next();
        clock.advance(P90);
        inner.handle().assertNoMoreRequests();
        backup.respond("ok");
        assertThat(result).isCompletedWithValue("ok");
        assertThat(original.isCancelled()).isTrue();
        assertThat(listener.events()).containsExactly("hedge 1", "budget exhausted");
    }

    @Test
    void sendsUpToMaxExtraBackupsEachAPercentileApart() {
        Service<String, String> service = warmed(settings().maxExtra(2), SAMPLES);
        CompletableFuture<String> result = service.call("GET /");
        MockService.Pending<String, String> original = inner.handle().next();
        clock.advance(P90);
        MockService.Pending<String, String> first = inner.handle().next();
        clock.advance(P90.minusNanos(1));
        inner.handle().assertNoMoreRequests();
        clock.advance(Duration.ofNanos(1));
        MockService.Pending<String, String> second = inner.handle().next();
        clock.advance(P90.multipliedBy(3));
        inner.handle().assertNoMoreRequests();
        second.respond("second backup");
        assertThat(result).isCompletedWithValue("second backup");
        assertThat(original.isCancelled()).isTrue();
        assertThat(first.isCancelled()).isTrue();
        assertThat(listener.events()).containsExactly("hedge 1", "hedge 2");
    }

    @Test
    void requestsThatAreNotIdempotentAreNeverHedged() {
        Service<String, String> service = warmed(settings(), SAMPLES);
        CompletableFuture<String> result = service.call("POST /orders");
        assertThat(clock.pendingTasks()).isZero();
        clock.advance(P90.multipliedBy(3));
        inner.handle().respondNext("created once");
        inner.handle().assertNoMoreRequests();
        assertThat(result).isCompletedWithValue("created once");
    }

    @Test
    void cancellingTheCallCancelsEveryAttemptAndTheTimer() {
        Service<String, String> service = warmed(settings().maxExtra(2), SAMPLES);
        CompletableFuture<String> result = service.call("GET /");
        MockService.Pending<String, String> original = inner.handle().next();
        clock.advance(P90);
        MockService.Pending<String, String> backup = inner.handle().next();
        assertThat(clock.pendingTasks()).isEqualTo(1);
        result.cancel(true);
        assertThat(original.isCancelled()).isTrue();
        assertThat(backup.isCancelled()).isTrue();
        assertThat(original.isAbandoned())
                .as("the caller left: a plain cancellation")
                .isFalse();
        assertThat(clock.pendingTasks()).isZero();
    }

    @Test
    void tryCallHedgesToo() {
        Service<String, String> service = warmed(settings(), SAMPLES);
        CompletableFuture<String> result = service.tryCall("GET /");
        assertThat(result).isNotNull();
        inner.handle().next();
        clock.advance(P90);
        inner.handle().respondNext("backup");
        assertThat(result).isCompletedWithValue("backup");
    }

    @Test
    void rejectsBadSettingsNamingThem() {
        assertThatThrownBy(() -> HedgeLayer.builder(r -> true).percentile(100.0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("percentile must be in (0, 100), was 100.0");
        assertThatThrownBy(() -> HedgeLayer.builder(r -> true).percentile(0))
                .hasMessage("percentile must be in (0, 100), was 0.0");
        assertThatThrownBy(() -> HedgeLayer.builder(r -> true).maxExtra(0))
                .hasMessage("maxExtra must be at least 1, was 0");
        assertThatThrownBy(() -> HedgeLayer.builder(r -> true).window(Duration.ZERO))
                .hasMessage("window must be positive, was PT0S");
        assertThatThrownBy(() -> HedgeLayer.builder(r -> true).minSamples(0))
                .hasMessage("minSamples must be at least 1, was 0");
        assertThatThrownBy(() -> HedgeLayer.builder(null)).hasMessage("idempotent must not be null");
        assertThatThrownBy(() -> HedgeLayer.builder(r -> true).percentile(50).percentile(60))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("percentile was already set to 50.0");
    }

    @Test
    void composesThroughTheBuilder() {
        Service<String, String> service = ServiceBuilder.<String, String>builder()
                .layer(HedgeLayer.<String, String>of(request -> true, clock))
                .service(inner);
        CompletableFuture<String> result = service.call("x");
        inner.handle().respondNext("ok");
        assertThat(result).isCompletedWithValue("ok");
    }
}
