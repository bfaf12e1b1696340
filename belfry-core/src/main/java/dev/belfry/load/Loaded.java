package dev.belfry.load;

import dev.belfry.Service;

/**
 * A service whose current load can be read: what a balancer compares to choose an endpoint.
 *
 * <p>Lower is better. Values are comparable only between services measured by the same {@link
 * Load}. Reading is cheap, never blocks and is safe from any thread.
 *
 * @param <Req> the request type
 * @param <Res> the response type
 */
public interface Loaded<Req, Res> extends Service<Req, Res> {

    /** The current load: lower means this service should get the next request. */
    double load();
}
