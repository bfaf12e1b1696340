package dev.belfry;

/**
 * Wraps a service in another, adding one behaviour (a timeout, a limit, a retry...).
 *
 * <p>A layer is a reusable recipe: {@link #wrap} may be called many times, and each call returns a
 * new service around the given inner one. Layers that own shared state (a shared concurrency limit,
 * a rate limiter) share it across every service they wrap, and say so.
 *
 * @param <Req> the request type of the wrapping service
 * @param <Res> the response type of the wrapping service
 * @param <InReq> the request type of the inner service
 * @param <InRes> the response type of the inner service
 */
@FunctionalInterface
public interface Layer<Req, Res, InReq, InRes> {

    /** Returns a service that adds this layer's behaviour around {@code inner}. */
    Service<Req, Res> wrap(Service<InReq, InRes> inner);

    /**
     * Returns the layer that applies this one outside {@code inside}: requests pass through this
     * layer first.
     */
    default <R, S> Layer<Req, Res, R, S> then(Layer<InReq, InRes, R, S> inside) {
        Checks.notNull(inside, "inside");
        return inner -> wrap(inside.wrap(inner));
    }

    /** The layer that adds nothing. */
    static <Req, Res> Layer<Req, Res, Req, Res> identity() {
        return inner -> inner;
    }
}
