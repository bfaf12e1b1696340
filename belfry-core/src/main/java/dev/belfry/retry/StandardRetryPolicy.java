package dev.belfry.retry;

import dev.belfry.UnprocessedException;
import dev.belfry.backoff.Backoff;
import dev.belfry.timeout.ElapsedException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.random.RandomGenerator;
import org.jspecify.annotations.Nullable;

/** The policy {@link RetryPolicy#standard()} builds. */
final class StandardRetryPolicy<Req, Res> implements RetryPolicy<Req, Res> {
    /**
     * Draws from the calling thread's own generator on every call, so one backoff can be shared by
     * every thread (a captured {@code ThreadLocalRandom.current()} must not cross threads).
     */
    private static final RandomGenerator THREAD_LOCAL_RANDOM =
            () -> ThreadLocalRandom.current().nextLong();

    static final Backoff DEFAULT_BACKOFF =
            Backoff.exponential(Duration.ofMillis(25), Duration.ofSeconds(1), THREAD_LOCAL_RANDOM);

    private final int maxAttempts;
    private final Predicate<? super Throwable> retryOn;
    private final Predicate<? super Req> idempotent;
    private final Predicate<? super Res> retryOnResponse;
    private final Optional<Duration> attemptTimeout;
    private final Backoff backoff;
    private final @Nullable Function<? super Req, Optional<Req>> copy;

    /** {@code copy} null: requests are immutable and sent again as they are. */
    StandardRetryPolicy(
            int maxAttempts,
            Predicate<? super Throwable> retryOn,
            Predicate<? super Req> idempotent,
            Predicate<? super Res> retryOnResponse,
            Optional<Duration> attemptTimeout,
            Backoff backoff,
            @Nullable Function<? super Req, Optional<Req>> copy) {
        this.maxAttempts = maxAttempts;
        this.retryOn = retryOn;
        this.idempotent = idempotent;
        this.retryOnResponse = retryOnResponse;
        this.attemptTimeout = attemptTimeout;
        this.backoff = backoff;
        this.copy = copy;
    }

    static boolean isUnprocessed(Throwable failure) {
        return failure instanceof UnprocessedException;
    }

    static boolean isUnprocessedOrElapsed(Throwable failure) {
        return failure instanceof UnprocessedException || failure instanceof ElapsedException;
    }

    @Override
    public boolean shouldRetry(Req request, int attempt, @Nullable Res response, @Nullable Throwable failure) {
        if (attempt >= maxAttempts) {
            return false;
        }
        if (failure != null) {
            return retryOn.test(failure);
        }
        // A response means the server saw the request: repeat it only if that is harmless.
        return isIdempotent(request) && retryOnResponse.test(response);
    }

    @Override
    public boolean isIdempotent(Req request) {
        return idempotent.test(request);
    }

    @Override
    public Duration backoff(int attempt) {
        // Backoff counts the first repeat as 1; attempt 2 is the first repeat.
        return backoff.delay(attempt - 1);
    }

    @Override
    public Optional<Req> copy(Req request) {
        return copy != null ? copy.apply(request) : Optional.of(request);
    }

    /** Whether {@link #copy} returns the request itself, so {@link Retry} can skip the call. */
    boolean resendsAsIs() {
        return copy == null;
    }

    @Override
    public Optional<Duration> attemptTimeout() {
        return attemptTimeout;
    }

    @Override
    public String toString() {
        return "RetryPolicy.standard[maxAttempts=" + maxAttempts + ", backoff=" + backoff
                + attemptTimeout.map(t -> ", attemptTimeout=" + t).orElse("") + "]";
    }
}
