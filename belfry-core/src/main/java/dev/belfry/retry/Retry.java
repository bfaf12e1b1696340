package dev.belfry.retry;

import dev.belfry.Checks;
import dev.belfry.Futures;
import dev.belfry.Readiness;
import dev.belfry.Service;
import dev.belfry.ServiceClosedException;
import dev.belfry.UnprocessedException;
import dev.belfry.time.Clock;
import dev.belfry.timeout.Timeout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import org.jspecify.annotations.Nullable;

/**
 * Repeats a request that failed (or got a response its {@link RetryPolicy} rejects), waiting a
 * backoff between attempts, within a {@link RetryBudget}.
 *
 * <p>The returned future completes once, with the outcome of the last attempt made. A failure that
 * may have reached the server is retried only for requests the policy calls idempotent; an {@link
 * UnprocessedException} is retried for any request. When the budget refuses a retry the call ends
 * at once with the last real outcome (the failure or response of the last attempt), never a
 * budget error that would hide it.
 *
 * <p>Cancelling the returned future cancels the attempt in flight or the pending backoff timer. A
 * response that is not returned (a rejected response that gets retried, a response that arrives
 * after the caller gave up) is closed if it is {@link AutoCloseable}, so its resources are released.
 * Thread-safe.
 */
public final class Retry<Req, Res> implements Service<Req, Res> {
    private final Service<Req, Res> attempts;
    private final RetryPolicy<Req, Res> policy;
    private final RetryBudget budget;
    private final Clock clock;
    private final RetryListener listener;
    /** The policy sends a request again as it is, so no copy need be asked for. */
    private final boolean resendsAsIs;

    Retry(
            Service<Req, Res> inner,
            RetryPolicy<Req, Res> policy,
            RetryBudget budget,
            Clock clock,
            RetryListener listener) {
        Checks.notNull(inner, "inner");
        this.policy = Checks.notNull(policy, "policy");
        this.budget = Checks.notNull(budget, "budget");
        this.clock = Checks.notNull(clock, "clock");
        this.listener = RetryListener.guarded(listener);
        this.resendsAsIs = policy instanceof StandardRetryPolicy<?, ?> standard && standard.resendsAsIs();
        Optional<Duration> attemptTimeout = policy.attemptTimeout();
        // Retry outside Timeout: the limit applies to each attempt, not to the whole.
        this.attempts = attemptTimeout.isPresent() ? new Timeout<>(inner, attemptTimeout.get(), clock) : inner;
    }

    @Override
    public CompletableFuture<Res> call(Req request) {
        Req spare;
        try {
            spare = copyOf(request);
        } catch (RuntimeException e) {
            return Futures.failed(e);
        }
        budget.deposit();
        return follow(request, spare, Futures.call(attempts, request));
    }

    @Override
    public @Nullable CompletableFuture<Res> tryCall(Req request) {
        Req spare;
        CompletableFuture<Res> first;
        try {
            spare = copyOf(request);
            first = attempts.tryCall(request);
        } catch (RuntimeException e) {
            return Futures.failed(e);
        }
        if (first == null) {
            return null;
        }
        budget.deposit();
        return follow(request, spare, first);
    }

    /** The copy of {@code request} for a later attempt, or null if it cannot be sent again. */
    private @Nullable Req copyOf(Req request) {
        if (resendsAsIs) {
            return request;
        }
        Optional<Req> copy = policy.copy(request);
        // A policy breaking its contract with null is read as "cannot copy": no retry, no failure.
        return copy != null ? copy.orElse(null) : null;
    }

    /** The caller's future for a request whose first attempt is {@code first}. */
    private CompletableFuture<Res> follow(Req request, @Nullable Req spare, CompletableFuture<Res> first) {
        if (first.isDone() && !first.isCompletedExceptionally()) {
            // The attempt already succeeded (a synchronous service): decide now. If its response
            // is final, the attempt itself is the caller's future; nothing is left to cancel.
            Res response = first.getNow(null);
            boolean again;
            try {
                again = spare != null && safeToRepeat(request, null) && policy.shouldRetry(request, 1, response, null);
            } catch (RuntimeException e) {
                // A policy bug: fail loudly rather than guess.
                Futures.discard(response);
                return Futures.failed(e);
            }
            if (!again) {
                return first;
            }
            Execution execution = new Execution(request, null);
            execution.retry(1, spare, response, null, null);
            return execution;
        }
        Execution execution = new Execution(request, resendsAsIs ? first : null);
        execution.send(1, first, spare);
        return execution;
    }

    /** Whether the outcome allows repeating the request at all, whatever the policy says. */
    private boolean safeToRepeat(Req original, @Nullable Throwable cause) {
        // A response (no cause) is the policy's call; StandardRetryPolicy requires idempotency.
        return cause == null || cause instanceof UnprocessedException || policy.isIdempotent(original);
    }

    // Calls waiting out a backoff, so close() can stop their timers, each with the failure that
    // made it wait (empty for a response the policy retried). Kept here rather than in a field of
    // every call: only calls in a backoff pay for it.
    private final ConcurrentHashMap<Execution, Optional<Throwable>> backingOff = new ConcurrentHashMap<>();
    private volatile boolean closed;

    @Override
    public Readiness readiness() {
        return attempts.readiness();
    }

    @Override
    public CompletionStage<Void> whenReady() {
        return attempts.whenReady();
    }

    /**
     * Closes the inner service; calls waiting out a backoff stop waiting and complete with the
     * failure that made them retry (or {@link ServiceClosedException} if it was a response the
     * policy retried), so no timer of this layer outlives it. Later failures are not retried.
     */
    @Override
    public void close() {
        closed = true;
        attempts.close();
        for (Execution execution : backingOff.keySet()) {
            execution.stopWaiting();
        }
    }

    /** The policy deciding retries. */
    public RetryPolicy<Req, Res> policy() {
        return policy;
    }

    /** The budget retries spend. */
    public RetryBudget budget() {
        return budget;
    }

    @Override
    public String toString() {
        return "Retry[" + policy + ", " + budget + "]";
    }

    private static final VarHandle CURRENT;

    static {
        try {
            CURRENT = MethodHandles.lookup().findVarHandle(Retry.Execution.class, "current", Object.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** An attempt in flight: its number, the copy for the next one, and its call. */
    private record Attempt<Req, Res>(int number, @Nullable Req spare, CompletableFuture<Res> call) {}

    /**
     * The attempts of one request, and the caller's future for them: one object per request, which
     * is its attempts' completion callback and carries the caller's cancellation down to them.
     */
    private final class Execution extends CompletableFuture<Res> implements BiConsumer<Res, Throwable> {
        private final Req original;
        /**
         * What is in progress: the first attempt's future when the request is sent again as it is
         * (the common case, kept to one field), an {@link Attempt} otherwise, the backoff timer, or
         * null. Taken with an atomic swap by whoever ends it; the backoff timer is set under the
         * lock, see {@link #retry}.
         */
        private volatile @Nullable Object current;

        /** {@code first}: the first attempt, if {@link #send} will be called with it and the request itself. */
        Execution(Req original, @Nullable CompletableFuture<Res> first) {
            this.original = original;
            // Set before anyone can see this execution, so the first send needs no fence.
            this.current = first;
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            boolean cancelled = super.cancel(mayInterruptIfRunning);
            if (cancelled) {
                abandon();
            }
            return cancelled;
        }

        @Override
        public boolean completeExceptionally(Throwable failure) {
            boolean completed = super.completeExceptionally(failure);
            if (completed && isCancelled()) {
                abandon();
            }
            return completed;
        }

        /** Cancels whatever is in progress: the attempt in flight or the backoff timer. */
        private void abandon() {
            backingOff.remove(this);
            Object pending = current == null ? null : CURRENT.getAndSet(this, null);
            if (pending instanceof Clock.Scheduled timer) {
                timer.cancel();
            } else if (pending instanceof CompletableFuture<?> attempt) {
                attempt.cancel(false);
            } else if (pending instanceof Attempt<?, ?> attempt) {
                attempt.call().cancel(false);
            }
        }

        void send(int attempt, CompletableFuture<Res> future, @Nullable Req spare) {
            if (attempt == 1 && resendsAsIs) {
                // Published by the constructor: nobody could cancel before.
                future.whenComplete(this);
                return;
            }
            current = new Attempt<>(attempt, spare, future);
            future.whenComplete(this);
            // The caller may have cancelled before `current` was published; abandon() missed it.
            if (isDone()) {
                future.cancel(false);
            }
        }

        /** The attempt in flight ended. */
        @Override
        @SuppressWarnings("unchecked") // current holds only this execution's attempts
        public void accept(@Nullable Res response, @Nullable Throwable failure) {
            // Left in place: cancelling an attempt that ended does nothing, and a retry replaces it.
            Object pending = current;
            if (pending instanceof Attempt<?, ?> attempt) {
                onOutcome(attempt.number(), (Req) attempt.spare(), response, failure);
            } else {
                onOutcome(1, original, response, failure);
            }
        }

        private void onOutcome(int attempt, @Nullable Req spare, @Nullable Res response, @Nullable Throwable failure) {
            if (isDone()) {
                Futures.discard(response);
                return;
            }
            Throwable cause = failure == null ? null : Futures.unwrap(failure);
            boolean again;
            try {
                again = spare != null
                        && !(cause instanceof CancellationException)
                        && safeToRepeat(original, cause)
                        && policy.shouldRetry(original, attempt, response, cause);
            } catch (RuntimeException e) {
                // A policy bug: fail loudly rather than guess.
                Futures.discard(response);
                completeExceptionally(e);
                return;
            }
            if (!again) {
                finish(response, failure);
                return;
            }
            retry(attempt, spare, response, failure, cause);
        }

        /** Makes attempt {@code attempt + 1} after the backoff, if the budget allows it. */
        void retry(
                int attempt,
                Req spare,
                @Nullable Res response,
                @Nullable Throwable failure,
                @Nullable Throwable cause) {
            Duration delay;
            try {
                delay = policy.backoff(attempt + 1);
            } catch (RuntimeException e) {
                // A policy bug: fail loudly rather than guess.
                Futures.discard(response);
                completeExceptionally(e);
                return;
            }
            if (!budget.tryWithdraw()) {
                listener.onBudgetExhausted();
                finish(response, failure);
                return;
            }
            if (closed) {
                finish(response, failure);
                return;
            }
            Futures.discard(response);
            listener.onRetry(attempt + 1, cause);
            backingOff.put(this, Optional.ofNullable(failure));
            synchronized (this) {
                // Scheduled under the lock: the task takes this lock, so it cannot start before
                // `current` is set, and never runs on this thread.
                current = clock.schedule(delay, () -> next(spare, attempt + 1));
            }
            if (isDone() || closed) {
                stopWaiting();
            }
        }

        /** Closed while waiting out a backoff: stops the timer and ends with the reason it waited. */
        void stopWaiting() {
            Optional<Throwable> reason = backingOff.remove(this);
            abandon();
            completeExceptionally(
                    reason != null && reason.isPresent()
                            ? reason.get()
                            : new ServiceClosedException("retry closed while waiting to repeat the request"));
        }

        private void next(Req request, int attempt) {
            backingOff.remove(this);
            synchronized (this) {
                current = null;
            }
            if (isDone()) {
                return;
            }
            Req spare;
            try {
                spare = copyOf(request);
            } catch (RuntimeException e) {
                completeExceptionally(e);
                return;
            }
            send(attempt, Futures.call(attempts, request), spare);
        }

        private void finish(@Nullable Res response, @Nullable Throwable failure) {
            if (!Futures.completeFrom(this, response, failure)) {
                Futures.discard(response);
            }
        }
    }
}
