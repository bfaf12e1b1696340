package dev.belfry.http.client;

import dev.belfry.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.jspecify.annotations.Nullable;

/**
 * The timeouts of one connection's exchanges, kept with at most one timer on the clock.
 *
 * <p>Every request arms a timeout and nearly every one is disarmed a moment later, when its answer
 * arrives. A clock timer per request would hand each of them to the clock's thread and back. Here a
 * deadline is a field of its exchange and a place in a binary heap confined to the event loop:
 * arming and disarming cost O(log n) in the exchanges in flight and allocate nothing. The clock
 * holds one timer, for the earliest deadline. Disarming leaves that timer alone: if it fires first
 * it finds nothing due and sets itself for the earliest deadline left. So a busy connection touches
 * the clock about once per timeout period instead of once per request, and every deadline still
 * expires when a timer of its own would have.
 *
 * <p>Every method but the constructor runs on the connection's event loop; the clock's timer hops
 * to it through the executor given here.
 */
final class Deadlines {
    /** One timed thing: an exchange's current timeout. Armed at most once at a time. */
    abstract static class Deadline {
        private long at;
        private int index = -1;

        /** Whether this deadline is armed (and has not expired). */
        final boolean armed() {
            return index >= 0;
        }

        /** The {@link Clock#nanoTime()} at which it expires; meaningful while armed. */
        final long at() {
            return at;
        }

        /** Runs on the event loop once the deadline has passed; it is disarmed by then. */
        abstract void expired();
    }

    private final Clock clock;
    private final Executor loop;
    private Deadline[] heap = new Deadline[8];
    private int size;
    private Clock.@Nullable Scheduled timer;
    private long timerAt;
    private int generation;
    private boolean closed;

    Deadlines(Clock clock, Executor loop) {
        this.clock = clock;
        this.loop = loop;
    }

    /** Arms {@code deadline} to expire {@code delayNanos} from now, re-arming it if armed. */
    void arm(Deadline deadline, long delayNanos) {
        if (closed) {
            return;
        }
        deadline.at = clock.nanoTime() + delayNanos;
        if (deadline.index < 0) {
            if (size == heap.length) {
                heap = Arrays.copyOf(heap, size * 2);
            }
            deadline.index = size;
            heap[size++] = deadline;
            siftUp(deadline.index);
        } else {
            siftDown(siftUp(deadline.index));
        }
        if (deadline.index == 0) {
            ensureTimer();
        }
    }

    /** Disarms {@code deadline}; nothing when it is not armed. */
    void disarm(Deadline deadline) {
        int index = deadline.index;
        if (index < 0) {
            return;
        }
        deadline.index = -1;
        Deadline last = heap[--size];
        heap[size] = null;
        if (index < size) {
            heap[index] = last;
            last.index = index;
            siftDown(siftUp(index));
        }
    }

    /** Disarms everything and cancels the clock's timer: the connection is gone. */
    void close() {
        closed = true;
        for (int i = 0; i < size; i++) {
            heap[i].index = -1;
            heap[i] = null;
        }
        size = 0;
        cancelTimer();
    }

    /** How many deadlines are armed. */
    int armed() {
        return size;
    }

    private void ensureTimer() {
        if (size == 0 || closed) {
            return;
        }
        long earliest = heap[0].at;
        if (timer != null && timerAt - earliest <= 0) {
            return; // fires no later than needed, and then sets itself for what is left
        }
        cancelTimer();
        int current = ++generation;
        timerAt = earliest;
        long delay = Math.max(0, earliest - clock.nanoTime());
        timer = clock.schedule(Duration.ofNanos(delay), () -> hop(current));
    }

    private void hop(int fired) {
        try {
            loop.execute(() -> fired(fired));
        } catch (RejectedExecutionException e) {
            // The event loop has shut down, and the connection with it: nothing is left to time.
        }
    }

    private void fired(int fired) {
        if (fired != generation || closed) {
            return; // replaced by an earlier timer, or the connection is gone
        }
        timer = null;
        long now = clock.nanoTime();
        while (size > 0 && heap[0].at - now <= 0) {
            Deadline due = heap[0];
            disarm(due);
            due.expired(); // may arm again (later than now) or close everything
        }
        ensureTimer();
    }

    private void cancelTimer() {
        Clock.Scheduled t = timer;
        timer = null;
        generation++;
        if (t != null) {
            t.cancel();
        }
    }

    private int siftUp(int index) {
        Deadline moving = heap[index];
        while (index > 0) {
            int parent = (index - 1) >>> 1;
            Deadline above = heap[parent];
            if (above.at - moving.at <= 0) {
                break;
            }
            heap[index] = above;
            above.index = index;
            index = parent;
        }
        heap[index] = moving;
        moving.index = index;
        return index;
    }

    private void siftDown(int index) {
        Deadline moving = heap[index];
        int half = size >>> 1;
        while (index < half) {
            int child = 2 * index + 1;
            int right = child + 1;
            if (right < size && heap[right].at - heap[child].at < 0) {
                child = right;
            }
            Deadline below = heap[child];
            if (moving.at - below.at <= 0) {
                break;
            }
            heap[index] = below;
            below.index = index;
            index = child;
        }
        heap[index] = moving;
        moving.index = index;
    }
}
