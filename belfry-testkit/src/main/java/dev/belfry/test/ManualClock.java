package dev.belfry.test;

import dev.belfry.Checks;
import dev.belfry.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import org.jspecify.annotations.Nullable;

/**
 * A {@link Clock} that moves only when the test says so: timers fire during {@link #advance} or
 * {@link #runDue}, in deadline order, on the test's thread.
 *
 * <p>Time starts at an arbitrary non-zero origin (code must not assume zero). A task that schedules
 * another task due within the same advance sees it run in the same advance. Thread-safe: other
 * threads may schedule and cancel; tasks run outside the clock's lock. {@link #verify} fails while
 * any task is pending, so a layer that forgets to cancel a timer is caught.
 */
public final class ManualClock implements Clock, Verifiable {
    private static final long ORIGIN = 1_000_000_000_000L;

    private final PriorityQueue<Task> tasks = new PriorityQueue<>();
    private long now = ORIGIN;
    private long sequence;

    @Override
    public synchronized long nanoTime() {
        return now;
    }

    /** Nanoseconds since the clock was created. */
    public synchronized long elapsedNanos() {
        return now - ORIGIN;
    }

    @Override
    public synchronized Scheduled schedule(Duration delay, Runnable task) {
        Checks.notNull(delay, "delay");
        Checks.notNull(task, "task");
        long deadline = now + Math.max(0, delay.toNanos());
        Task entry = new Task(deadline, sequence++, task);
        tasks.add(entry);
        return () -> {
            synchronized (ManualClock.this) {
                return tasks.remove(entry);
            }
        };
    }

    /** Moves time forward by {@code duration}, running every task that falls due, in order. */
    public void advance(Duration duration) {
        Checks.nonNegative(duration, "duration");
        long target;
        synchronized (this) {
            target = now + duration.toNanos();
        }
        while (true) {
            Task next;
            synchronized (this) {
                Task head = tasks.peek();
                if (head == null || head.deadline > target) {
                    now = target;
                    return;
                }
                next = tasks.poll();
                now = Math.max(now, next.deadline);
            }
            next.task.run();
        }
    }

    /** Moves time forward by {@code millis} milliseconds. */
    public void advanceMillis(long millis) {
        advance(Duration.ofMillis(millis));
    }

    /** Runs tasks already due (those scheduled with no delay) without moving time. */
    public void runDue() {
        advance(Duration.ZERO);
    }

    /** How many tasks are scheduled and not yet run or cancelled. */
    public synchronized int pendingTasks() {
        return tasks.size();
    }

    /** The delay until the next task is due, or {@code null} if none is pending. */
    public synchronized @Nullable Duration nextDelay() {
        Task head = tasks.peek();
        return head == null ? null : Duration.ofNanos(head.deadline - now);
    }

    /** Drops every pending task without running it. */
    public synchronized void cancelAll() {
        tasks.clear();
    }

    @Override
    public synchronized void verify() {
        if (!tasks.isEmpty()) {
            List<String> due = new ArrayList<>();
            for (Task task : tasks) {
                due.add("in " + Duration.ofNanos(task.deadline - now) + ": " + task.task);
            }
            throw new AssertionError(tasks.size() + " timer(s) still pending " + due);
        }
    }

    @Override
    public synchronized String toString() {
        return "ManualClock[+" + Duration.ofNanos(now - ORIGIN) + ", " + tasks.size() + " pending]";
    }

    private record Task(long deadline, long sequence, Runnable task) implements Comparable<Task> {
        @Override
        public int compareTo(Task other) {
            int byDeadline = Long.compare(deadline, other.deadline);
            return byDeadline != 0 ? byDeadline : Long.compare(sequence, other.sequence);
        }
    }
}
