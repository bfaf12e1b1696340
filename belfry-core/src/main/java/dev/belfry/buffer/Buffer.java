package dev.belfry.buffer;

import dev.belfry.Checks;
import dev.belfry.Futures;
import dev.belfry.OverloadedException;
import dev.belfry.Readiness;
import dev.belfry.Service;
import dev.belfry.ServiceClosedException;
import dev.belfry.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * Holds up to a fixed number of requests in a queue in front of the inner service and hands them
 * on, in order, as fast as the inner service admits them.
 *
 * <p>A request goes straight through when the queue is empty and the inner service admits it at
 * once ({@link Service#tryCall}). Otherwise it joins the queue if there is room; {@link #call} on a
 * full buffer fails at once with {@link OverloadedException} and {@link #tryCall} returns {@code
 * null}. One drainer at a time takes the head of the queue and offers it to the inner service with
 * {@code tryCall}; when the inner service is busy the drain parks on its {@link Service#whenReady}
 * and resumes when that completes, so a busy inner service costs no spinning. An inner service that
 * reports ready yet refuses the head (one that routes per request, such as {@code Steer}, {@code
 * LoadShed} or a consistent-hash balancer) is asked again on the clock, after 1 ms and then at
 * growing intervals up to 16 ms, until it admits: the queue never stalls.
 *
 * <p>Cancelling a queued call removes it from the queue: it never reaches the inner service.
 * Cancelling a call already handed on cancels the inner call. When the inner service closes, every
 * queued call fails with {@link ServiceClosedException}, as it does when the buffer is closed.
 *
 * <p>Thread-safe. No lock is held while the inner service is called or a caller's future completed.
 */
public final class Buffer<Req, Res> implements Service<Req, Res> {
    private static final long FIRST_RECHECK_NANOS = Duration.ofMillis(1).toNanos();
    private static final long LAST_RECHECK_NANOS = Duration.ofMillis(16).toNanos();

    private final Service<Req, Res> inner;
    private final int capacity;
    private final Clock clock;

    // Guards queue, closed, closedMessage, parked and spaceSignal.
    private final Object lock = new Object();
    // In arrival order; a set, so an entry that completes leaves in constant time.
    private final LinkedHashSet<Entry<Req, Res>> queue = new LinkedHashSet<>();
    private boolean closed;
    private String closedMessage = "";
    // True while the drain waits on inner.whenReady(); only that callback resumes it.
    private boolean parked;
    private @Nullable CompletableFuture<Void> spaceSignal;
    private Clock.@Nullable Scheduled recheck;
    private long recheckRound;

    // Work-in-progress counter: whoever moves it from 0 drains; others only ask for another pass.
    private final AtomicInteger wip = new AtomicInteger();
    private final AtomicBoolean closeCalled = new AtomicBoolean();
    // Confined to the single drainer (ordered by the wip counter).
    private int immediateWakeups;
    private long recheckNanos = FIRST_RECHECK_NANOS;

    /** Wraps {@code inner} behind a queue of at most {@code capacity} requests, on the system clock. */
    public Buffer(Service<Req, Res> inner, int capacity) {
        this(inner, capacity, Clock.system());
    }

    /**
     * Wraps {@code inner} behind a queue of at most {@code capacity} requests; {@code clock} paces
     * the rechecks of an inner service that says it is ready but refuses.
     */
    public Buffer(Service<Req, Res> inner, int capacity, Clock clock) {
        this.inner = Checks.notNull(inner, "inner");
        this.capacity = Checks.positive(capacity, "capacity");
        this.clock = Checks.notNull(clock, "clock");
    }

    @Override
    public CompletableFuture<Res> call(Req request) {
        CompletableFuture<Res> direct = tryDirect(request);
        if (direct != null) {
            return direct;
        }
        CompletableFuture<Res> queued = enqueue(request);
        if (queued != null) {
            return queued;
        }
        String reason;
        synchronized (lock) {
            reason = closed ? closedMessage : "";
        }
        if (!reason.isEmpty()) {
            return Futures.failed(new ServiceClosedException(reason));
        }
        return Futures.failed(
                new OverloadedException("buffer is full (capacity " + capacity + "); the request was not sent"));
    }

    /**
     * Sends the request straight through if nothing is queued and the inner service admits it now;
     * otherwise queues it if there is room, and returns {@code null} only when the queue is full
     * or the buffer closed.
     */
    @Override
    public @Nullable CompletableFuture<Res> tryCall(Req request) {
        CompletableFuture<Res> direct = tryDirect(request);
        return direct != null ? direct : enqueue(request);
    }

    private @Nullable CompletableFuture<Res> tryDirect(Req request) {
        synchronized (lock) {
            // Going ahead of queued requests would break their order.
            if (closed || !queue.isEmpty()) {
                return null;
            }
        }
        CompletableFuture<Res> admitted = tryInner(request);
        if (admitted != null && !admitted.isDone()) {
            admitted.whenComplete((response, failure) -> resumeAfterCompletion());
        }
        return admitted;
    }

    /**
     * A call this buffer sent has ended, so capacity below may have come back: resume a drain
     * that waits on the clock at once, instead of at its next recheck. (A drain parked on the
     * inner's {@code whenReady} is resumed by that signal.)
     */
    private void resumeAfterCompletion() {
        Clock.Scheduled pending;
        synchronized (lock) {
            if (closed || queue.isEmpty() || recheck == null) {
                return;
            }
            pending = recheck;
            recheck = null;
            parked = false;
        }
        pending.cancel();
        drain();
    }

    private @Nullable CompletableFuture<Res> enqueue(Req request) {
        Entry<Req, Res> entry = new Entry<>(request);
        synchronized (lock) {
            if (closed || queue.size() >= capacity) {
                return null;
            }
            queue.add(entry);
        }
        // However the caller's future completes (answer, cancellation, close), it leaves the queue.
        entry.result.whenComplete((response, failure) -> remove(entry));
        drain();
        return entry.result;
    }

    private void drain() {
        if (wip.getAndIncrement() != 0) {
            return;
        }
        immediateWakeups = 0;
        int missed = 1;
        do {
            drainQueue();
            missed = wip.addAndGet(-missed);
        } while (missed != 0);
    }

    private void drainQueue() {
        while (true) {
            Entry<Req, Res> head;
            synchronized (lock) {
                if (closed || parked) {
                    return;
                }
                head = queue.isEmpty() ? null : queue.getFirst();
            }
            if (head == null) {
                return;
            }
            if (head.result.isDone()) {
                // Cancelled while queued: skip it, it must never reach the inner service.
                remove(head);
                continue;
            }
            // The head stays queued while it is offered, so a concurrent call cannot overtake it.
            CompletableFuture<Res> admitted = tryInner(head.request);
            if (admitted != null) {
                immediateWakeups = 0;
                recheckNanos = FIRST_RECHECK_NANOS;
                remove(head);
                admitted.whenComplete((response, failure) -> {
                    Futures.completeFrom(head.result, response, failure);
                    resumeAfterCompletion();
                });
                // If the caller cancelled (or close failed it) during the hand-over, cancel below.
                head.result.whenComplete((response, failure) -> {
                    if (!admitted.isDone()) {
                        admitted.cancel(false);
                    }
                });
                continue;
            }
            if (innerReadiness() == Readiness.CLOSED) {
                shutDown("the buffer's inner service closed; the request was not sent");
                return;
            }
            CompletionStage<Void> ready;
            try {
                ready = inner.whenReady();
            } catch (RuntimeException e) {
                ready = CompletableFuture.completedFuture(null);
            }
            if (isDone(ready) && ++immediateWakeups > 1) {
                // Ready yet refusing (it routes per request, and this one's route is busy): looking
                // again at once would spin, and waiting for the next call could wait for ever, so
                // look again on the clock.
                parkOnClock();
                return;
            }
            synchronized (lock) {
                parked = true;
            }
            // Registered after parking, so even a signal that is already complete unparks us.
            ready.whenComplete((ignored, failure) -> {
                synchronized (lock) {
                    parked = false;
                }
                drain();
            });
            return;
        }
    }

    private void parkOnClock() {
        long delay = recheckNanos;
        recheckNanos = Math.min(LAST_RECHECK_NANOS, delay * 2);
        synchronized (lock) {
            if (closed) {
                return;
            }
            parked = true;
            // The task takes the lock, so it cannot run before `recheck` is set; one that a
            // completion already replaced (or close cancelled) finds another timer there and stops.
            long round = ++recheckRound;
            recheck = clock.schedule(Duration.ofNanos(delay), () -> {
                synchronized (lock) {
                    if (recheckRound != round || recheck == null) {
                        return;
                    }
                    recheck = null;
                    parked = false;
                }
                drain();
            });
        }
    }

    private @Nullable CompletableFuture<Res> tryInner(Req request) {
        try {
            return inner.tryCall(request);
        } catch (RuntimeException | Error e) {
            // A throwing inner service admitted and failed the request: the caller sees why.
            return Futures.failed(e);
        }
    }

    private Readiness innerReadiness() {
        try {
            return inner.readiness();
        } catch (RuntimeException e) {
            return Readiness.BUSY;
        }
    }

    private static boolean isDone(CompletionStage<Void> stage) {
        try {
            return stage.toCompletableFuture().isDone();
        } catch (UnsupportedOperationException e) {
            return false;
        }
    }

    private void remove(Entry<Req, Res> entry) {
        CompletableFuture<Void> signal = null;
        synchronized (lock) {
            if (queue.remove(entry)) {
                signal = spaceSignal;
                spaceSignal = null;
            }
        }
        if (signal != null) {
            signal.complete(null);
        }
    }

    /** Stops admitting and fails every queued call with {@code message}. */
    private void shutDown(String message) {
        List<Entry<Req, Res>> abandoned;
        CompletableFuture<Void> signal;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            closedMessage = message;
            abandoned = new ArrayList<>(queue);
            queue.clear();
            signal = spaceSignal;
            spaceSignal = null;
            if (recheck != null) {
                recheck.cancel();
                recheck = null;
            }
        }
        for (Entry<Req, Res> entry : abandoned) {
            entry.result.completeExceptionally(new ServiceClosedException(message));
        }
        if (signal != null) {
            signal.complete(null);
        }
    }

    /** {@code READY} while the queue has room, {@code BUSY} when it is full, {@code CLOSED} once closed. */
    @Override
    public Readiness readiness() {
        synchronized (lock) {
            if (closed) {
                return Readiness.CLOSED;
            }
        }
        if (innerReadiness() == Readiness.CLOSED) {
            return Readiness.CLOSED;
        }
        synchronized (lock) {
            return queue.size() < capacity ? Readiness.READY : Readiness.BUSY;
        }
    }

    /** Completes when a queue slot frees up or the buffer closes. */
    @Override
    public CompletionStage<Void> whenReady() {
        synchronized (lock) {
            if (closed || queue.size() < capacity) {
                return CompletableFuture.completedFuture(null);
            }
            if (spaceSignal == null) {
                spaceSignal = new CompletableFuture<>();
            }
            // A copy, so a caller cannot complete or cancel the signal other callers share.
            return spaceSignal.copy();
        }
    }

    /** Fails every queued call with {@link ServiceClosedException} and closes the inner service. */
    @Override
    public void close() {
        if (closeCalled.compareAndSet(false, true)) {
            shutDown("buffer closed; the request was not sent");
            inner.close();
        }
    }

    /** How many requests the queue holds at most. */
    public int capacity() {
        return capacity;
    }

    /** How many requests are queued now. */
    public int queued() {
        synchronized (lock) {
            return queue.size();
        }
    }

    @Override
    public String toString() {
        return "Buffer[capacity=" + capacity + ", queued=" + queued() + "]";
    }

    private static final class Entry<Req, Res> {
        final Req request;
        final CompletableFuture<Res> result = new CompletableFuture<>();

        Entry(Req request) {
            this.request = request;
        }
    }
}
