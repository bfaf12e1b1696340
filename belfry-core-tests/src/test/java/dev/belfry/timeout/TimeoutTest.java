package dev.belfry.timeout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.belfry.Service;
import dev.belfry.builder.ServiceBuilder;
import dev.belfry.test.LayerContractTest;
import dev.belfry.test.ManualClock;
import dev.belfry.test.MockService;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class TimeoutTest extends LayerContractTest {
    private static final Duration LIMIT = Duration.ofMillis(100);

    @Override
    protected Service<String, String> wrap(Service<String, String> inner, ManualClock clock) {
        return TimeoutLayer.<String, String>of(LIMIT, clock).wrap(inner);
    }

    @Test
    void expiresAtTheLimitAndNotBefore() {
        Service<String, String> service = wrap(inner, clock);
        CompletableFuture<String> result = service.call("slow");
        MockService.Pending<String, String> pending = inner.handle().next();

        clock.advance(LIMIT.minusNanos(1));
        assertThat(result).isNotDone();
        assertThat(pending.isCancelled()).isFalse();

        clock.advance(Duration.ofNanos(1));
        assertThat(failureOf(result)).isInstanceOf(ElapsedException.class).hasMessageContaining("100 ms");
        assertThat(((ElapsedException) failureOf(result)).limit()).isEqualTo(LIMIT);
        assertThat(pending.isCancelled()).as("inner call cancelled on expiry").isTrue();
    }

    @Test
    void answerBeforeTheLimitCancelsTheTimer() {
        Service<String, String> service = wrap(inner, clock);
        CompletableFuture<String> result = service.call("fast");
        assertThat(clock.pendingTasks()).isEqualTo(1);
        clock.advance(LIMIT.minusNanos(1));
        inner.handle().respondNext("done");
        assertThat(result).isCompletedWithValue("done");
        assertThat(clock.pendingTasks()).isZero();
    }

    @Test
    void callerCancellationCancelsTheTimer() {
        Service<String, String> service = wrap(inner, clock);
        CompletableFuture<String> result = service.call("x");
        MockService.Pending<String, String> pending = inner.handle().next();
        result.cancel(true);
        assertThat(pending.isCancelled()).isTrue();
        assertThat(clock.pendingTasks()).isZero();
    }

    @Test
    void timeQueuedInAnInnerLayerCounts() {
        // The inner service admits nothing, so the call waits inside it; the timeout still fires.
        inner.handle().allow(0);
        Service<String, String> service = wrap(inner, clock);
        CompletableFuture<String> result = service.call("queued");
        assertThat(inner.handle().waitingCalls()).isEqualTo(1);
        clock.advance(LIMIT);
        assertThat(failureOf(result)).isInstanceOf(ElapsedException.class);
        assertThat(inner.handle().waitingCalls()).as("queued call withdrawn").isZero();
    }

    @Test
    void anAlreadyCompletedInnerCallSchedulesNoTimer() {
        Service<String, String> service =
                TimeoutLayer.<String, String>of(LIMIT, clock).wrap(request -> CompletableFuture.completedFuture("now"));
        assertThat(service.call("x")).isCompletedWithValue("now");
        assertThat(clock.pendingTasks()).isZero();
    }

    @Test
    void rejectsNonPositiveLimitsNamingTheParameter() {
        assertThatThrownBy(() -> TimeoutLayer.of(Duration.ZERO, clock))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("timeout must be positive, was PT0S");
        assertThatThrownBy(() -> TimeoutLayer.of(Duration.ofMillis(-5), clock))
                .hasMessageContaining("timeout must be positive, was PT-0.005S");
        assertThatThrownBy(() -> new Timeout<String, String>(null, LIMIT, clock))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("inner must not be null");
    }

    @Test
    void composesThroughTheBuilder() {
        Service<String, String> service = ServiceBuilder.<String, String>builder()
                .layer(TimeoutLayer.of(LIMIT, clock))
                .service(inner);
        CompletableFuture<String> result = service.call("x");
        clock.advance(LIMIT);
        assertThat(failureOf(result)).isInstanceOf(ElapsedException.class);
        assertThat(inner.handle().next().isCancelled()).isTrue();
    }
}
