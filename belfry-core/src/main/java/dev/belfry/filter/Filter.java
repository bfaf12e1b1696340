package dev.belfry.filter;

import dev.belfry.Checks;
import dev.belfry.Forwarding;
import dev.belfry.Futures;
import dev.belfry.Service;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * Runs a {@link RequestFilter} on each request before the inner service sees it, forwarding the
 * request it returns and failing the call with whatever it throws.
 *
 * <p>A rejected request never reaches the inner service, and the filter's exception is the call's
 * failure unchanged. {@link #tryCall} runs the filter first: a rejection is an answer, so it comes
 * back as a failed future rather than {@code null}; an admitted request is then offered to the
 * inner service's {@code tryCall}, which may still decline it. Thread-safe if the filter is.
 *
 * @param <Req> the request type callers send
 * @param <NewReq> the request type the inner service receives
 * @param <Res> the response type
 */
public final class Filter<Req, NewReq, Res> extends Forwarding<Req, Res, NewReq, Res> {
    private final RequestFilter<? super Req, ? extends NewReq> filter;

    /** Wraps {@code inner} so that every request passes {@code filter} first. */
    public Filter(Service<NewReq, Res> inner, RequestFilter<? super Req, ? extends NewReq> filter) {
        super(inner);
        this.filter = Checks.notNull(filter, "filter");
    }

    @Override
    public CompletableFuture<Res> call(Req request) {
        NewReq checked;
        try {
            checked = filter.check(request);
        } catch (Exception | Error rejection) {
            return rejected(rejection);
        }
        return Futures.call(inner, checked);
    }

    @Override
    public @Nullable CompletableFuture<Res> tryCall(Req request) {
        NewReq checked;
        try {
            checked = filter.check(request);
        } catch (Exception | Error rejection) {
            return rejected(rejection);
        }
        return inner.tryCall(checked);
    }

    private static <Res> CompletableFuture<Res> rejected(Throwable rejection) {
        if (rejection instanceof InterruptedException) {
            // The filter was interrupted on the caller's thread; keep the caller's interrupt status.
            Thread.currentThread().interrupt();
        }
        return Futures.failed(rejection);
    }

    @Override
    public String toString() {
        return "Filter[" + filter + "]";
    }
}
