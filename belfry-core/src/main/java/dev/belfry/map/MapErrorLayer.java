package dev.belfry.map;

import dev.belfry.Checks;
import dev.belfry.Layer;
import dev.belfry.Service;
import java.util.function.Function;

/**
 * Applies a {@link MapError} with one function to every service it wraps.
 *
 * @param <Req> the request type
 * @param <Res> the response type
 */
public final class MapErrorLayer<Req, Res> implements Layer<Req, Res, Req, Res> {
    private final Function<? super Throwable, ? extends Throwable> function;

    private MapErrorLayer(Function<? super Throwable, ? extends Throwable> function) {
        this.function = Checks.notNull(function, "function");
    }

    /** A layer that rewrites every failure with {@code function}. */
    public static <Req, Res> MapErrorLayer<Req, Res> of(Function<? super Throwable, ? extends Throwable> function) {
        return new MapErrorLayer<>(function);
    }

    @Override
    public Service<Req, Res> wrap(Service<Req, Res> inner) {
        return new MapError<>(inner, function);
    }
}
