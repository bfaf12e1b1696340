package dev.belfry.proxy.l4;

import dev.belfry.Forwarding;
import dev.belfry.Futures;
import dev.belfry.Service;
import dev.belfry.retry.RetryBudget;
import dev.belfry.retry.RetryListener;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * Retries a failed backend connect on another backend, at once, at most {@code retries} times and
 * within a {@link RetryBudget}.
 *
 * <p>Only {@link ConnectFailedException}s are retried: the client's bytes were certainly never sent.
 * A retry first asks the balancer, without waiting, for a backend this request has not tried (the
 * backends refuse repeats); if none can take it now, it asks again allowing repeats, which may wait
 * for capacity as a first attempt does. The core retry layer cannot say "another endpoint", hence
 * this small layer over the balancer. Each retry, and each retry the budget refused, is reported
 * to a {@link RetryListener}. Cancelling the future cancels the attempt in flight. Thread-safe.
 */
final class ConnectRetry extends Forwarding<ConnectRequest, BackendConnection, ConnectRequest, BackendConnection> {
    private final int retries;
    private final RetryBudget budget;
    private final RetryListener listener;

    ConnectRetry(
            Service<ConnectRequest, BackendConnection> inner, int retries, RetryBudget budget, RetryListener listener) {
        super(inner);
        this.retries = retries;
        this.budget = budget;
        this.listener = RetryListener.guarded(listener);
    }

    @Override
    public CompletableFuture<BackendConnection> call(ConnectRequest request) {
        budget.deposit();
        Attempts attempts = new Attempts(request);
        attempts.follow(Futures.call(inner, request), 0);
        return attempts.result;
    }

    /** The attempts of one request. */
    private final class Attempts {
        final ConnectRequest request;
        final CompletableFuture<BackendConnection> result = new CompletableFuture<>();
        volatile @Nullable CompletableFuture<BackendConnection> current;

        Attempts(ConnectRequest request) {
            this.request = request;
            result.whenComplete((connection, failure) -> {
                CompletableFuture<BackendConnection> inflight = current;
                if (failure instanceof CancellationException && inflight != null) {
                    inflight.cancel(false);
                }
            });
        }

        void follow(CompletableFuture<BackendConnection> attempt, int retried) {
            current = attempt;
            attempt.whenComplete((connection, failure) -> {
                if (failure == null) {
                    if (!result.complete(connection)) {
                        connection.channel().close();
                    }
                    return;
                }
                if (result.isDone()) {
                    return;
                }
                Throwable cause = Futures.unwrap(failure);
                if (cause instanceof ConnectFailedException && retried < retries && withdraw()) {
                    listener.onRetry(retried + 2, cause);
                    request.avoidTried(true);
                    CompletableFuture<BackendConnection> next;
                    try {
                        next = inner.tryCall(request);
                    } catch (RuntimeException e) {
                        next = Futures.failed(e);
                    }
                    request.avoidTried(false);
                    if (next == null) {
                        next = Futures.call(inner, request);
                    }
                    follow(next, retried + 1);
                    if (result.isCancelled()) {
                        next.cancel(false);
                    }
                    return;
                }
                Futures.completeFrom(result, null, cause);
            });
        }
    }

    /** Takes a token from the budget, telling the listener when there was none. */
    private boolean withdraw() {
        if (budget.tryWithdraw()) {
            return true;
        }
        listener.onBudgetExhausted();
        return false;
    }

    @Override
    public String toString() {
        return "ConnectRetry[" + retries + ", " + inner + "]";
    }
}
