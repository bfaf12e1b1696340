package dev.belfry.event;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import dev.belfry.breaker.CircuitState;
import org.junit.jupiter.api.Test;

class ResilienceListenerTest {

    @Test
    void guardedListenerDropsWhatTheDelegateThrowsAndForwardsEverything() {
        RecordingListener recording = new RecordingListener();
        ResilienceListener throwing = new ResilienceListener() {
            @Override
            public void onRetry(int attempt, Throwable cause) {
                recording.onRetry(attempt, cause);
                throw new IllegalStateException("metrics bug");
            }

            @Override
            public void onBudgetExhausted() {
                recording.onBudgetExhausted();
                throw new IllegalStateException("metrics bug");
            }

            @Override
            public void onBreakerStateChange(CircuitState from, CircuitState to) {
                recording.onBreakerStateChange(from, to);
                throw new IllegalStateException("metrics bug");
            }

            @Override
            public void onHedgeSent(int extra) {
                recording.onHedgeSent(extra);
                throw new IllegalStateException("metrics bug");
            }

            @Override
            public void onCoalescedJoin(boolean fromCache) {
                recording.onCoalescedJoin(fromCache);
                throw new IllegalStateException("metrics bug");
            }
        };
        ResilienceListener guarded = ResilienceListener.guarded(throwing);
        assertThatCode(() -> {
                    guarded.onRetry(2, null);
                    guarded.onBudgetExhausted();
                    guarded.onBreakerStateChange(CircuitState.CLOSED, CircuitState.OPEN);
                    guarded.onHedgeSent(1);
                    guarded.onCoalescedJoin(true);
                })
                .doesNotThrowAnyException();
        assertThat(recording.events())
                .containsExactly("retry 2", "budget exhausted", "CLOSED -> OPEN", "hedge 1", "cache hit");
        assertThat(ResilienceListener.guarded(guarded)).isSameAs(guarded);
        assertThat(ResilienceListener.guarded(ResilienceListener.none())).isSameAs(ResilienceListener.none());
    }
}
