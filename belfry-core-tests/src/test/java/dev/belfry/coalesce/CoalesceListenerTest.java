package dev.belfry.coalesce;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import org.junit.jupiter.api.Test;

class CoalesceListenerTest {

    @Test
    void guardedListenerForwardsEveryEventAndDropsWhatTheDelegateThrows() {
        RecordingCoalesceListener recording = new RecordingCoalesceListener();
        CoalesceListener throwing = new CoalesceListener() {
            @Override
            public void onCoalescedJoin(boolean fromCache) {
                recording.onCoalescedJoin(fromCache);
                throw new IllegalStateException("metrics bug");
            }
        };
        CoalesceListener guarded = CoalesceListener.guarded(throwing);
        assertThatCode(() -> {
                    guarded.onCoalescedJoin(false);
                    guarded.onCoalescedJoin(true);
                })
                .doesNotThrowAnyException();
        assertThat(recording.events()).containsExactly("joined", "cache hit");
        assertThat(CoalesceListener.guarded(guarded)).isSameAs(guarded);
        assertThat(CoalesceListener.guarded(CoalesceListener.none())).isSameAs(CoalesceListener.none());
    }
}
