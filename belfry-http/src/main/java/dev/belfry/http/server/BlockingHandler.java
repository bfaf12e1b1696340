package dev.belfry.http.server;

import dev.belfry.Service;
import dev.belfry.Services;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import java.util.function.Function;

/**
 * The one way to serve blocking code: each request runs on its own virtual thread, never on an
 * event loop.
 *
 * <p>The handler may block freely, for instance on {@code request.body().collectUtf8(cap).join()}
 * or a JDBC call. Cancelling the call (the client went away) interrupts its thread. Closing the
 * service stops new calls.
 */
public final class BlockingHandler {
    private BlockingHandler() {}

    /** A service that runs {@code handler} on a virtual thread per request. */
    public static Service<HttpRequest, HttpResponse> of(Function<HttpRequest, HttpResponse> handler) {
        return Services.blocking(handler);
    }
}
