package dev.belfry.steer;

/**
 * Chooses which of a {@link Steer}'s services handles a request.
 *
 * <p>A strategy, so a custom one is a lambda: by request type, by a hash of a key, by a header.
 * It runs on the caller's thread for every request, so it must be quick, must not block, and must
 * be thread-safe.
 *
 * @param <Req> the request type
 */
@FunctionalInterface
public interface Picker<Req> {

    /**
     * Returns the index, in {@code [0, serviceCount)}, of the service that handles {@code request}.
     *
     * <p>An index out of range fails the call with {@link IllegalStateException}; an exception
     * thrown here fails the call with that exception.
     */
    int pick(Req request, int serviceCount);
}
