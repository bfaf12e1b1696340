package dev.belfry;

import java.util.concurrent.CompletionStage;

/**
 * The base of a service that wraps another and whose capacity is the inner service's: readiness,
 * readiness signals and close are the inner service's. Subclasses implement {@code call} and, when
 * they can admit without waiting, {@code tryCall}. Most of the core's layers extend it; so can your
 * own layers and wrappers.
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
