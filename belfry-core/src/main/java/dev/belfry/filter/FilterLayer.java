package dev.belfry.filter;

import dev.belfry.Checks;
import dev.belfry.Layer;
import dev.belfry.Service;

/**
 * Applies a {@link Filter} with one {@link RequestFilter} to every service it wraps.
 *
 * @param <Req> the request type callers send
 * @param <NewReq> the request type the inner service receives
 * @param <Res> the response type
 */
public final class FilterLayer<Req, NewReq, Res> implements Layer<Req, Res, NewReq, Res> {
    private final RequestFilter<? super Req, ? extends NewReq> filter;

    private FilterLayer(RequestFilter<? super Req, ? extends NewReq> filter) {
        this.filter = Checks.notNull(filter, "filter");
    }

    /** A layer that passes every request through {@code filter} before the inner service. */
    public static <Req, NewReq, Res> FilterLayer<Req, NewReq, Res> of(
            RequestFilter<? super Req, ? extends NewReq> filter) {
        return new FilterLayer<>(filter);
    }

    @Override
    public Service<Req, Res> wrap(Service<NewReq, Res> inner) {
        return new Filter<>(inner, filter);
    }
}
