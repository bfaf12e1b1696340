package dev.belfry.time;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * A hashed timing wheel driven by one daemon thread: the timer behind {@link Clock#system()}.
 *
 * <p>Request timeouts are scheduled on every call and almost always cancelled, so both must be
 * cheap for the caller. Scheduling pushes the entry onto a lock-free stack (one CAS, no allocation
 * beyond the entry); cancelling is one CAS plus a push onto a second stack. Only the timer thread
 * touches the wheel: it moves new entries into buckets, unlinks cancelled ones (so a cancelled
 * five-second timeout does not stay in memory for five seconds), and runs what is due.
 *
 * <p>Resolution is one tick (1 ms): a task runs at the first tick at or after its deadline, never
 * before it. The thread sleeps while nothing is scheduled, wakes at most every {@link #MAX_SLEEP}
 * while entries are pending (to keep the stacks short), and is woken early only by an entry due
 * sooner than its planned wake-up.
 */
final class WheelTimer {
    static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    static final long MAX_SLEEP = TimeUnit.MILLISECONDS.toNanos(10);
    private static final int WHEEL_SIZE = 1024;
    private static final int MASK = WHEEL_SIZE - 1;
    private static final System.Logger LOG = System.getLogger(WheelTimer.class.getName());

    private static final Comparator<Entry> BY_DEADLINE = (a, b) -> Long.compare(a.deadline, b.deadline);

    // NEW: on the new-entry stack. SCHEDULED: in a bucket. A NEW entry cancelled is simply skipped
    // when the stack is drained; only a SCHEDULED one must be unlinked through the cancel stack.
    private static final int NEW = 0;
    private static final int SCHEDULED = 1;
    private static final int CANCELLED = 2;
    private static final int DONE = 3;

    private static final VarHandle NEW_HEAD;
    private static final VarHandle CANCELLED_HEAD;
    private static final VarHandle PLANNED_WAKE;
    private static final VarHandle STATE;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            NEW_HEAD = lookup.findVarHandle(WheelTimer.class, "newHead", Entry.class);
            CANCELLED_HEAD = lookup.findVarHandle(WheelTimer.class, "cancelledHead", Entry.class);
            PLANNED_WAKE = lookup.findVarHandle(WheelTimer.class, "plannedWake", long.class);
            STATE = lookup.findVarHandle(Entry.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final LongSupplier nanoTime;
    private final long origin;
    private final Thread worker;
    private final Executor tasks;

    // Written by any thread (CAS), drained by the worker.
    @SuppressWarnings("unused") // accessed through NEW_HEAD
    private volatile @Nullable Entry newHead;

    @SuppressWarnings("unused") // accessed through CANCELLED_HEAD
    private volatile @Nullable Entry cancelledHead;

    // The time the worker will next wake up on its own; Long.MAX_VALUE while parked indefinitely.
    @SuppressWarnings("unused") // accessed through PLANNED_WAKE
    private volatile long plannedWake = Long.MAX_VALUE;

    // Worker-only state.
    private final Bucket[] wheel = new Bucket[WHEEL_SIZE];
    private final ArrayList<Entry> due = new ArrayList<>();
    private long nextTick;
    private int bucketed;

    WheelTimer(String threadName, LongSupplier nanoTime) {
        this(threadName, nanoTime, Runnable::run);
    }

    /**
     * A wheel whose due tasks are handed to {@code tasks}: the wheel's thread only keeps time, so
     * a task that is slow or blocks cannot delay the others.
     */
    WheelTimer(String threadName, LongSupplier nanoTime, Executor tasks) {
        this.tasks = tasks;
        this.nanoTime = nanoTime;
        this.origin = nanoTime.getAsLong();
        for (int i = 0; i < WHEEL_SIZE; i++) {
            wheel[i] = new Bucket();
        }
        worker = new Thread(this::run, threadName);
        worker.setDaemon(true);
        worker.start();
    }

    /** Schedules {@code task} to run at {@code deadline} (a {@link #nanoTime} value) or later. */
    Clock.Scheduled schedule(long deadline, Runnable task) {
        Entry entry = new Entry(this, deadline, task);
        Entry head;
        do {
            head = (Entry) NEW_HEAD.getVolatile(this);
            entry.nextNew = head;
        } while (!NEW_HEAD.compareAndSet(this, head, entry));
        if (deadline < (long) PLANNED_WAKE.getVolatile(this)) {
            LockSupport.unpark(worker);
        }
        return entry;
    }

    long nanoTime() {
        return nanoTime.getAsLong();
    }

    private void cancelled(Entry entry) {
        Entry head;
        do {
            head = (Entry) CANCELLED_HEAD.getVolatile(this);
            entry.nextCancelled = head;
        } while (!CANCELLED_HEAD.compareAndSet(this, head, entry));
    }

    private void run() {
        while (true) {
            long now = nanoTime.getAsLong();
            long currentTick = (now - origin) / TICK_NANOS;
            if (bucketed == 0 && nextTick < currentTick) {
                // Nothing was due while we slept: skip the empty ticks instead of walking them.
                nextTick = currentTick;
            }
            bucketNewEntries();
            unlinkCancelled();
            while (nextTick <= currentTick) {
                expire(wheel[(int) (nextTick & MASK)]);
                nextTick++;
            }
            sleep(now);
        }
    }

    private void sleep(long now) {
        long wake;
        if (bucketed == 0) {
            wake = Long.MAX_VALUE;
        } else {
            // Sleep until the next bucket holding entries, at most MAX_SLEEP, so new and cancelled
            // entries never pile up on the stacks for long.
            long limit = Math.min(MAX_SLEEP / TICK_NANOS, WHEEL_SIZE);
            long tick = nextTick;
            while (tick < nextTick + limit && wheel[(int) (tick & MASK)].head == null) {
                tick++;
            }
            wake = origin + tick * TICK_NANOS;
        }
        PLANNED_WAKE.setVolatile(this, wake);
        // Re-check after publishing the planned wake-up: a producer that pushed before reading it
        // may not have unparked us.
        if (NEW_HEAD.getVolatile(this) == null) {
            if (wake == Long.MAX_VALUE) {
                LockSupport.park(this);
            } else if (wake > now) {
                LockSupport.parkNanos(this, wake - now);
            }
        }
        PLANNED_WAKE.setVolatile(this, Long.MIN_VALUE);
    }

    private void bucketNewEntries() {
        Entry entry = (Entry) NEW_HEAD.getAndSet(this, null);
        while (entry != null) {
            Entry next = entry.nextNew;
            entry.nextNew = null;
            if (STATE.compareAndSet(entry, NEW, SCHEDULED)) {
                long tick = Math.max(nextTick, ceilDiv(sinceOrigin(entry.deadline), TICK_NANOS));
                entry.rounds = (tick - nextTick) / WHEEL_SIZE;
                wheel[(int) (tick & MASK)].add(entry);
                bucketed++;
            }
            entry = next;
        }
    }

    private void unlinkCancelled() {
        Entry entry = (Entry) CANCELLED_HEAD.getAndSet(this, null);
        while (entry != null) {
            Entry next = entry.nextCancelled;
            entry.nextCancelled = null;
            if (entry.bucket != null) {
                entry.bucket.remove(entry);
                bucketed--;
            }
            entry = next;
        }
    }

    private void expire(Bucket bucket) {
        Entry entry = bucket.head;
        while (entry != null) {
            Entry next = entry.next;
            if (entry.rounds > 0) {
                entry.rounds--;
            } else {
                bucket.remove(entry);
                bucketed--;
                due.add(entry);
            }
            entry = next;
        }
        if (due.isEmpty()) {
            return;
        }
        // A bucket also collects entries that were already overdue when the worker saw them, in
        // whatever order they were pushed: run them by deadline (stable, so ties keep their order).
        if (due.size() > 1) {
            due.sort(BY_DEADLINE);
        }
        for (Entry expired : due) {
            if (STATE.compareAndSet(expired, SCHEDULED, DONE)) {
                Runnable task = expired.task;
                try {
                    tasks.execute(() -> runTask(task));
                } catch (RuntimeException e) {
                    runTask(task); // the executor refused: run it here rather than lose it
                }
            }
        }
        due.clear();
    }

    private static void runTask(Runnable task) {
        try {
            task.run();
        } catch (RuntimeException | Error e) {
            // A failing task must not stop every other timer in the process.
            LOG.log(System.Logger.Level.ERROR, "timer task " + task + " failed", e);
        }
    }

    private long sinceOrigin(long deadline) {
        long delta = deadline - origin;
        // A deadline far in the future can overflow the subtraction; it is never due.
        return deadline > origin && delta < 0 ? Long.MAX_VALUE : delta;
    }

    private static long ceilDiv(long value, long divisor) {
        return value <= 0 ? 0 : value / divisor + (value % divisor == 0 ? 0 : 1);
    }

    /** A doubly linked list of entries, touched only by the worker. */
    private static final class Bucket {
        @Nullable
        Entry head;

        @Nullable
        Entry tail;

        void add(Entry entry) {
            entry.bucket = this;
            entry.prev = tail;
            entry.next = null;
            if (tail == null) {
                head = entry;
            } else {
                tail.next = entry;
            }
            tail = entry;
        }

        void remove(Entry entry) {
            if (entry.prev == null) {
                head = entry.next;
            } else {
                entry.prev.next = entry.next;
            }
            if (entry.next == null) {
                tail = entry.prev;
            } else {
                entry.next.prev = entry.prev;
            }
            entry.prev = null;
            entry.next = null;
            entry.bucket = null;
        }
    }

    /** One scheduled task; also its cancellation handle. */
    private static final class Entry implements Clock.Scheduled {
        final WheelTimer timer;
        final long deadline;
        final Runnable task;

        @SuppressWarnings("unused") // accessed through STATE
        volatile int state;

        // Stack links, written before the publishing CAS.
        @Nullable
        Entry nextNew;

        @Nullable
        Entry nextCancelled;

        // Worker-only.
        long rounds;

        @Nullable
        Bucket bucket;

        @Nullable
        Entry prev;

        @Nullable
        Entry next;

        Entry(WheelTimer timer, long deadline, Runnable task) {
            this.timer = timer;
            this.deadline = deadline;
            this.task = task;
        }

        @Override
        public boolean cancel() {
            while (true) {
                int state = (int) STATE.getVolatile(this);
                if (state == NEW) {
                    if (STATE.compareAndSet(this, NEW, CANCELLED)) {
                        return true; // never bucketed: the worker drops it when it drains
                    }
                } else if (state == SCHEDULED) {
                    if (STATE.compareAndSet(this, SCHEDULED, CANCELLED)) {
                        timer.cancelled(this);
                        return true;
                    }
                } else {
                    return false;
                }
            }
        }

        @Override
        public String toString() {
            return "Scheduled[" + task + "]";
        }
    }
}
