package dev.belfry.breaker;

import dev.belfry.Checks;
import dev.belfry.Futures;
import dev.belfry.Readiness;
import dev.belfry.Service;
import dev.belfry.event.ResilienceListener;
import dev.belfry.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
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
    private final ResilienceListener listener;
    private final OutcomeWindow window; // guarded by this

    // All guarded by this.
    private CircuitState state = CircuitState.CLOSED;
    private long generation;
    private int consecutiveFailures;
    private int opens;
    private long openUntil;
    private String openReason = "";
    private int probesInFlight;
    private int probeSuccesses;
    private @Nullable CompletableFuture<Void> readySignal;
    private Clock.@Nullable Scheduled readyTimer;
    /** Signals to complete once the lock is released; usually empty. */
    private final List<CompletableFuture<Void>> toWake = new ArrayList<>();

    private boolean closed;

    CircuitBreaker(Service<Req, Res> inner, BreakerSettings<Res> settings, Clock clock, ResilienceListener listener) {
        this.inner = Checks.notNull(inner, "inner");
        this.settings = Checks.notNull(settings, "settings");
        this.clock = Checks.notNull(clock, "clock");
        this.listener = ResilienceListener.guarded(listener);
        this.window = settings.newWindow(clock.nanoTime());
    }

    @Override
    public CompletableFuture<Res> call(Req request) {
        Permit permit = admit();
        if (permit == null) {
            return Futures.failed(rejection());
        }
        return track(permit, Futures.call(inner, request));
    }

    @Override
    public @Nullable CompletableFuture<Res> tryCall(Req request) {
        Permit permit = admit();
        if (permit == null) {
            return null;
        }
        CompletableFuture<Res> admitted;
        try {
            admitted = inner.tryCall(request);
        } catch (RuntimeException | Error e) {
            admitted = Futures.failed(e);
        }
        if (admitted == null) {
            // Not admitted below: give the permit back as if it had never been taken.
            if (permit.settle()) {
                settle(permit, false, false);
            }
            return null;
        }
        return track(permit, admitted);
    }

    /** Ties the permit to both the inner call and the caller's future: whichever ends first returns it. */
    private CompletableFuture<Res> track(Permit permit, CompletableFuture<Res> inflight) {
        CompletableFuture<Res> result = new CompletableFuture<>();
        inflight.whenComplete((response, failure) -> {
            if (permit.settle()) {
                Throwable cause = failure == null ? null : Futures.unwrap(failure);
                if (cause instanceof CancellationException) {
                    settle(permit, false, false);
                } else {
                    settle(permit, true, isFailure(response, cause));
                }
            }
            Futures.completeFrom(result, response, failure);
        });
        result.whenComplete((response, failure) -> {
            // The caller cancelled (or completed) the future before the inner call ended.
            if (permit.settle()) {
                settle(permit, false, false);
                inflight.cancel(false);
            }
        });
        return result;
    }

    private boolean isFailure(@Nullable Res response, @Nullable Throwable failure) {
        try {
            return settings.isFailure().test(response, failure);
        } catch (RuntimeException e) {
            // A broken classifier must not wedge the breaker: fall back to "failures fail".
            return failure != null;
        }
    }

    private @Nullable Permit admit() {
        try {
            synchronized (this) {
                refresh(clock.nanoTime());
                if (state == CircuitState.CLOSED) {
                    return new Permit(generation, false);
                }
                if (state == CircuitState.HALF_OPEN && probesInFlight < settings.halfOpenCalls()) {
                    probesInFlight++;
                    return new Permit(generation, true);
                }
                return null;
            }
        } finally {
            wake();
        }
    }

    private synchronized CircuitOpenException rejection() {
        long remaining = state == CircuitState.OPEN ? Math.max(0, openUntil - clock.nanoTime()) : 0;
        return new CircuitOpenException(openReason, Duration.ofNanos(remaining));
    }

    /** Records the end of an admitted call: {@code counted} false for cancellations and refusals. */
    private void settle(Permit permit, boolean counted, boolean failed) {
        try {
            synchronized (this) {
                if (permit.generation != generation) {
                    return; // admitted before the last state change: its outcome says nothing now
                }
                long now = clock.nanoTime();
                if (permit.probe) {
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

    /** Moves from open to half-open once the open interval has ended. */
    private void refresh(long now) {
        if (state == CircuitState.OPEN && now - openUntil >= 0 && !closed) {
            transition(CircuitState.HALF_OPEN, openReason, now);
        }
    }

    private void transition(CircuitState to, String reason, long now) {
        CircuitState from = state;
        state = to;
        generation++;
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
            case HALF_OPEN -> wakeLocked();
            case CLOSED -> {
                opens = 0;
                openReason = "";
                window.reset();
                consecutiveFailures = 0;
                wakeLocked();
            }
        }
        listener.onBreakerStateChange(from, to);
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
        if (open && readyTimer == null) {
            // The only timer the breaker runs, and only while someone waits.
            readyTimer = clock.schedule(Duration.ofNanos(openUntil - now), this::onOpenIntervalEnd);
        }
        return readySignal.copy();
    }

    private void onOpenIntervalEnd() {
        try {
            synchronized (this) {
                readyTimer = null;
                refresh(clock.nanoTime());
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

    /** One admission: which state period it belongs to, whether it is a probe, and whether it ended. */
    private static final class Permit {
        final long generation;
        final boolean probe;
        private final AtomicBoolean settled = new AtomicBoolean();

        Permit(long generation, boolean probe) {
            this.generation = generation;
            this.probe = probe;
        }

        /** True for exactly one caller: the one that returns this permit. */
        boolean settle() {
            return settled.compareAndSet(false, true);
        }
    }
}
