package dev.belfry.reconnect;

import dev.belfry.Service;
import java.util.concurrent.CompletionStage;

/**
 * Makes a new service, usually by opening a connection: what a {@link Reconnect} calls to (re)create
 * its inner service.
 *
 * <p>It must not block: it may run on a caller's thread or the clock's timer thread. Slow work
 * belongs in the returned stage. Throwing, returning {@code null}, or completing with {@code null}
 * or exceptionally all count as a failed connect.
 *
 * @param <Req> the request type of the services made
 * @param <Res> the response type of the services made
 */
@FunctionalInterface
public interface ServiceFactory<Req, Res> {

    /** Starts making a service and returns a stage that completes with it once it is usable. */
    CompletionStage<Service<Req, Res>> connect();
}
