package dev.belfry.map;

import dev.belfry.Checks;
import dev.belfry.Layer;
import dev.belfry.Service;
import java.util.function.Function;

/**
 * Applies a {@link MapResponse} with one function to every service it wraps.
 *
 * @param <Req> the request type
 * @param <Res> the response type of the inner service
 * @param <NewRes> the response type callers receive
 */
public final class MapResponseLayer<Req, Res, NewRes> implements Layer<Req, NewRes, Req, Res> {
    private final Function<? super Res, ? extends NewRes> function;

    private MapResponseLayer(Function<? super Res, ? extends NewRes> function) {
        this.function = Checks.notNull(function, "function");
    }

    /** A layer that rewrites every successful response with {@code function}. */
    public static <Req, Res, NewRes> MapResponseLayer<Req, Res, NewRes> of(
            Function<? super Res, ? extends NewRes> function) {
        return new MapResponseLayer<>(function);
    }

    @Override
    public Service<Req, NewRes> wrap(Service<Req, Res> inner) {
        return new MapResponse<>(inner, function);
    }
}
