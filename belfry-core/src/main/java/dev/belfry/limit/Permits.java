package dev.belfry.limit;

import dev.belfry.Checks;
import dev.belfry.OverloadedException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;

/**
 * A fair asynchronous semaphore: the shared state of a concurrency limit.
 *
 * <p>{@link #acquire} hands out permits in the order callers asked for them, waiting in a queue of
 * at most {@code maxQueued} callers when none is free; {@link #tryAcquire} takes one only if it is
 * free now and nobody is queued, so it never jumps the queue. Every permit taken is given back once
 * with {@link #release}. One instance may be shared by many {@link ConcurrencyLimit}s (see {@link
 * ConcurrencyLimitLayer#shared}) to limit them together.
 *
 * <p>Cancelling the future {@link #acquire} returned takes the caller out of the queue; if a permit
 * was being handed to it at that instant, the permit goes to the next caller instead. Futures are
 * completed outside the lock, so their callbacks may call back in. Thread-safe.
 */
public final class Permits {
    /** A {@code maxQueued} that lets any number of callers wait. */
    public static final int UNBOUNDED_QUEUE = Integer.MAX_VALUE;

    private final int max;
    private final int maxQueued;
    private final ReentrantLock lock = new ReentrantLock();
    // Guarded by lock. Outside a hand-off, available > 0 implies waiters is empty.
    private int available;
    private final WaitQueue waiters = new WaitQueue();
    private boolean handingOff;
    private @Nullable CompletableFuture<Void> freed;

    private Permits(int max, int maxQueued) {
        this.max = Checks.positive(max, "max");
        this.maxQueued = Checks.nonNegative(maxQueued, "maxQueued");
        this.available = max;
    }

    /** Permits for {@code max} concurrent holders, with any number of callers allowed to wait. */
    public static Permits of(int max) {
        return new Permits(max, UNBOUNDED_QUEUE);
    }

    /**
     * Permits for {@code max} concurrent holders, with at most {@code maxQueued} callers allowed to
     * wait ({@code 0}: reject at once when none is free; {@link #UNBOUNDED_QUEUE}: no bound).
     */
    public static Permits of(int max, int maxQueued) {
        return new Permits(max, maxQueued);
    }

    /** Takes a permit if one is free and nobody is queued for one; returns whether it did. */
    public boolean tryAcquire() {
        lock.lock();
        try {
            if (available > 0 && waiters.isEmpty()) {
                available--;
                return true;
            }
            return false;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Takes a permit, waiting in line for one if none is free; the future completes when the caller
     * holds it.
     *
     * <p>Fails at once with {@link OverloadedException} if {@code maxQueued} callers are already
     * waiting. Cancelling the future while it waits leaves the queue without taking a permit; once
     * it has completed, the caller holds a permit and must {@link #release} it.
     */
    public CompletableFuture<Void> acquire() {
        WaitQueue.Waiter waiter;
        lock.lock();
        try {
            if (available > 0 && waiters.isEmpty()) {
                available--;
                return CompletableFuture.completedFuture(null);
            }
            if (waiters.size() >= maxQueued) {
                return CompletableFuture.failedFuture(rejection());
            }
            waiter = waiters.add();
        } finally {
            lock.unlock();
        }
        waiter.future.whenComplete((ignored, failure) -> {
            if (failure != null) {
                withdraw(waiter);
            }
        });
        return waiter.future;
    }

    private OverloadedException rejection() {
        return new OverloadedException(
                maxQueued == 0
                        ? "concurrency limit of " + max + " reached"
                        : "concurrency limit of " + max + " reached and " + maxQueued + " callers already queued");
    }

    private void withdraw(WaitQueue.Waiter waiter) {
        lock.lock();
        try {
            // Absent if a hand-off already took it: that hand-off sees the failed completion and
            // passes the permit on.
            waiters.remove(waiter);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Gives back a permit taken by {@link #tryAcquire} or {@link #acquire}: the longest-waiting
     * caller gets it, or it becomes free.
     *
     * @throws IllegalStateException if every permit is already free (a permit was released twice)
     */
    public void release() {
        CompletableFuture<Void> signal = null;
        lock.lock();
        try {
            if (available >= max) {
                throw new IllegalStateException("release() without a permit held: all " + max + " are free");
            }
            available++;
            if (waiters.isEmpty()) {
                signal = freed;
                freed = null;
            } else if (handingOff) {
                // The thread handing off permits will pass this one on before it stops.
                return;
            } else {
                handingOff = true;
            }
        } finally {
            lock.unlock();
        }
        if (signal != null) {
            signal.complete(null);
        } else {
            handOff();
        }
    }

    /**
     * Hands free permits to waiters, in order, until one or the other runs out. Only one thread at
     * a time does this (the {@code handingOff} flag), which keeps the order and turns what would be
     * a recursion (a waiter's callback that completes at once and releases) into this loop.
     */
    private void handOff() {
        while (true) {
            WaitQueue.Waiter next = null;
            CompletableFuture<Void> signal = null;
            lock.lock();
            try {
                if (available > 0 && !waiters.isEmpty()) {
                    next = waiters.poll();
                    available--;
                } else {
                    handingOff = false;
                    if (available > 0) {
                        signal = freed;
                        freed = null;
                    }
                }
            } finally {
                lock.unlock();
            }
            if (next == null) {
                if (signal != null) {
                    signal.complete(null);
                }
                return;
            }
            if (!next.future.complete(null)) {
                // The waiter was cancelled as its permit arrived: the permit goes to the next one.
                lock.lock();
                try {
                    available++;
                } finally {
                    lock.unlock();
                }
            }
        }
    }

    /** How many permits are free now. */
    public int available() {
        lock.lock();
        try {
            return available;
        } finally {
            lock.unlock();
        }
    }

    /** How many callers are waiting for a permit. */
    public int queued() {
        lock.lock();
        try {
            return waiters.size();
        } finally {
            lock.unlock();
        }
    }

    /** The number of permits: the most holders at once. */
    public int max() {
        return max;
    }

    /** The most callers that may wait for a permit ({@link #UNBOUNDED_QUEUE} for no bound). */
    public int maxQueued() {
        return maxQueued;
    }

    /** Whether {@link #tryAcquire} would succeed now. */
    boolean isFree() {
        lock.lock();
        try {
            return available > 0 && waiters.isEmpty();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Completes when a permit may be free for {@link #tryAcquire}: at once if one is, else when a
     * release leaves one free. It may complete spuriously (another caller took the permit first);
     * callers re-check. Waiting on it reserves nothing.
     */
    public CompletionStage<Void> whenAvailable() {
        CompletableFuture<Void> signal;
        lock.lock();
        try {
            if (available > 0 && waiters.isEmpty()) {
                return CompletableFuture.completedFuture(null);
            }
            if (freed == null) {
                freed = new CompletableFuture<>();
            }
            signal = freed;
        } finally {
            lock.unlock();
        }
        // A copy, so one caller completing or cancelling it cannot affect the others.
        return signal.copy();
    }

    @Override
    public String toString() {
        lock.lock();
        try {
            return "Permits[" + available + "/" + max + " free, " + waiters.size() + " queued"
                    + (maxQueued == UNBOUNDED_QUEUE ? "" : " of " + maxQueued) + "]";
        } finally {
            lock.unlock();
        }
    }
}
