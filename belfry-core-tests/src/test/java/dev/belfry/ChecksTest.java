package dev.belfry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ChecksTest {

    @Test
    void notNullReturnsTheValueOrNamesTheParameter() {
        String value = "v";
        assertThat(Checks.notNull(value, "value")).isSameAs(value);
        assertThatThrownBy(() -> Checks.notNull(null, "clock"))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("clock must not be null");
    }

    @Test
    void positiveDurationRejectsZeroNegativeAndNull() {
        Duration one = Duration.ofNanos(1);
        assertThat(Checks.positive(one, "timeout")).isSameAs(one);
        assertThatThrownBy(() -> Checks.positive(Duration.ZERO, "timeout"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("timeout must be positive, was PT0S");
        assertThatThrownBy(() -> Checks.positive(Duration.ofSeconds(-2), "timeout"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("timeout must be positive, was PT-2S");
        assertThatThrownBy(() -> Checks.positive((Duration) null, "timeout"))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("timeout must not be null");
    }

    @Test
    void nonNegativeDurationAcceptsZeroAndRejectsNegativeAndNull() {
        assertThat(Checks.nonNegative(Duration.ZERO, "delay")).isEqualTo(Duration.ZERO);
        assertThatThrownBy(() -> Checks.nonNegative(Duration.ofMillis(-1), "delay"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("delay must not be negative, was PT-0.001S");
        assertThatThrownBy(() -> Checks.nonNegative((Duration) null, "delay"))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("delay must not be null");
    }

    @Test
    void positiveNumbersMustBeAtLeastOne() {
        assertThat(Checks.positive(1, "permits")).isEqualTo(1);
        assertThat(Checks.positive(1L, "permits")).isEqualTo(1L);
        assertThatThrownBy(() -> Checks.positive(0, "permits"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("permits must be at least 1, was 0");
        assertThatThrownBy(() -> Checks.positive(-3L, "capacity"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("capacity must be at least 1, was -3");
    }

    @Test
    void nonNegativeIntAcceptsZero() {
        assertThat(Checks.nonNegative(0, "retries")).isZero();
        assertThatThrownBy(() -> Checks.nonNegative(-1, "retries"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("retries must not be negative, was -1");
    }

    @Test
    void inRangeIsInclusiveAndRejectsNaN() {
        assertThat(Checks.inRange(0.0, 0.0, 1.0, "ratio")).isEqualTo(0.0);
        assertThat(Checks.inRange(1.0, 0.0, 1.0, "ratio")).isEqualTo(1.0);
        assertThatThrownBy(() -> Checks.inRange(1.5, 0.0, 1.0, "ratio"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("ratio must be between 0.0 and 1.0, was 1.5");
        assertThatThrownBy(() -> Checks.inRange(-0.1, 0.0, 1.0, "ratio"))
                .hasMessage("ratio must be between 0.0 and 1.0, was -0.1");
        assertThatThrownBy(() -> Checks.inRange(Double.NaN, 0.0, 1.0, "ratio"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("ratio must be between 0.0 and 1.0, was NaN");
    }

    @Test
    void notSetTwiceNamesTheSettingAndItsCurrentValue() {
        Checks.notSetTwice(null, "timeout");
        assertThatThrownBy(() -> Checks.notSetTwice(Duration.ofSeconds(1), "timeout"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("timeout was already set to PT1S");
    }
}
