package dev.belfry.time;

import dev.belfry.Checks;
import java.time.Duration;

/** The real clock: {@link System#nanoTime()} and one shared timing-wheel thread. */
final class SystemClock implements Clock {
    static final SystemClock INSTANCE = new SystemClock();

    private final WheelTimer timer = new WheelTimer("belfry-timer", System::nanoTime);

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
