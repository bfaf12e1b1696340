package dev.belfry.backoff;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BackoffTest {
    private static final Duration MIN = Duration.ofMillis(10);
    private static final Duration MAX = Duration.ofSeconds(1);

    @Test
    void exponentialStaysWithinTheDoublingCeilingAndTheBounds() {
        Backoff backoff = Backoff.exponential(MIN, MAX, new SplittableRandom(42));
        for (int attempt = 1; attempt <= 100; attempt++) {
            long ceiling = Math.min(MAX.toNanos(), MIN.toNanos() << Math.min(attempt, 20));
            for (int i = 0; i < 200; i++) {
                long delay = backoff.delay(attempt).toNanos();
                assertThat(delay).as("attempt %d", attempt).isBetween(MIN.toNanos(), ceiling);
            }
        }
    }

    @Test
    void exponentialJittersAcrossTheWholeRange() {
        Backoff backoff = Backoff.exponential(MIN, MAX, new SplittableRandom(7));
        long lowest = Long.MAX_VALUE;
        long highest = 0;
        for (int i = 0; i < 2_000; i++) {
            long delay = backoff.delay(3).toNanos();
            lowest = Math.min(lowest, delay);
            highest = Math.max(highest, delay);
        }
        // Attempt 3 draws from [10 ms, 80 ms]; 2000 draws must come near both ends.
        assertThat(lowest).isLessThan(Duration.ofMillis(12).toNanos());
        assertThat(highest).isGreaterThan(Duration.ofMillis(78).toNanos());
    }

    @Test
    void exponentialReachesTheCapAndNeverPassesIt() {
        Backoff backoff = Backoff.exponential(MIN, MAX, new SplittableRandom(1));
        long highest = 0;
        for (int i = 0; i < 2_000; i++) {
            highest = Math.max(highest, backoff.delay(Integer.MAX_VALUE).toNanos());
        }
        assertThat(highest).isLessThanOrEqualTo(MAX.toNanos()).isGreaterThan(MAX.toNanos() * 9 / 10);
    }

    @Test
    void constantIsConstant() {
        Backoff backoff = Backoff.constant(MIN);
        assertThat(backoff.delay(1)).isEqualTo(MIN);
        assertThat(backoff.delay(50)).isEqualTo(MIN);
    }

    @Test
    void rejectsBadSettingsNamingThem() {
        SplittableRandom random = new SplittableRandom(1);
        assertThatThrownBy(() -> Backoff.exponential(Duration.ZERO, MAX, random))
                .hasMessage("min must be positive, was PT0S");
        assertThatThrownBy(() -> Backoff.exponential(MAX, MIN, random))
                .hasMessage("max must be at least min (PT1S), was PT0.01S");
        assertThatThrownBy(() -> Backoff.constant(Duration.ofMillis(-1)))
                .hasMessage("delay must not be negative, was PT-0.001S");
        assertThatThrownBy(() -> Backoff.exponential(MIN, MAX, random).delay(0))
                .hasMessage("attempt must be at least 1, was 0");
    }
}
