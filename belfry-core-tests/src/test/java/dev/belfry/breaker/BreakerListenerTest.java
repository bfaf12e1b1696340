package dev.belfry.breaker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import dev.belfry.test.ManualClock;
import dev.belfry.test.MockService;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class BreakerListenerTest {
    private final RecordingBreakerListener recording = new RecordingBreakerListener();

    /** Records each transition, then throws as a buggy metrics listener would. */
    private final BreakerListener throwing = new BreakerListener() {
        @Override
        public void onStateChange(CircuitState from, CircuitState to) {
            recording.onStateChange(from, to);
            throw new IllegalStateException("metrics bug");
        }
    };

    @Test
    void guardedListenerForwardsEveryTransitionAndDropsWhatTheDelegateThrows() {
        BreakerListener guarded = BreakerListener.guarded(throwing);
        assertThatCode(() -> {
                    guarded.onStateChange(CircuitState.CLOSED, CircuitState.OPEN);
                    guarded.onStateChange(CircuitState.OPEN, CircuitState.HALF_OPEN);
                })
                .doesNotThrowAnyException();
        assertThat(recording.events()).containsExactly("CLOSED -> OPEN", "OPEN -> HALF_OPEN");
        assertThat(BreakerListener.guarded(guarded)).isSameAs(guarded);
        assertThat(BreakerListener.guarded(BreakerListener.none())).isSameAs(BreakerListener.none());
    }

    @Test
    void aThrowingListenerStillLeavesTheCircuitOpenAndTheCallerAnswered() {
        ManualClock clock = new ManualClock();
        MockService<String, String> inner = MockService.create();
        CircuitBreaker<String, String> breaker = CircuitBreakerLayer.<String, String>builder()
                .consecutiveFailures(1)
                .listener(throwing)
                .clock(clock)
                .build()
                .wrap(inner);
        CompletableFuture<String> result = breaker.call("x");
        inner.handle().next().fail(new IllegalStateException("boom"));
        assertThat(result).isCompletedExceptionally();
        assertThat(breaker.state()).isEqualTo(CircuitState.OPEN);
        assertThat(recording.events()).containsExactly("CLOSED -> OPEN");
        assertThat(breaker.call("y")).isCompletedExceptionally();
        inner.handle().assertNoMoreRequests();
    }
}
