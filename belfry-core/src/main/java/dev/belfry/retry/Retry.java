package dev.belfry.retry;

import dev.belfry.Checks;
import dev.belfry.Futures;
import dev.belfry.Readiness;
import dev.belfry.Service;
import dev.belfry.UnprocessedException;
import dev.belfry.event.ResilienceListener;
import dev.belfry.time.Clock;
import dev.belfry.timeout.Timeout;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
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
    private final ResilienceListener listener;

    Retry(
            Service<Req, Res> inner,
            RetryPolicy<Req, Res> policy,
            RetryBudget budget,
            Clock clock,
            ResilienceListener listener) {
        Checks.notNull(inner, "inner");
        this.policy = Checks.notNull(policy, "policy");
        this.budget = Checks.notNull(budget, "budget");
        this.clock = Checks.notNull(clock, "clock");
        this.listener = ResilienceListener.guarded(listener);
        Optional<Duration> attemptTimeout = policy.attemptTimeout();
        // Retry outside Timeout: the limit applies to each attempt, not to the whole.
        this.attempts = attemptTimeout.isPresent() ? new Timeout<>(inner, attemptTimeout.get(), clock) : inner;
    }

    @Override
    public CompletableFuture<Res> call(Req request) {
        Optional<Req> spare;
        try {
            spare = copyOf(request);
        } catch (RuntimeException e) {
            return Futures.failed(e);
        }
        budget.deposit();
        Execution execution = new Execution(request);
        execution.send(1, Futures.call(attempts, request), spare);
        return execution.result;
    }

    @Override
    public @Nullable CompletableFuture<Res> tryCall(Req request) {
        Optional<Req> spare;
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
        Execution execution = new Execution(request);
        execution.send(1, first, spare);
        return execution.result;
    }

    private Optional<Req> copyOf(Req request) {
        Optional<Req> copy = policy.copy(request);
        // A policy breaking its contract with null is read as "cannot copy": no retry, no failure.
        return copy != null ? copy : Optional.empty();
    }

    @Override
    public Readiness readiness() {
        return attempts.readiness();
    }

    @Override
    public CompletionStage<Void> whenReady() {
        return attempts.whenReady();
    }

    @Override
    public void close() {
        attempts.close();
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

    /** Releases a response nobody will receive. */
    private static void release(@Nullable Object response) {
        if (response instanceof AutoCloseable closeable) {
            try {
                closeable.close();
            } catch (Exception ignored) {
                // Nothing to do: the response was being thrown away.
            }
        }
    }

    /** The attempts of one request. */
    private final class Execution {
        final CompletableFuture<Res> result = new CompletableFuture<>();
        private final Req original;
        private @Nullable CompletableFuture<Res> inflight; // guarded by this
        private Clock.@Nullable Scheduled timer; // guarded by this

        Execution(Req original) {
            this.original = original;
            result.whenComplete((response, failure) -> {
                if (result.isCancelled()) {
                    abandon();
                }
            });
        }

        /** Cancels whatever is in progress: the attempt in flight or the backoff timer. */
        private void abandon() {
            CompletableFuture<Res> attempt;
            Clock.Scheduled pending;
            synchronized (this) {
                attempt = inflight;
                pending = timer;
                inflight = null;
                timer = null;
            }
            if (pending != null) {
                pending.cancel();
            }
            if (attempt != null) {
                attempt.cancel(false);
            }
        }

        void send(int attempt, CompletableFuture<Res> future, Optional<Req> spare) {
            synchronized (this) {
                inflight = future;
            }
            future.whenComplete((response, failure) -> onOutcome(attempt, spare, response, failure));
            // The caller may have cancelled before `inflight` was published; abandon() missed it.
            if (result.isDone()) {
                future.cancel(false);
            }
        }

        private void onOutcome(int attempt, Optional<Req> spare, @Nullable Res response, @Nullable Throwable failure) {
            if (result.isDone()) {
                release(response);
                return;
            }
            Throwable cause = failure == null ? null : Futures.unwrap(failure);
            boolean again;
            Duration delay = Duration.ZERO;
            try {
                again = spare.isPresent()
                        && !(cause instanceof CancellationException)
                        && safeToRepeat(cause)
                        && policy.shouldRetry(original, attempt, response, cause);
                if (again) {
                    delay = policy.backoff(attempt + 1);
                }
            } catch (RuntimeException e) {
                // A policy bug: fail loudly rather than guess.
                release(response);
                result.completeExceptionally(e);
                return;
            }
            if (!again) {
                finish(response, failure);
                return;
            }
            if (!budget.tryWithdraw()) {
                listener.onBudgetExhausted();
                finish(response, failure);
                return;
            }
            release(response);
            listener.onRetry(attempt + 1, cause);
            Req next = spare.get();
            synchronized (this) {
                inflight = null;
                // Scheduled under the lock: the task takes this lock, so it cannot start before
                // `timer` is set, and never runs on this thread.
                timer = clock.schedule(delay, () -> next(next, attempt + 1));
            }
            if (result.isDone()) {
                abandon();
            }
        }

        /** Whether the outcome allows repeating the request at all, whatever the policy says. */
        private boolean safeToRepeat(@Nullable Throwable cause) {
            // A response (no cause) is the policy's call; StandardRetryPolicy requires idempotency.
            return cause == null || cause instanceof UnprocessedException || policy.isIdempotent(original);
        }

        private void next(Req request, int attempt) {
            synchronized (this) {
                timer = null;
            }
            if (result.isDone()) {
                return;
            }
            Optional<Req> spare;
            try {
                spare = copyOf(request);
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
                return;
            }
            send(attempt, Futures.call(attempts, request), spare);
        }

        private void finish(@Nullable Res response, @Nullable Throwable failure) {
            if (!Futures.completeFrom(result, response, failure)) {
                release(response);
            }
        }
    }
}
