package dev.belfry.map;

import dev.belfry.Checks;
import dev.belfry.Forwarding;
import dev.belfry.Futures;
import dev.belfry.Service;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Rewrites each request with a function before the inner service sees it.
 *
 * <p>The function runs on the caller's thread and must not block. If it throws, the call fails with
 * that exception and nothing reaches the inner service. {@link #tryCall} applies the function and
 * then offers the result to the inner service's {@code tryCall}, which may decline it, so the
 * function should have no side effects it cannot afford to repeat. Thread-safe if the function is.
 *
 * @param <Req> the request type callers send
 * @param <NewReq> the request type the inner service receives
 * @param <Res> the response type
 */
public final class MapRequest<Req, NewReq, Res> extends Forwarding<Req, Res, NewReq, Res> {
    private final Function<? super Req, ? extends NewReq> function;

    /** Wraps {@code inner} so that every request is rewritten by {@code function} first. */
    public MapRequest(Service<NewReq, Res> inner, Function<? super Req, ? extends NewReq> function) {
        super(inner);
        this.function = Checks.notNull(function, "function");
    }

    @Override
    public CompletableFuture<Res> call(Req request) {
        NewReq mapped;
        try {
            mapped = function.apply(request);
        } catch (RuntimeException | Error failure) {
            return Futures.failed(failure);
        }
        return Futures.call(inner, mapped);
    }

    @Override
    public @Nullable CompletableFuture<Res> tryCall(Req request) {
        NewReq mapped;
        try {
            mapped = function.apply(request);
        } catch (RuntimeException | Error failure) {
            // A broken function is an answer, not a lack of capacity.
            return Futures.failed(failure);
        }
        return inner.tryCall(mapped);
    }

    @Override
    public String toString() {
        return "MapRequest[" + function + "]";
    }
}
