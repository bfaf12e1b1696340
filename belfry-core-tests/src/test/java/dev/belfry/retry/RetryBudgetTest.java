package dev.belfry.retry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.belfry.test.ManualClock;
import dev.belfry.test.VerifyAfterEach;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VerifyAfterEach.class)
class RetryBudgetTest {
    private static final Duration WINDOW = Duration.ofSeconds(10);

    private final ManualClock clock = new ManualClock();

    private static int withdrawAll(RetryBudget budget) {
        int granted = 0;
        while (budget.tryWithdraw()) {
            granted++;
            if (granted > 10_000) {
                throw new AssertionError("budget never ran out");
            }
        }
        return granted;
    }

    @Test
    void defaultsAllowTenRetriesPerSecondOfTheWindowWithoutAnyRequest() {
        RetryBudget budget = RetryBudget.of(clock);
        assertThat(budget.remaining()).isEqualTo(100);
        assertThat(withdrawAll(budget)).isEqualTo(100);
        assertThat(budget.remaining()).isZero();
    }

    @Test
    void defaultsAddOneRetryForEveryFiveRequests() {
        RetryBudget budget = RetryBudget.of(clock);
        for (int i = 0; i < 50; i++) {
            budget.deposit();
        }
        assertThat(withdrawAll(budget)).isEqualTo(100 + 10);
    }

    @Test
    void aRetryNeedsAWholeTokenSoFourRequestsAtTwentyPercentPayForNone() {
        RetryBudget budget =
                RetryBudget.builder().minRetriesPerSecond(0).clock(clock).build();
        for (int i = 0; i < 4; i++) {
            budget.deposit();
        }
        assertThat(budget.tryWithdraw()).isFalse();
        budget.deposit();
        assertThat(budget.tryWithdraw()).isTrue();
        assertThat(budget.tryWithdraw()).isFalse();
    }

    @Test
    void depositsExpireExactlyOneWindowAfterTheStartOfTheirSlot() {
        RetryBudget budget = RetryBudget.builder()
                .window(WINDOW)
                .minRetriesPerSecond(0)
                .retryRatio(1.0)
                .clock(clock)
                .build();
        budget.deposit();
        clock.advance(WINDOW.minusNanos(1));
        assertThat(budget.remaining()).isEqualTo(1);
        clock.advance(Duration.ofNanos(1));
        assertThat(budget.remaining()).isZero();
    }

    @Test
    void aDepositLateInItsSlotExpiresWithTheSlot() {
        RetryBudget budget = RetryBudget.builder()
                .window(WINDOW)
                .minRetriesPerSecond(0)
                .retryRatio(1.0)
                .clock(clock)
                .build();
        // Slots are a tenth of the window: this deposit falls in the slot [1 s, 2 s).
        clock.advance(Duration.ofMillis(1999));
        budget.deposit();
        clock.advance(Duration.ofMillis(9001).minusNanos(1)); // to 11 s - 1 ns
        assertThat(budget.remaining()).as("at 11 s - 1 ns").isEqualTo(1);
        clock.advance(Duration.ofNanos(1));
        assertThat(budget.remaining()).as("at 11 s").isZero();
    }

    @Test
    void withdrawalsExpireTooSoTheReserveRefillsAfterAWindow() {
        RetryBudget budget = RetryBudget.builder()
                .window(WINDOW)
                .minRetriesPerSecond(1)
                .clock(clock)
                .build();
        assertThat(withdrawAll(budget)).isEqualTo(10);
        clock.advance(WINDOW.minusNanos(1));
        assertThat(budget.tryWithdraw()).isFalse();
        clock.advance(Duration.ofNanos(1));
        assertThat(budget.remaining()).isEqualTo(10);
    }

    @Test
    void idleLongerThanTheWindowForgetsEverything() {
        RetryBudget budget = RetryBudget.builder()
                .minRetriesPerSecond(0)
                .retryRatio(1.0)
                .clock(clock)
                .build();
        for (int i = 0; i < 7; i++) {
            budget.deposit();
        }
        clock.advance(Duration.ofHours(3));
        assertThat(budget.remaining()).isZero();
        budget.deposit();
        assertThat(budget.remaining()).isEqualTo(1);
    }

    @Test
    void aRatioAboveOneAllowsSeveralRetriesPerRequest() {
        RetryBudget budget = RetryBudget.builder()
                .minRetriesPerSecond(0)
                .retryRatio(2.5)
                .clock(clock)
                .build();
        budget.deposit();
        budget.deposit();
        assertThat(withdrawAll(budget)).isEqualTo(5);
    }

    @Test
    void withdrawOnlySharesTheBalanceButNeverDeposits() {
        RetryBudget budget = RetryBudget.builder()
                .minRetriesPerSecond(0)
                .retryRatio(1.0)
                .clock(clock)
                .build();
        RetryBudget inner = budget.withdrawOnly();
        inner.deposit();
        assertThat(budget.remaining()).isZero();
        budget.deposit();
        assertThat(inner.remaining()).isEqualTo(1);
        assertThat(inner.tryWithdraw()).isTrue();
        assertThat(budget.tryWithdraw()).isFalse();
        assertThat(inner.withdrawOnly()).isSameAs(inner);
    }

    @Test
    void unlimitedNeverRefuses() {
        RetryBudget budget = RetryBudget.unlimited();
        assertThat(withdrawAllUpTo(budget, 1_000)).isEqualTo(1_000);
        assertThat(budget.remaining()).isEqualTo(Long.MAX_VALUE);
    }

    private static int withdrawAllUpTo(RetryBudget budget, int limit) {
        int granted = 0;
        while (granted < limit && budget.tryWithdraw()) {
            granted++;
        }
        return granted;
    }

    @Test
    void rejectsBadSettingsNamingThem() {
        assertThatThrownBy(() -> RetryBudget.builder().window(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("window must be positive, was PT0S");
        assertThatThrownBy(() -> RetryBudget.builder().minRetriesPerSecond(-1))
                .hasMessage("minRetriesPerSecond must not be negative, was -1");
        assertThatThrownBy(() -> RetryBudget.builder().retryRatio(-0.1))
                .hasMessage("retryRatio must be between 0.0 and 1000.0, was -0.1");
        assertThatThrownBy(() -> RetryBudget.builder().retryRatio(1000.5))
                .hasMessage("retryRatio must be between 0.0 and 1000.0, was 1000.5");
        assertThatThrownBy(() -> RetryBudget.builder().retryRatio(Double.NaN))
                .hasMessage("retryRatio must be between 0.0 and 1000.0, was NaN");
        assertThatThrownBy(() -> RetryBudget.builder().window(WINDOW).window(WINDOW))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("window was already set to PT10S");
        assertThatThrownBy(() -> RetryBudget.builder().clock(null)).hasMessage("clock must not be null");
    }
}
