package dev.belfry.channel;

import dev.belfry.UnprocessedException;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * A {@link WarmPool} had no member ready to take a request within its fail-fast wait; the request
 * was never sent, so it is safe to retry.
 *
 * <p>The message names the pool and its last error ("name not resolved yet", "still connecting",
 * or the last connection or health error), which is what a caller needs to know why.
 */
public final class NoMemberReadyException extends UnprocessedException {
    private static final long serialVersionUID = 1L;

    private final String pool;
    private final @Nullable String lastError;

    NoMemberReadyException(String pool, Duration waited, @Nullable String lastError, @Nullable Throwable cause) {
        super(
                "no member of pool '" + pool + "' was ready within " + waited.toMillis() + " ms; last error: "
                        + (lastError == null ? "none recorded" : lastError),
                cause);
        this.pool = pool;
        this.lastError = lastError;
    }

    /** The name of the pool that failed the request. */
    public String pool() {
        return pool;
    }

    /** The pool's last error when it failed the request, or {@code null} if it had none. */
    public @Nullable String lastError() {
        return lastError;
    }
}
