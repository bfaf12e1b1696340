package dev.belfry.map;

import dev.belfry.Checks;
import dev.belfry.Layer;
import dev.belfry.Service;
import java.util.function.Function;

/**
 * Applies a {@link MapRequest} with one function to every service it wraps.
 *
 * @param <Req> the request type callers send
 * @param <NewReq> the request type the inner service receives
 * @param <Res> the response type
 */
public final class MapRequestLayer<Req, NewReq, Res> implements Layer<Req, Res, NewReq, Res> {
    private final Function<? super Req, ? extends NewReq> function;

    private MapRequestLayer(Function<? super Req, ? extends NewReq> function) {
        this.function = Checks.notNull(function, "function");
    }

    /** A layer that rewrites every request with {@code function} before the inner service. */
    public static <Req, NewReq, Res> MapRequestLayer<Req, NewReq, Res> of(
            Function<? super Req, ? extends NewReq> function) {
        return new MapRequestLayer<>(function);
    }

    @Override
    public Service<Req, Res> wrap(Service<NewReq, Res> inner) {
        return new MapRequest<>(inner, function);
    }
}
