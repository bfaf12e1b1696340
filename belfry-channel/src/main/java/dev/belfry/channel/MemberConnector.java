package dev.belfry.channel;

import java.util.concurrent.CompletionStage;

/**
 * Connects to one resolved address and yields a {@link PoolMember}: the only protocol-specific part
 * of a {@link WarmPool}.
 *
 * <p>The stage completes with the member once it can take requests (for a lazily connecting client,
 * such as a gRPC {@code ManagedChannel}, at once), or exceptionally with the connection error, which
 * the pool records against the address and answers with that address's backoff. Called on the
 * pool's serial executor: it must not block.
 *
 * @param <A> the address type
 * @param <Req> the request type
 * @param <Res> the response type
 */
@FunctionalInterface
public interface MemberConnector<A, Req, Res> {

    /** Starts connecting to {@code address}. */
    CompletionStage<? extends PoolMember<Req, Res>> connect(A address);
}
