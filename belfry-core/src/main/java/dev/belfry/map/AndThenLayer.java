package dev.belfry.map;

import dev.belfry.Checks;
import dev.belfry.Layer;
import dev.belfry.Service;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * Applies an {@link AndThen} with one function to every service it wraps.
 *
 * @param <Req> the request type
 * @param <Res> the response type of the inner service
 * @param <NewRes> the response type callers receive
 */
public final class AndThenLayer<Req, Res, NewRes> implements Layer<Req, NewRes, Req, Res> {
    private final Function<? super Res, ? extends CompletionStage<NewRes>> function;

    private AndThenLayer(Function<? super Res, ? extends CompletionStage<NewRes>> function) {
        this.function = Checks.notNull(function, "function");
    }

    /** A layer that passes every successful response to the asynchronous step {@code function}. */
    public static <Req, Res, NewRes> AndThenLayer<Req, Res, NewRes> of(
            Function<? super Res, ? extends CompletionStage<NewRes>> function) {
        return new AndThenLayer<>(function);
    }

    @Override
    public Service<Req, NewRes> wrap(Service<Req, Res> inner) {
        return new AndThen<>(inner, function);
    }
}
