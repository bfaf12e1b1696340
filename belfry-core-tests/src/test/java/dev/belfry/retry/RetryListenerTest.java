package dev.belfry.retry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import dev.belfry.Service;
import dev.belfry.UnprocessedException;
import dev.belfry.backoff.Backoff;
import dev.belfry.test.ManualClock;
import dev.belfry.test.MockService;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

class RetryListenerTest {
    private final RecordingRetryListener recording = new RecordingRetryListener();

    /** Records each event, then throws as a buggy metrics listener would. */
    private final RetryListener throwing = new RetryListener() {
        @Override
        public void onRetry(int attempt, @Nullable Throwable cause) {
            recording.onRetry(attempt, cause);
            throw new IllegalStateException("metrics bug");
        }

        @Override
        public void onBudgetExhausted() {
            recording.onBudgetExhausted();
            throw new IllegalStateException("metrics bug");
        }
    };

    @Test
    void guardedListenerForwardsEveryEventAndDropsWhatTheDelegateThrows() {
        RetryListener guarded = RetryListener.guarded(throwing);
        assertThatCode(() -> {
                    guarded.onRetry(2, null);
                    guarded.onBudgetExhausted();
                    guarded.onRetry(3, new UnprocessedException("refused"));
                })
                .doesNotThrowAnyException();
        assertThat(recording.events())
                .containsExactly("retry 2", "budget exhausted", "retry 3 after UnprocessedException");
        assertThat(RetryListener.guarded(guarded)).isSameAs(guarded);
        assertThat(RetryListener.guarded(RetryListener.none())).isSameAs(RetryListener.none());
    }

    @Test
    void aThrowingListenerDoesNotStopTheRetry() {
        ManualClock clock = new ManualClock();
        MockService<String, String> inner = MockService.create();
        Service<String, String> service = RetryLayer.builder(RetryPolicy.<String, String>standard()
                        .backoff(Backoff.constant(Duration.ofMillis(10)))
                        .build())
                .listener(throwing)
                .clock(clock)
                .build()
                .wrap(inner);
        CompletableFuture<String> result = service.call("post");
        inner.handle().next().fail(new UnprocessedException("connect refused"));
        clock.advanceMillis(10);
        assertThat(inner.handle().respondNext("created")).isEqualTo("post");
        assertThat(result).isCompletedWithValue("created");
        assertThat(recording.events()).containsExactly("retry 2 after UnprocessedException");
    }
}
