package dev.belfry.time;

import java.time.Duration;

/**
 * Monotonic time and timers: the only way Belfry code reads time or waits.
 *
 * <p>Injecting the clock lets every time-based behaviour be tested on a manual clock that moves only
 * when the test advances it. Implementations are thread-safe. Scheduled tasks should be short;
 * the {@linkplain #system() system clock} runs each on a virtual thread of its own, so one that is
 * slow delays no other timer (a manual clock runs them on the test's thread).
 */
public interface Clock {

    /** Monotonic nanoseconds from an arbitrary origin; only differences are meaningful. */
    long nanoTime();

    /**
     * Runs {@code task} once, after {@code delay} (at once for zero or negative delays, but never on
     * the calling thread).
     */
    Scheduled schedule(Duration delay, Runnable task);

    /**
     * The system clock, backed by {@link System#nanoTime()} and one shared daemon timer thread that
     * starts each due task on a virtual thread.
     */
    static Clock system() {
        return SystemClock.INSTANCE;
    }

    /** A task scheduled on a {@link Clock}. */
    interface Scheduled {
        /**
         * Prevents the task from running if it has not started. Returns whether this call cancelled
         * it. Idempotent.
         */
        boolean cancel();
    }
}
