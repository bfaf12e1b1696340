package dev.belfry.limit;

import dev.belfry.Checks;
import dev.belfry.OverloadedException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
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
 * completed outside the lock, so their callbacks may call back in. Thread-safe; taking and giving
 * back a permit while nobody waits takes no lock.
 */
public final class Permits {
    /** A {@code maxQueued} that lets any number of callers wait. */
    public static final int UNBOUNDED_QUEUE = Integer.MAX_VALUE;

    /** One queued caller in {@link #state}, whose high half counts them. */
    private static final long ONE_QUEUED = 1L << 32;

    private static final long FREE_MASK = ONE_QUEUED - 1;

    private static final VarHandle STATE;
    private static final VarHandle FREED;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            STATE = lookup.findVarHandle(Permits.class, "state", long.class);
            FREED = lookup.findVarHandle(Permits.class, "freed", CompletableFuture.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final int max;
    private final int maxQueued;

    /**
     * The free permits (low half) and the number of queued callers (high half), in one word so that
     * {@link #tryAcquire} sees both at once and never takes a permit while anyone is queued, and a
     * {@link #release} knows from its own update whether it must hand the permit on. Free permits
     * change by CAS anywhere; the queued count changes only under the lock, with {@link #waiters}.
     * Outside a hand-off, free permits imply an empty queue.
     */
    private volatile long state;

    private final ReentrantLock lock = new ReentrantLock();
    // Guarded by lock.
    private final WaitQueue waiters = new WaitQueue();
    private boolean handingOff;

    /** The readiness signal {@link #whenAvailable} callers wait on, if any; taken by whoever fires it. */
    @SuppressWarnings("unused") // also accessed through FREED
    private volatile @Nullable CompletableFuture<Void> freed;

    private Permits(int max, int maxQueued) {
        this.max = Checks.positive(max, "max");
        this.maxQueued = Checks.nonNegative(maxQueued, "maxQueued");
        this.state = max;
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

    private static int free(long state) {
        return (int) (state & FREE_MASK);
    }

    private static int queued(long state) {
        return (int) (state >>> 32);
    }

    /** Whether a newcomer may take a permit in {@code state}: one is free and nobody is queued. */
    private static boolean isFree(long state) {
        return state > 0 && state <= FREE_MASK;
    }

    /** Takes a permit if one is free and nobody is queued for one; returns whether it did. */
    public boolean tryAcquire() {
        long current;
        do {
            current = state;
            if (!isFree(current)) {
                return false;
            }
        } while (!STATE.compareAndSet(this, current, current - 1));
        return true;
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
        if (tryAcquire()) {
            return CompletableFuture.completedFuture(null);
        }
        WaitQueue.Waiter waiter;
        lock.lock();
        try {
            while (true) {
                long current = state;
                if (isFree(current)) {
                    if (STATE.compareAndSet(this, current, current - 1)) {
                        return CompletableFuture.completedFuture(null);
                    }
                } else if (queued(current) >= maxQueued) {
                    return CompletableFuture.failedFuture(rejection());
                } else if (STATE.compareAndSet(this, current, current + ONE_QUEUED)) {
                    // Any permit free at this instant came back while others were queued, so a
                    // hand-off of it is due, which takes the lock after this and sees this waiter.
                    waiter = waiters.add();
                    break;
                }
            }
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
            if (waiters.remove(waiter)) {
                STATE.getAndAdd(this, -ONE_QUEUED);
            }
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
        long current;
        do {
            current = state;
            if (free(current) >= max) {
                throw overReleased();
            }
        } while (!STATE.compareAndSet(this, current, current + 1));
        // The queued count seen by the update itself: a caller that queues after it finds the
        // permit free and takes it rather than waiting.
        if (queued(current) != 0) {
            passOn();
        } else if (freed != null) {
            signalFreed();
        }
    }

    private IllegalStateException overReleased() {
        return new IllegalStateException("release() without a permit held: all " + max + " are free");
    }

    /** Completes the readiness signal, if any: a permit was left free. */
    private void signalFreed() {
        @SuppressWarnings("unchecked")
        CompletableFuture<Void> signal = (CompletableFuture<Void>) FREED.getAndSet(this, null);
        if (signal != null) {
            signal.complete(null);
        }
    }

    /** Hands a permit released while callers were queued to the longest-waiting one. */
    private void passOn() {
        lock.lock();
        try {
            if (handingOff) {
                // The thread handing off permits checks for free ones under the lock before it
                // stops, so after this: it will pass this one on.
                return;
            }
            handingOff = true;
        } finally {
            lock.unlock();
        }
        handOff();
    }

    /**
     * Hands free permits to waiters, in order, until one or the other runs out. Only one thread at
     * a time does this (the {@code handingOff} flag), which keeps the order and turns what would be
     * a recursion (a waiter's callback that completes at once and releases) into this loop.
     */
    private void handOff() {
        while (true) {
            WaitQueue.Waiter next = null;
            boolean leftFree = false;
            lock.lock();
            try {
                while (true) {
                    long current = state;
                    if (free(current) > 0 && queued(current) > 0) {
                        // Releasers may add permits meanwhile; nobody else takes one while
                        // callers are queued.
                        if (STATE.compareAndSet(this, current, current - 1 - ONE_QUEUED)) {
                            next = waiters.poll();
                            break;
                        }
                    } else {
                        handingOff = false;
                        leftFree = free(current) > 0;
                        break;
                    }
                }
            } finally {
                lock.unlock();
            }
            if (next == null) {
                if (leftFree) {
                    signalFreed();
                }
                return;
            }
            if (!next.future.complete(null)) {
                // The waiter was cancelled as its permit arrived: the permit goes to the next one.
                STATE.getAndAdd(this, 1L);
            }
        }
    }

    /** How many permits are free now. */
    public int available() {
        return free(state);
    }

    /** How many callers are waiting for a permit. */
    public int queued() {
        return queued(state);
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
        return isFree(state);
    }

    /**
     * Completes when a permit may be free for {@link #tryAcquire}: at once if one is, else when a
     * release leaves one free. It may complete spuriously (another caller took the permit first);
     * callers re-check. Waiting on it reserves nothing.
     */
    public CompletionStage<Void> whenAvailable() {
        if (isFree(state)) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> created = new CompletableFuture<>();
        @SuppressWarnings("unchecked")
        CompletableFuture<Void> existing = (CompletableFuture<Void>) FREED.compareAndExchange(this, null, created);
        CompletableFuture<Void> signal = existing != null ? existing : created;
        // Published before this re-check, while a release frees its permit before it looks for a
        // signal: at least one of the two sees the other, so no release is missed.
        if (isFree(state)) {
            signalFreed();
            return CompletableFuture.completedFuture(null);
        }
        // A copy, so one caller completing or cancelling it cannot affect the others.
        return signal.copy();
    }

    @Override
    public String toString() {
        long current = state;
        return "Permits[" + free(current) + "/" + max + " free, " + queued(current) + " queued"
                + (maxQueued == UNBOUNDED_QUEUE ? "" : " of " + maxQueued) + "]";
    }
}
