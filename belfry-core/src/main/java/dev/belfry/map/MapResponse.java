package dev.belfry.map;

import dev.belfry.Checks;
import dev.belfry.Forwarding;
import dev.belfry.Futures;
import dev.belfry.Service;
import dev.belfry.internal.Relay;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Rewrites each successful response with a function; failures pass through unchanged.
 *
 * <p>The function runs on the thread that completes the inner call and must not block. If it
 * throws, the call fails with that exception. Cancelling the returned future cancels the inner
 * call. One dependent stage per call, so it is cheap on the hot path. Thread-safe if the function
 * is.
 *
 * @param <Req> the request type
 * @param <Res> the response type of the inner service
 * @param <NewRes> the response type callers receive
 */
public final class MapResponse<Req, Res, NewRes> extends Forwarding<Req, NewRes, Req, Res> {
    private final Function<? super Res, ? extends NewRes> function;

    /** Wraps {@code inner} so that every response is rewritten by {@code function}. */
    public MapResponse(Service<Req, Res> inner, Function<? super Res, ? extends NewRes> function) {
        super(inner);
        this.function = Checks.notNull(function, "function");
    }

    @Override
    public CompletableFuture<NewRes> call(Req request) {
        return map(Futures.call(inner, request));
    }

    @Override
    public @Nullable CompletableFuture<NewRes> tryCall(Req request) {
        CompletableFuture<Res> admitted = inner.tryCall(request);
        return admitted == null ? null : map(admitted);
    }

    private CompletableFuture<NewRes> map(CompletableFuture<Res> inflight) {
        if (inflight.isDone() && !inflight.isCompletedExceptionally()) {
            // Answered already: map now, without a relay.
            try {
                return CompletableFuture.completedFuture(function.apply(inflight.getNow(null)));
            } catch (RuntimeException | Error e) {
                return Futures.failed(e);
            }
        }
        return new Mapped<>(inflight, function);
    }

    /** The caller's future: the inner response mapped, or the inner failure unchanged. */
    private static final class Mapped<Res, NewRes> extends Relay<Res, NewRes> {
        private final Function<? super Res, ? extends NewRes> function;

        Mapped(CompletableFuture<Res> inflight, Function<? super Res, ? extends NewRes> function) {
            super(inflight);
            this.function = function;
            attach();
        }

        @Override
        public void accept(@Nullable Res value, @Nullable Throwable failure) {
            if (failure != null) {
                Futures.completeFrom(this, null, failure);
                return;
            }
            NewRes mapped;
            try {
                mapped = function.apply(value);
            } catch (RuntimeException | Error e) {
                completeExceptionally(e);
                return;
            }
            complete(mapped);
        }
    }

    @Override
    public String toString() {
        return "MapResponse[" + function + "]";
    }
}
