package dev.belfry.map;

import dev.belfry.Checks;
import dev.belfry.Forwarding;
import dev.belfry.Futures;
import dev.belfry.Service;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Runs an asynchronous step after each successful response (decode a body, fetch a related
 * record) and completes with the step's result; failures skip the step and pass through unchanged.
 *
 * <p>The function runs on the thread that completes the inner call and must not block; the work it
 * starts completes its stage. If the function throws or returns {@code null}, or its stage fails,
 * the call fails with that exception. Cancelling the returned future cancels the inner call while
 * it runs, and the step's future while the step runs. Thread-safe if the function is.
 *
 * @param <Req> the request type
 * @param <Res> the response type of the inner service
 * @param <NewRes> the response type callers receive
 */
public final class AndThen<Req, Res, NewRes> extends Forwarding<Req, NewRes, Req, Res> {
    private final Function<? super Res, ? extends CompletionStage<NewRes>> function;

    /** Wraps {@code inner} so that every response is passed to the asynchronous {@code function}. */
    public AndThen(Service<Req, Res> inner, Function<? super Res, ? extends CompletionStage<NewRes>> function) {
        super(inner);
        this.function = Checks.notNull(function, "function");
    }

    @Override
    public CompletableFuture<NewRes> call(Req request) {
        return andThen(Futures.call(inner, request));
    }

    @Override
    public @Nullable CompletableFuture<NewRes> tryCall(Req request) {
        CompletableFuture<Res> admitted = inner.tryCall(request);
        return admitted == null ? null : andThen(admitted);
    }

    private CompletableFuture<NewRes> andThen(CompletableFuture<Res> inflight) {
        CompletableFuture<NewRes> result = new CompletableFuture<>();
        inflight.whenComplete((response, failure) -> {
            if (failure != null) {
                Futures.completeFrom(result, null, failure);
                return;
            }
            if (result.isDone()) {
                // Cancelled just as the response arrived: do not start the step.
                return;
            }
            CompletableFuture<NewRes> step;
            try {
                CompletionStage<NewRes> stage = function.apply(response);
                if (stage == null) {
                    result.completeExceptionally(new NullPointerException(function + " returned a null stage"));
                    return;
                }
                step = stage.toCompletableFuture();
            } catch (RuntimeException | Error broken) {
                result.completeExceptionally(broken);
                return;
            }
            step.whenComplete((value, stepFailure) -> Futures.completeFrom(result, value, stepFailure));
            // Registered after the isDone check: a cancellation in between runs this at once.
            Futures.propagateCancellation(result, step);
        });
        Futures.propagateCancellation(result, inflight);
        return result;
    }

    @Override
    public String toString() {
        return "AndThen[" + function + "]";
    }
}
