package dev.belfry.filter;

import dev.belfry.Checks;
import dev.belfry.Layer;
import dev.belfry.Service;

/**
 * Applies an {@link AsyncFilter} with one {@link AsyncRequestFilter} to every service it wraps.
 *
 * @param <Req> the request type callers send
 * @param <NewReq> the request type the inner service receives
 * @param <Res> the response type
 */
public final class AsyncFilterLayer<Req, NewReq, Res> implements Layer<Req, Res, NewReq, Res> {
    private final AsyncRequestFilter<? super Req, ? extends NewReq> filter;

    private AsyncFilterLayer(AsyncRequestFilter<? super Req, ? extends NewReq> filter) {
        this.filter = Checks.notNull(filter, "filter");
    }

    /** A layer that passes every request through the asynchronous {@code filter} first. */
    public static <Req, NewReq, Res> AsyncFilterLayer<Req, NewReq, Res> of(
            AsyncRequestFilter<? super Req, ? extends NewReq> filter) {
        return new AsyncFilterLayer<>(filter);
    }

    @Override
    public Service<Req, Res> wrap(Service<NewReq, Res> inner) {
        return new AsyncFilter<>(inner, filter);
    }
}
