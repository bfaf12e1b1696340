package dev.belfry;

/**
 * Stacks layers around a service; the first layer added is the outermost and sees each request
 * first (Tower's rule).
 *
 * <pre>{@code
 * Service<Req, Res> client = ServiceBuilder.<Req, Res>builder()
 *     .timeout(Duration.ofSeconds(2))      // outermost: covers time queued below
 *     .concurrencyLimit(64)
 *     .service(transport);                 // innermost
 * }</pre>
 *
 * <p>Builders are immutable: every method returns a new builder, so a partial stack can be shared
 * and extended. Each convenience method is named after its layer and validates its arguments at
 * once, naming the parameter that is wrong.
 *
 * @param <Req> the request type of the finished service
 * @param <Res> the response type of the finished service
 * @param <InReq> the request type the next layer (or the inner service) receives
 * @param <InRes> the response type the next layer (or the inner service) returns
 */
public final class ServiceBuilder<Req, Res, InReq, InRes> {
    private final Layer<Req, Res, InReq, InRes> stack;

    private ServiceBuilder(Layer<Req, Res, InReq, InRes> stack) {
        this.stack = stack;
    }

    /** An empty builder for services of the given types. */
    public static <Req, Res> ServiceBuilder<Req, Res, Req, Res> builder() {
        return new ServiceBuilder<>(Layer.identity());
    }

    /** Adds {@code layer} inside every layer added so far. */
    public <R, S> ServiceBuilder<Req, Res, R, S> layer(Layer<InReq, InRes, R, S> layer) {
        Checks.notNull(layer, "layer");
        return new ServiceBuilder<>(stack.then(layer));
    }

    /** Wraps {@code inner} in every layer, the first added outermost. */
    public Service<Req, Res> service(Service<InReq, InRes> inner) {
        Checks.notNull(inner, "inner");
        return stack.wrap(inner);
    }

    /** The whole stack as one layer. */
    public Layer<Req, Res, InReq, InRes> toLayer() {
        return stack;
    }
}
