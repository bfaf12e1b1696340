package dev.belfry.map;

import dev.belfry.Checks;
import dev.belfry.Forwarding;
import dev.belfry.Futures;
import dev.belfry.Service;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Rewrites each failure with a function (to translate errors into a caller's vocabulary, add
 * context, or hide internals); responses pass through unchanged.
 *
 * <p>The function receives the unwrapped failure (never a {@link CompletionException}) and returns
 * the failure the caller sees. It never sees cancellation, which passes through unrewritten. If it
 * throws, or returns {@code null}, the call fails with that exception (or a {@link
 * NullPointerException}). It runs on the thread that completes the inner call and must not block.
 * Cancelling the returned future cancels the inner call. Thread-safe if the function is.
 *
 * @param <Req> the request type
 * @param <Res> the response type
 */
public final class MapError<Req, Res> extends Forwarding<Req, Res, Req, Res> {
    private final Function<? super Throwable, ? extends Throwable> function;

    /** Wraps {@code inner} so that every failure is rewritten by {@code function}. */
    public MapError(Service<Req, Res> inner, Function<? super Throwable, ? extends Throwable> function) {
        super(inner);
        this.function = Checks.notNull(function, "function");
    }

    @Override
    public CompletableFuture<Res> call(Req request) {
        return map(Futures.call(inner, request));
    }

    @Override
    public @Nullable CompletableFuture<Res> tryCall(Req request) {
        CompletableFuture<Res> admitted = inner.tryCall(request);
        return admitted == null ? null : map(admitted);
    }

    private CompletableFuture<Res> map(CompletableFuture<Res> inflight) {
        // One dependent stage: successes pass through it untouched, so the hot path costs no more
        // than MapResponse.
        CompletableFuture<Res> mapped = inflight.exceptionally(failure -> {
            throw new CompletionException(rewrite(failure));
        });
        if (!mapped.isDone()) {
            Futures.propagateCancellation(mapped, inflight);
        }
        return mapped;
    }

    private Throwable rewrite(Throwable failure) {
        Throwable cause = Futures.unwrap(failure);
        if (cause instanceof CancellationException) {
            return cause;
        }
        try {
            Throwable rewritten = function.apply(cause);
            return rewritten != null ? rewritten : new NullPointerException(function + " returned a null failure");
        } catch (RuntimeException | Error broken) {
            return broken;
        }
    }

    @Override
    public String toString() {
        return "MapError[" + function + "]";
    }
}
