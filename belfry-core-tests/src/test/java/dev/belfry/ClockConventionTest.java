package dev.belfry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.belfry.breaker.CircuitBreakerLayer;
import dev.belfry.coalesce.CoalesceLayer;
import dev.belfry.health.HealthMonitor;
import dev.belfry.hedge.HedgeLayer;
import dev.belfry.load.PeakEwma;
import dev.belfry.retry.RetryBudget;
import dev.belfry.retry.RetryLayer;
import dev.belfry.retry.RetryPolicy;
import dev.belfry.test.ManualClock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Every core builder takes its clock the same way: {@code .clock(c)}, at most once, the system
 * clock when not given.
 */
class ClockConventionTest {
    private final ManualClock clock = new ManualClock();
    private final ManualClock other = new ManualClock();

    @Test
    void aClockSetTwiceIsRejectedNamingTheSetting() {
        assertThatThrownBy(() -> RetryLayer.builder(
                                RetryPolicy.<String, String>standard().build())
                        .clock(clock)
                        .clock(other))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("clock was already set");
        assertThatThrownBy(() -> RetryBudget.builder().clock(clock).clock(other))
                .hasMessageStartingWith("clock was already set");
        assertThatThrownBy(() -> HedgeLayer.<String, String>builder(request -> true)
                        .clock(clock)
                        .clock(other))
                .hasMessageStartingWith("clock was already set");
        assertThatThrownBy(() -> CircuitBreakerLayer.<String, String>builder()
                        .clock(clock)
                        .clock(other))
                .hasMessageStartingWith("clock was already set");
        assertThatThrownBy(() -> CoalesceLayer.<String, String>builder(request -> request)
                        .clock(clock)
                        .clock(other))
                .hasMessageStartingWith("clock was already set");
        assertThatThrownBy(() -> PeakEwma.<String, String>builder().clock(clock).clock(other))
                .hasMessageStartingWith("clock was already set");
        assertThatThrownBy(() -> HealthMonitor.<String>builder().clock(clock).clock(other))
                .hasMessageStartingWith("clock was already set");
    }

    @Test
    void aBudgetRunsOnTheClockItWasGiven() {
        RetryBudget budget = RetryBudget.builder()
                .minRetriesPerSecond(0)
                .retryRatio(1.0)
                .window(Duration.ofSeconds(1))
                .clock(clock)
                .build();
        budget.deposit();
        assertThat(budget.remaining()).isEqualTo(1);
        clock.advance(Duration.ofSeconds(1));
        assertThat(budget.remaining())
                .as("the deposit expired on the manual clock")
                .isZero();
    }

    @Test
    void withoutAClockBuildersUseTheSystemClock() {
        RetryBudget budget = RetryBudget.builder()
                .minRetriesPerSecond(0)
                .retryRatio(1.0)
                .window(Duration.ofHours(1))
                .build();
        budget.deposit();
        assertThat(budget.remaining()).isEqualTo(1);
        assertThat(CircuitBreakerLayer.<String, String>builder().build()).isNotNull();
        assertThat(HealthMonitor.<String>builder().build()).isNotNull();
    }
}
