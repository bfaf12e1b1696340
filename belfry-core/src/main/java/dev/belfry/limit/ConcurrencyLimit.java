package dev.belfry.limit;

import dev.belfry.Checks;
import dev.belfry.Futures;
import dev.belfry.Readiness;
import dev.belfry.Service;
import dev.belfry.internal.Relay;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Lets at most {@link Permits#max} calls be in flight in the inner service at once; the others wait
 * in line or are rejected.
 *
 * <p>{@link #call} takes a permit, waiting in the {@link Permits} queue if none is free (or failing
 * with {@link dev.belfry.OverloadedException} if the queue is full), then calls the inner service
 * and gives the permit back when that call completes in any way, before the caller sees the
 * outcome. Cancelling a call that is still queued takes it out of the queue: it never reaches the
 * inner service and never holds a permit. {@link #tryCall} takes a permit only if one is free now
 * and the inner service admits the request at once.
 *
 * <p><b>Permits held as long as the response.</b> Built with a {@code released} function ({@link
 * #ConcurrencyLimit(Service, Permits, Function)}, {@link ConcurrencyLimitLayer#heldUntil}), the
 * limit keeps a successful call's permit until the stage that function returns for the response
 * completes in any way: a connection's close, a streamed body's end. The limit then counts live
 * responses, not calls in flight. A failed or cancelled call gives its permit back at once; a
 * response that arrives after the caller cancelled is closed if it is {@link AutoCloseable} and
 * its permit given back at once. A {@code released} function that throws or returns null gives the
 * permit back at once too. {@link #tryCall} stays exact: it admits only with a permit free now.
 *
 * <p>The permits may be shared with other services (see {@link ConcurrencyLimitLayer#shared}).
 * Thread-safe.
 */
public final class ConcurrencyLimit<Req, Res> implements Service<Req, Res> {
    private final Service<Req, Res> inner;
    private final Permits permits;
    private final @Nullable Function<? super Res, ? extends @Nullable CompletionStage<?>> released;

    /** Wraps {@code inner}, admitting calls with {@code permits}; a permit is held while a call is in flight. */
    public ConcurrencyLimit(Service<Req, Res> inner, Permits permits) {
        this.inner = Checks.notNull(inner, "inner");
        this.permits = Checks.notNull(permits, "permits");
        this.released = null;
    }

    /**
     * Wraps {@code inner}, admitting calls with {@code permits}; a successful call's permit is held
     * until the stage {@code released} returns for its response completes (in any way).
     */
    public ConcurrencyLimit(
            Service<Req, Res> inner,
            Permits permits,
            Function<? super Res, ? extends @Nullable CompletionStage<?>> released) {
        this.inner = Checks.notNull(inner, "inner");
        this.permits = Checks.notNull(permits, "permits");
        this.released = Checks.notNull(released, "released");
    }

    @Override
    public CompletableFuture<Res> call(Req request) {
        if (permits.tryAcquire()) {
            return callHolding(request);
        }
        return Admission.afterwards(permits.acquire(), permits::release, () -> callHolding(request));
    }

    @Override
    public @Nullable CompletableFuture<Res> tryCall(Req request) {
        if (!permits.tryAcquire()) {
            return null;
        }
        CompletableFuture<Res> admitted;
        try {
            admitted = inner.tryCall(request);
        } catch (RuntimeException | Error e) {
            permits.release();
            throw e;
        }
        if (admitted == null) {
            permits.release();
            return null;
        }
        return track(admitted);
    }

    /** Calls the inner service with a permit held; the permit comes back when the call ends. */
    private CompletableFuture<Res> callHolding(Req request) {
        return track(Futures.call(inner, request));
    }

    private CompletableFuture<Res> track(CompletableFuture<Res> inflight) {
        Function<? super Res, ? extends @Nullable CompletionStage<?>> until = released;
        if (until != null) {
            return new HeldAsLongAsResponse<>(inflight, permits, until);
        }
        if (inflight.isDone()) {
            permits.release();
            return inflight;
        }
        return new Held<>(inflight, permits);
    }

    /**
     * The caller's future when a permit lives as long as the response: it goes back when the
     * response says it is released, or at once if the call fails or the caller is gone.
     */
    private static final class HeldAsLongAsResponse<Res> extends Relay<Res, Res> {
        private final Permits permits;
        private final Function<? super Res, ? extends @Nullable CompletionStage<?>> released;
        private final AtomicBoolean returned = new AtomicBoolean();

        HeldAsLongAsResponse(
                CompletableFuture<Res> inflight,
                Permits permits,
                Function<? super Res, ? extends @Nullable CompletionStage<?>> released) {
            super(inflight);
            this.permits = permits;
            this.released = released;
            attach();
        }

        @Override
        public void accept(@Nullable Res response, @Nullable Throwable failure) {
            if (failure != null) {
                giveBack();
                Futures.completeFrom(this, null, failure);
                return;
            }
            // Delivered first, so the permit's life starts with the caller owning the response.
            if (!complete(response)) {
                // The caller cancelled as the response arrived: nobody owns it, so nobody would
                // ever release it.
                giveBack();
                closeOrphan(response);
                return;
            }
            CompletionStage<?> end;
            try {
                end = released.apply(response);
            } catch (RuntimeException e) {
                System.getLogger(ConcurrencyLimit.class.getName())
                        .log(System.Logger.Level.WARNING, "released function failed; permit given back", e);
                end = null;
            }
            if (end == null) {
                giveBack();
            } else {
                end.whenComplete((ignored, error) -> giveBack());
            }
        }

        private void giveBack() {
            if (returned.compareAndSet(false, true)) {
                permits.release();
            }
        }

        private static void closeOrphan(@Nullable Object response) {
            if (response instanceof AutoCloseable closeable) {
                try {
                    closeable.close();
                } catch (Exception e) {
                    System.getLogger(ConcurrencyLimit.class.getName())
                            .log(System.Logger.Level.WARNING, "closing an unclaimed response failed", e);
                }
            }
        }
    }

    /** The caller's future while a permit is held; the permit goes back when the call ends. */
    private static final class Held<Res> extends Relay<Res, Res> {
        private final Permits permits;

        Held(CompletableFuture<Res> inflight, Permits permits) {
            super(inflight);
            this.permits = permits;
            attach();
        }

        @Override
        protected void onSettled() {
            // Released before the caller sees the outcome, so a follow-up call made from the
            // caller's callback finds the permit free.
            permits.release();
        }
    }

    @Override
    public Readiness readiness() {
        Readiness below = inner.readiness();
        if (below == Readiness.CLOSED) {
            return Readiness.CLOSED;
        }
        return permits.isFree() ? below : Readiness.BUSY;
    }

    /**
     * Completes when a permit frees up, or, while one is free, when the inner service may become
     * ready.
     */
    @Override
    public CompletionStage<Void> whenReady() {
        if (inner.readiness() == Readiness.CLOSED) {
            return CompletableFuture.completedFuture(null);
        }
        return permits.isFree() ? inner.whenReady() : permits.whenAvailable();
    }

    /** Closes the inner service. Calls still queued for a permit proceed to it when one frees. */
    @Override
    public void close() {
        inner.close();
    }

    /** The permits this limit admits calls with (possibly shared with other services). */
    public Permits permits() {
        return permits;
    }

    @Override
    public String toString() {
        return "ConcurrencyLimit[" + permits + "]";
    }
}
