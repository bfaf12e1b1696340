package dev.belfry.internal;

import dev.belfry.Checks;
import dev.belfry.Readiness;
import dev.belfry.Service;
import java.util.concurrent.CompletionStage;

/**
 * The base of a layer whose capacity is its inner service's: readiness, readiness signals and close
 * are the inner service's. Subclasses implement {@code call} and {@code tryCall}. Not API: layers in
 * this project use it; its shape may change.
 *
 * @param <Req> the request type of the layer
 * @param <Res> the response type of the layer
 * @param <InReq> the request type of the inner service
 * @param <InRes> the response type of the inner service
 */
public abstract class Forwarding<Req, Res, InReq, InRes> implements Service<Req, Res> {
    /** The wrapped service. */
    protected final Service<InReq, InRes> inner;

    protected Forwarding(Service<InReq, InRes> inner) {
        this.inner = Checks.notNull(inner, "inner");
    }

    @Override
    public Readiness readiness() {
        return inner.readiness();
    }

    @Override
    public CompletionStage<Void> whenReady() {
        return inner.whenReady();
    }

    @Override
    public void close() {
        inner.close();
    }
}
