package dev.belfry.hedge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import org.junit.jupiter.api.Test;

class HedgeListenerTest {

    @Test
    void guardedListenerForwardsEveryEventAndDropsWhatTheDelegateThrows() {
        RecordingHedgeListener recording = new RecordingHedgeListener();
        HedgeListener throwing = new HedgeListener() {
            @Override
            public void onHedgeSent(int extra) {
                recording.onHedgeSent(extra);
                throw new IllegalStateException("metrics bug");
            }

            @Override
            public void onBudgetExhausted() {
                recording.onBudgetExhausted();
                throw new IllegalStateException("metrics bug");
            }
        };
        HedgeListener guarded = HedgeListener.guarded(throwing);
        assertThatCode(() -> {
                    guarded.onHedgeSent(1);
                    guarded.onBudgetExhausted();
                    guarded.onHedgeSent(2);
                })
                .doesNotThrowAnyException();
        assertThat(recording.events()).containsExactly("hedge 1", "budget exhausted", "hedge 2");
        assertThat(HedgeListener.guarded(guarded)).isSameAs(guarded);
        assertThat(HedgeListener.guarded(HedgeListener.none())).isSameAs(HedgeListener.none());
    }
}
