package dev.belfry.shed;

import dev.belfry.Layer;
import dev.belfry.Service;

/** Applies {@link LoadShed} to every service it wraps. */
public final class LoadShedLayer<Req, Res> implements Layer<Req, Res, Req, Res> {
    private LoadShedLayer() {}

    /** A layer that sheds what the inner service cannot admit now. */
    public static <Req, Res> LoadShedLayer<Req, Res> of() {
        return new LoadShedLayer<>();
    }

    @Override
    public LoadShed<Req, Res> wrap(Service<Req, Res> inner) {
        return new LoadShed<>(inner);
    }
}
