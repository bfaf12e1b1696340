package dev.belfry.time;

import dev.belfry.Checks;
import java.time.Duration;
import java.util.concurrent.ThreadFactory;

/**
 * The real clock: {@link System#nanoTime()} and one shared timing-wheel thread that keeps time and
 * starts each due task on a virtual thread of its own. A timeout's callbacks, a retry's next
 * attempt or a hedge's backup may run callers' code and inner services' {@code call}s; on their
 * own threads, one slow or blocking task delays no other timer in the process.
 */
final class SystemClock implements Clock {
    static final SystemClock INSTANCE = new SystemClock();

    private static final ThreadFactory TASK_THREADS =
            Thread.ofVirtual().name("belfry-timer-task").factory();

    private final WheelTimer timer = new WheelTimer(
            "belfry-timer",
            System::nanoTime,
            task -> TASK_THREADS.newThread(task).start());

    private SystemClock() {}

    @Override
    public long nanoTime() {
        return System.nanoTime();
    }

    @Override
    public Scheduled schedule(Duration delay, Runnable task) {
        Checks.notNull(delay, "delay");
        Checks.notNull(task, "task");
        long now = System.nanoTime();
        long nanos = delay.isNegative() ? 0 : saturatedNanos(delay);
        long deadline = nanos > Long.MAX_VALUE - now ? Long.MAX_VALUE : now + nanos;
        return timer.schedule(deadline, task);
    }

    private static long saturatedNanos(Duration delay) {
        try {
            return delay.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    @Override
    public String toString() {
        return "Clock.system()";
    }
}
