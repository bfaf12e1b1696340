package dev.belfry.filter;

import dev.belfry.Checks;
import dev.belfry.Forwarding;
import dev.belfry.Futures;
import dev.belfry.Readiness;
import dev.belfry.Service;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.jspecify.annotations.Nullable;

/**
 * Runs an {@link AsyncRequestFilter} on each request and calls the inner service with the request
 * it yields once the check completes; a failed check fails the call.
 *
 * <p>A rejected request never reaches the inner service, and the check's failure is the call's
 * failure unchanged. Cancelling the returned future while the check is pending cancels the check's
 * future and nothing reaches the inner service; once the inner call has started, cancellation
 * reaches it instead.
 *
 * <p><b>{@code tryCall}.</b> Returns {@code null} if the inner service is not {@link
 * Readiness#READY} now. Otherwise the check runs, and admission to the inner service is decided
 * when it completes: a check that completes at once is followed by the inner service's exact
 * {@code tryCall} (which may still return {@code null}); a check that completes later is followed
 * by the inner service's {@code call}, which waits for capacity if the inner service became busy
 * meanwhile. A check cannot be both pending and exact, so this is as exact as a slow check allows.
 *
 * <p>Thread-safe if the filter is.
 *
 * @param <Req> the request type callers send
 * @param <NewReq> the request type the inner service receives
 * @param <Res> the response type
 */
public final class AsyncFilter<Req, NewReq, Res> extends Forwarding<Req, Res, NewReq, Res> {
    private final AsyncRequestFilter<? super Req, ? extends NewReq> filter;

    /** Wraps {@code inner} so that every request passes {@code filter} first. */
    public AsyncFilter(Service<NewReq, Res> inner, AsyncRequestFilter<? super Req, ? extends NewReq> filter) {
        super(inner);
        this.filter = Checks.notNull(filter, "filter");
    }

    @Override
    public CompletableFuture<Res> call(Req request) {
        return admit(request, false);
    }

    @Override
    public @Nullable CompletableFuture<Res> tryCall(Req request) {
        if (inner.readiness() != Readiness.READY) {
            return null;
        }
        return admit(request, true);
    }

    private @Nullable CompletableFuture<Res> admit(Req request, boolean exact) {
        CompletableFuture<? extends NewReq> checking;
        try {
            CompletionStage<? extends NewReq> stage = filter.check(request);
            if (stage == null) {
                return Futures.failed(new NullPointerException(filter + " returned a null stage"));
            }
            checking = stage.toCompletableFuture();
        } catch (RuntimeException | Error rejection) {
            return Futures.failed(rejection);
        }
        if (checking.isDone()) {
            // Fast path: a check that has already answered needs no future of our own.
            NewReq checked;
            try {
                checked = checking.join();
            } catch (CompletionException | CancellationException rejection) {
                return failedFrom(rejection);
            }
            return exact ? inner.tryCall(checked) : Futures.call(inner, checked);
        }
        CompletableFuture<Res> result = new CompletableFuture<>();
        checking.whenComplete((checked, rejection) -> {
            if (rejection != null) {
                Futures.completeFrom(result, null, rejection);
                return;
            }
            if (result.isDone()) {
                // The caller cancelled while the check was pending: nothing may reach inner.
                return;
            }
            CompletableFuture<Res> inflight = Futures.call(inner, checked);
            inflight.whenComplete((response, failure) -> Futures.completeFrom(result, response, failure));
            // Registered after the isDone check above: if the caller cancels in between, this
            // callback runs at once and cancels the inner call, so no cancellation is lost.
            Futures.propagateCancellation(result, inflight);
        });
        Futures.propagateCancellation(result, checking);
        return result;
    }

    private static <Res> CompletableFuture<Res> failedFrom(Throwable rejection) {
        CompletableFuture<Res> result = new CompletableFuture<>();
        Futures.completeFrom(result, null, rejection);
        return result;
    }

    @Override
    public String toString() {
        return "AsyncFilter[" + filter + "]";
    }
}
