package dev.belfry.breaker;

import dev.belfry.backoff.Backoff;
import java.time.Duration;
import java.util.function.BiPredicate;
import org.jspecify.annotations.Nullable;

/** The validated settings every breaker of one {@link CircuitBreakerLayer} shares. */
record BreakerSettings<Res>(
        int consecutiveFailures,
        double failureRateThreshold,
        int windowCalls,
        @Nullable Duration windowTime,
        int minimumCalls,
        Backoff openInterval,
        int halfOpenCalls,
        Duration halfOpenTimeout,
        BiPredicate<? super Res, ? super Throwable> isFailure) {

    OutcomeWindow newWindow(long now) {
        return windowTime != null
                ? OutcomeWindow.ofTime(windowTime.toNanos(), now)
                : OutcomeWindow.ofCalls(windowCalls);
    }

    String describeWindow() {
        return windowTime != null ? "the last " + windowTime : "the last " + windowCalls + " calls";
    }
}
