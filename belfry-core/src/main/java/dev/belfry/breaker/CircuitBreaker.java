package dev.belfry.breaker;

import dev.belfry.Checks;
import dev.belfry.Futures;
import dev.belfry.Readiness;
import dev.belfry.Service;
import dev.belfry.time.Clock;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BiConsumer;
import org.jspecify.annotations.Nullable;

/**
 * Stops sending requests to a service that keeps failing, and lets a few probes through after a
 * while to see whether it recovered.
 *
 * <p>{@link CircuitState#CLOSED Closed}, calls pass and their outcomes are counted; the circuit
 * opens after a number of consecutive failures, or when the failure rate over a sliding window
 * (of calls or of time) reaches a threshold once the window holds a minimum number of calls.
 * {@link CircuitState#OPEN Open}, calls fail at once with {@link CircuitOpenException}, {@link
 * #readiness} is {@link Readiness#BUSY} and {@link #tryCall} returns {@code null}, for an interval
 * drawn from a {@link dev.belfry.backoff.Backoff} (jittered, its ceiling growing each time the
 * circuit reopens). Then {@link CircuitState#HALF_OPEN half-open}: up to a bounded number of
 * probe calls pass at once; when enough of them succeed the circuit closes, and a failed probe
 * reopens it for a longer interval.
 *
 * <p>A call holds its admission until its future completes in any way: a response, a failure, the
 * caller cancelling it or completing it itself. A probe's permit therefore always comes back, which
 * Resilience4j's can fail to do for cancelled calls. Cancellation is neither a success nor a
 * failure. Outcomes of calls admitted before the last state change are ignored, so a slow call from
 * before the circuit opened cannot close it.
 *
 * <p>The move from open to half-open is observed lazily, from the clock, by the next call or
 * readiness check; a timer runs only while someone waits on {@link #whenReady}. Thread-safe; state
 * changes happen under a lock, and the listener hears them in order while it is held.
 */
public final class CircuitBreaker<Req, Res> implements Service<Req, Res> {
    private final Service<Req, Res> inner;
    private final BreakerSettings<Res> settings;
    private final Clock clock;
    private final BreakerListener listener;
    private final OutcomeWindow window; // guarded by this

    // All guarded by this.
    private CircuitState state = CircuitState.CLOSED;
    private long generation;
    private int consecutiveFailures;
    private int opens;
    private long openUntil;
    private long halfOpenUntil;
    private String openReason = "";
    private int probesInFlight;
    private int probeSuccesses;
    private @Nullable CompletableFuture<Void> readySignal;
    private Clock.@Nullable Scheduled readyTimer;
    /** Signals to complete once the lock is released; usually empty. */
    private final List<CompletableFuture<Void>> toWake = new ArrayList<>();

    private boolean closed;

    /** The generation while closed, else -1: admission reads it without the lock. */
    private volatile long closedGeneration;
    /**
     * The generation while closed with no failure in the window and the window full, else -1: a
     * success then changes nothing, so it is not recorded (and takes no lock).
     */
    private volatile long quietGeneration = -1;

    private static final long REJECTED = -1;
    private static final int PROBE = 1;
    private static final int SETTLED = 2;
    private static final VarHandle TICKET;

    static {
        try {
            TICKET = MethodHandles.lookup().findVarHandle(CircuitBreaker.Call.class, "ticket", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    CircuitBreaker(Service<Req, Res> inner, BreakerSettings<Res> settings, Clock clock, BreakerListener listener) {
        this.inner = Checks.notNull(inner, "inner");
        this.settings = Checks.notNull(settings, "settings");
        this.clock = Checks.notNull(clock, "clock");
        this.listener = BreakerListener.guarded(listener);
        this.window = settings.newWindow(clock.nanoTime());
    }

    @Override
    public CompletableFuture<Res> call(Req request) {
        long admitted = admit();
        if (admitted == REJECTED) {
            return Futures.failed(rejection());
        }
        return track((int) admitted, Futures.call(inner, request));
    }

    @Override
    public @Nullable CompletableFuture<Res> tryCall(Req request) {
        long admitted = admit();
        if (admitted == REJECTED) {
            return null;
        }
        int ticket = (int) admitted;
        CompletableFuture<Res> inflight;
        try {
            inflight = inner.tryCall(request);
        } catch (RuntimeException | Error e) {
            inflight = Futures.failed(e);
        }
        if (inflight == null) {
            // Not admitted below: give the permit back as if it had never been taken.
            settle(ticket, false, false);
            return null;
        }
        return track(ticket, inflight);
    }

    /** Ties the permit to both the inner call and the caller's future: whichever ends first returns it. */
    private CompletableFuture<Res> track(int ticket, CompletableFuture<Res> inflight) {
        if (inflight.isDone() && !inflight.isCompletedExceptionally()) {
            // A synchronous response: count it, then hand the caller the inner future itself. It is
            // complete, so there is no call left to cancel and no permit left to hold.
            Res response = inflight.getNow(null);
            settle(ticket, true, isFailure(response, null));
            return inflight;
        }
        Call call = new Call(ticket, inflight);
        inflight.whenComplete(call);
        return call;
    }

    private boolean isFailure(@Nullable Res response, @Nullable Throwable failure) {
        try {
            return settings.isFailure().test(response, failure);
        } catch (RuntimeException e) {
            // A broken classifier must not wedge the breaker: fall back to "failures fail".
            return failure != null;
        }
    }

    /** A ticket for one call (see {@link #ticket}), or {@link #REJECTED}. */
    private long admit() {
        long closedAt = closedGeneration;
        if (closedAt >= 0) {
            // Closed: admission needs neither the lock nor the clock.
            return ticket(closedAt, false) & 0xFFFF_FFFFL;
        }
        try {
            synchronized (this) {
                refresh(clock.nanoTime());
                if (state == CircuitState.CLOSED) {
                    return ticket(generation, false) & 0xFFFF_FFFFL;
                }
                if (state == CircuitState.HALF_OPEN && probesInFlight < settings.halfOpenCalls()) {
                    probesInFlight++;
                    return ticket(generation, true) & 0xFFFF_FFFFL;
                }
                return REJECTED;
            }
        } finally {
            wake();
        }
    }

    /**
     * One admission in an int: the state period it belongs to (the generation, modulo 2^30: a call
     * would have to outlive a billion state changes to be mistaken), whether it is a probe, and
     * (in a {@link Call}) whether its permit was returned.
     */
    private static int ticket(long generation, boolean probe) {
        return (int) (generation << 2) | (probe ? PROBE : 0);
    }

    /** Whether {@code ticket} was issued in state period {@code generation}; false for -1. */
    private static boolean issuedIn(int ticket, long generation) {
        return generation >= 0 && (ticket & ~(PROBE | SETTLED)) == ticket(generation, false);
    }

    private synchronized CircuitOpenException rejection() {
        long remaining = state == CircuitState.OPEN ? Math.max(0, openUntil - clock.nanoTime()) : 0;
        return new CircuitOpenException(openReason, Duration.ofNanos(remaining));
    }

    /** Records the end of an admitted call: {@code counted} false for cancellations and refusals. */
    private void settle(int ticket, boolean counted, boolean failed) {
        boolean probe = (ticket & PROBE) != 0;
        if (!probe && (!counted || (!failed && issuedIn(ticket, quietGeneration)))) {
            // Nothing to record: a cancelled call that holds no probe permit, or a success while
            // closed with a window full of successes, which would leave every count as it is.
            return;
        }
        try {
            synchronized (this) {
                if (!issuedIn(ticket, generation)) {
                    return; // admitted before the last state change: its outcome says nothing now
                }
                long now = clock.nanoTime();
                if (probe) {
                    probesInFlight--;
                    wakeLocked();
                }
                if (!counted) {
                    return;
                }
                if (state == CircuitState.HALF_OPEN) {
                    if (failed) {
                        transition(CircuitState.OPEN, "a probe call failed", now);
                    } else if (++probeSuccesses >= settings.halfOpenCalls()) {
                        transition(CircuitState.CLOSED, "", now);
                    }
                    return;
                }
                if (state == CircuitState.CLOSED) {
                    window.record(failed, now);
                    consecutiveFailures = failed ? consecutiveFailures + 1 : 0;
                    quietGeneration = consecutiveFailures == 0 && window.quiet() ? generation : -1;
                    if (!failed) {
                        return;
                    }
                    if (consecutiveFailures >= settings.consecutiveFailures()) {
                        transition(CircuitState.OPEN, consecutiveFailures + " consecutive failures", now);
                        return;
                    }
                    int calls = window.calls(now);
                    int failures = window.failures(now);
                    if (calls >= settings.minimumCalls() && failures >= settings.failureRateThreshold() * calls) {
                        transition(
                                CircuitState.OPEN,
                                failures + " failures in " + settings.describeWindow() + " (" + calls
                                        + " calls, threshold " + settings.failureRateThreshold() + ")",
                                now);
                    }
                }
            }
        } finally {
            wake();
        }
    }

    /**
     * Moves from open to half-open once the open interval has ended, and from half-open back to
     * open when probes in flight have not settled it within the half-open timeout.
     */
    private void refresh(long now) {
        if (closed) {
            return;
        }
        if (state == CircuitState.OPEN && now - openUntil >= 0) {
            transition(CircuitState.HALF_OPEN, openReason, now);
        } else if (state == CircuitState.HALF_OPEN && probesInFlight > 0 && now - halfOpenUntil >= 0) {
            transition(
                    CircuitState.OPEN,
                    "probe calls did not complete within "
                            + settings.halfOpenTimeout().toMillis() + " ms",
                    now);
        }
    }

    private void transition(CircuitState to, String reason, long now) {
        CircuitState from = state;
        state = to;
        generation++;
        closedGeneration = to == CircuitState.CLOSED ? generation : -1;
        quietGeneration = -1; // the window is reset, or unused, in every new state
        probesInFlight = 0;
        probeSuccesses = 0;
        switch (to) {
            case OPEN -> {
                opens++;
                openUntil = now + saturatedNanos(settings.openInterval().delay(opens));
                openReason = reason;
                window.reset();
                consecutiveFailures = 0;
            }
            case HALF_OPEN -> {
                halfOpenUntil = now + saturatedNanos(settings.halfOpenTimeout());
                wakeLocked();
            }
            case CLOSED -> {
                opens = 0;
                openReason = "";
                window.reset();
                consecutiveFailures = 0;
                wakeLocked();
            }
        }
        listener.onStateChange(from, to);
    }

    private static long saturatedNanos(Duration delay) {
        try {
            return Math.max(0, delay.toNanos());
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE / 2; // centuries: open "forever" without overflowing now + delay
        }
    }

    /** Marks the ready signal for completion (outside the lock) and cancels its timer. */
    private void wakeLocked() {
        if (readyTimer != null) {
            readyTimer.cancel();
            readyTimer = null;
        }
        if (readySignal != null) {
            toWake.add(readySignal);
            readySignal = null;
        }
    }

    /** Completes a signal marked by {@link #wakeLocked}; called after leaving the lock. */
    private void wake() {
        List<CompletableFuture<Void>> signals;
        synchronized (this) {
            if (toWake.isEmpty()) {
                return;
            }
            signals = List.copyOf(toWake);
            toWake.clear();
        }
        for (CompletableFuture<Void> signal : signals) {
            signal.complete(null);
        }
    }

    @Override
    public Readiness readiness() {
        Readiness below = inner.readiness();
        if (below == Readiness.CLOSED) {
            return below;
        }
        try {
            synchronized (this) {
                refresh(clock.nanoTime());
                if (state == CircuitState.OPEN
                        || (state == CircuitState.HALF_OPEN && probesInFlight >= settings.halfOpenCalls())) {
                    return Readiness.BUSY;
                }
                return below;
            }
        } finally {
            wake();
        }
    }

    @Override
    public CompletionStage<Void> whenReady() {
        CompletionStage<Void> mine;
        try {
            synchronized (this) {
                mine = waitForCircuit();
            }
        } finally {
            wake();
        }
        // Outside the lock: the inner service may take locks of its own.
        return mine != null ? mine : inner.whenReady();
    }

    /** A signal for the circuit to admit again, or null if it admits now (or is closed). */
    private @Nullable CompletionStage<Void> waitForCircuit() {
        long now = clock.nanoTime();
        refresh(now);
        if (closed) {
            return CompletableFuture.completedFuture(null);
        }
        boolean open = state == CircuitState.OPEN;
        boolean probesBusy = state == CircuitState.HALF_OPEN && probesInFlight >= settings.halfOpenCalls();
        if (!open && !probesBusy) {
            return null;
        }
        if (readySignal == null) {
            readySignal = new CompletableFuture<>();
        }
        armTimer(now);
        return readySignal.copy();
    }

    /**
     * The only timer the breaker runs, and only while someone waits: to the end of the open
     * interval, or to the half-open timeout while every probe slot is taken.
     */
    private void armTimer(long now) {
        if (readyTimer != null || readySignal == null) {
            return;
        }
        long until;
        if (state == CircuitState.OPEN) {
            until = openUntil;
        } else if (state == CircuitState.HALF_OPEN && probesInFlight >= settings.halfOpenCalls()) {
            until = halfOpenUntil;
        } else {
            return;
        }
        readyTimer = clock.schedule(Duration.ofNanos(until - now), this::onTimer);
    }

    private void onTimer() {
        try {
            synchronized (this) {
                readyTimer = null;
                long now = clock.nanoTime();
                refresh(now);
                // Half-open timed out into open: someone still waits, so time the new interval.
                armTimer(now);
            }
        } finally {
            wake();
        }
    }

    /** The current state (moving from open to half-open if the open interval has ended). */
    public CircuitState state() {
        try {
            synchronized (this) {
                refresh(clock.nanoTime());
                return state;
            }
        } finally {
            wake();
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            wakeLocked();
        }
        wake();
        inner.close();
    }

    @Override
    public synchronized String toString() {
        return "CircuitBreaker[" + state + "]";
    }

    /**
     * The caller's future for one admitted call, and that call's completion callback: returns the
     * permit when the call ends or when the caller cancels or completes this future first, and
     * then cancels the call.
     */
    private final class Call extends CompletableFuture<Res> implements BiConsumer<Res, Throwable> {
        private final CompletableFuture<Res> source;
        /**
         * The {@link #ticket}; for a probe, its {@link #SETTLED} bit is set, once, by whoever
         * returns the permit.
         */
        private volatile int ticket;

        Call(int ticket, CompletableFuture<Res> source) {
            this.ticket = ticket;
            this.source = source;
        }

        /** True for exactly one caller: the one that returns a probe's permit. */
        private boolean claim() {
            int current = ticket;
            return (current & SETTLED) == 0 && TICKET.compareAndSet(this, current, current | SETTLED);
        }

        /** The inner call ended: count its outcome unless the caller ended this future first. */
        @Override
        public void accept(@Nullable Res response, @Nullable Throwable failure) {
            if (isProbe() ? claim() : !isDone()) {
                Throwable cause = failure == null ? null : Futures.unwrap(failure);
                if (cause instanceof CancellationException) {
                    settle(ticket, false, false);
                } else {
                    settle(ticket, true, isFailure(response, cause));
                }
            }
            // Settling may wake readiness waiters on this thread, and one may cancel this call (a
            // buffer handing on a hedge's backup that wins): then the answer reaches no one.
            if (!Futures.completeFrom(this, response, failure) && failure == null) {
                Futures.discard(response);
            }
        }

        @Override
        public boolean complete(@Nullable Res value) {
            boolean completed = super.complete(value);
            if (completed) {
                abandoned();
            }
            return completed;
        }

        @Override
        public boolean completeExceptionally(Throwable failure) {
            boolean completed = super.completeExceptionally(failure);
            if (completed) {
                abandoned();
            }
            return completed;
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            boolean cancelled = super.cancel(mayInterruptIfRunning);
            if (cancelled) {
                abandoned();
            }
            return cancelled;
        }

        /** This future ended; if the caller ended it before the inner call did, give up the call. */
        private void abandoned() {
            if (isProbe()) {
                if (claim()) {
                    settle(ticket, false, false);
                    source.cancel(false);
                }
            } else if (!source.isDone()) {
                // No permit to return: a call that is not a probe is settled by its outcome
                // alone, which is not counted if this future ended first.
                source.cancel(false);
            }
        }

        private boolean isProbe() {
            return (ticket & PROBE) != 0;
        }
    }
}
