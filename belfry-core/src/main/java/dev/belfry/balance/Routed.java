package dev.belfry.balance;

import dev.belfry.Checks;
import java.util.concurrent.CompletableFuture;

/**
 * A request a {@link Balancer} has handed to one of its endpoints: which endpoint admitted it, and
 * the response it will give.
 *
 * <p>The request has reached the endpoint, so a failure of {@code response} is the endpoint's (or
 * what lies behind it), never the balancer's; cancelling {@code response} cancels the endpoint's
 * call.
 *
 * @param endpoint the key of the endpoint that admitted the request, as discovery named it
 * @param response the endpoint's response
 * @param <Res> the response type
 */
public record Routed<Res>(Object endpoint, CompletableFuture<Res> response) {
    /** Validates that neither part is null. */
    public Routed {
        Checks.notNull(endpoint, "endpoint");
        Checks.notNull(response, "response");
    }
}
