package dev.belfry.retry;

import dev.belfry.Checks;
import dev.belfry.UnprocessedException;
import dev.belfry.backoff.Backoff;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * Decides, after each attempt of a request, whether to make another, and how long to wait first.
 *
 * <p>{@link #standard()} builds a policy for the common case without code. A custom policy is a
 * class implementing this interface; whatever it answers, {@link Retry} never repeats a request
 * after a failure that may have reached the server unless {@link #isIdempotent} says the request
 * may be repeated: only {@link UnprocessedException}s (failures that certainly happened before the
 * request was sent) are retried for other requests. Retries are also capped by a {@link
 * RetryBudget}.
 *
 * <p>Implementations must be thread-safe: one policy serves every request of a client.
 *
 * @param <Req> the request type
 * @param <Res> the response type
 */
public interface RetryPolicy<Req, Res> {

    /**
     * Whether to make attempt {@code attempt + 1} after attempt {@code attempt} (the first is 1)
     * ended with {@code response}, or with {@code failure} if it is not null (unwrapped).
     */
    boolean shouldRetry(Req request, int attempt, @Nullable Res response, @Nullable Throwable failure);

    /**
     * Whether {@code request} may be repeated after it may have been processed (a GET, a PUT, a
     * request carrying an idempotency key). Requests that are not are retried only after {@link
     * UnprocessedException}s.
     */
    boolean isIdempotent(Req request);

    /** How long to wait before attempt {@code attempt} (the first retry is attempt 2). */
    Duration backoff(int attempt);

    /**
     * A copy of {@code request} to send on a later attempt, made before each attempt is sent (an
     * attempt may consume its request, as a streamed body is consumed); empty if the request cannot
     * be sent again, which makes the attempt the last. The default returns the request itself,
     * which is right for immutable requests.
     */
    default Optional<Req> copy(Req request) {
        return Optional.of(request);
    }

    /**
     * The time limit of each attempt, if any; enforced by a {@link dev.belfry.timeout.Timeout} on
     * the retry's clock, under the retry.
     */
    default Optional<Duration> attemptTimeout() {
        return Optional.empty();
    }

    /** A builder of the standard policy: a few attempts of idempotent or unsent requests, with backoff. */
    static <Req, Res> Builder<Req, Res> standard() {
        return new Builder<>();
    }

    /**
     * The settings of the standard policy; each may be set once.
     *
     * @param <Req> the request type
     * @param <Res> the response type
     */
    final class Builder<Req, Res> {
        private @Nullable Integer maxAttempts;
        private @Nullable Predicate<? super Throwable> retryOn;
        private @Nullable Predicate<? super Req> idempotent;
        private @Nullable Predicate<? super Res> retryOnResponse;
        private @Nullable Duration attemptTimeout;
        private @Nullable Backoff backoff;
        private @Nullable Function<? super Req, Optional<Req>> copy;

        private Builder() {}

        /** How many attempts in all, the first included (default 3; 1 disables retries). */
        public Builder<Req, Res> maxAttempts(int maxAttempts) {
            Checks.notSetTwice(this.maxAttempts, "maxAttempts");
            this.maxAttempts = Checks.positive(maxAttempts, "maxAttempts");
            return this;
        }

        /**
         * Which failures (unwrapped) are worth retrying. The default is {@link UnprocessedException}
         * only, plus {@link dev.belfry.timeout.ElapsedException} when an {@link #attemptTimeout} is
         * set (an attempt that timed out is worth another try, as Envoy's per-try timeout). A failure
         * that may have reached the server is retried only for idempotent requests, whatever this
         * predicate says.
         */
        public Builder<Req, Res> retryOn(Predicate<? super Throwable> retryOn) {
            Checks.notSetTwice(this.retryOn, "retryOn");
            this.retryOn = Checks.notNull(retryOn, "retryOn");
            return this;
        }

        /** Which requests may be repeated after they may have been processed (default: none). */
        public Builder<Req, Res> idempotent(Predicate<? super Req> idempotent) {
            Checks.notSetTwice(this.idempotent, "idempotent");
            this.idempotent = Checks.notNull(idempotent, "idempotent");
            return this;
        }

        /**
         * Which responses are worth retrying (a 503, a gRPC UNAVAILABLE; default: none). A response
         * proves the server saw the request, so only idempotent requests are retried on a response.
         */
        public Builder<Req, Res> retryOnResponse(Predicate<? super Res> retryOnResponse) {
            Checks.notSetTwice(this.retryOnResponse, "retryOnResponse");
            this.retryOnResponse = Checks.notNull(retryOnResponse, "retryOnResponse");
            return this;
        }

        /** A time limit for each attempt (default: none; an outer timeout still bounds the whole). */
        public Builder<Req, Res> attemptTimeout(Duration attemptTimeout) {
            Checks.notSetTwice(this.attemptTimeout, "attemptTimeout");
            this.attemptTimeout = Checks.positive(attemptTimeout, "attemptTimeout");
            return this;
        }

        /**
         * The wait before each retry (default: exponential with full jitter from 25 ms, capped at 1 s,
         * drawn from the thread-local random source).
         */
        public Builder<Req, Res> backoff(Backoff backoff) {
            Checks.notSetTwice(this.backoff, "backoff");
            this.backoff = Checks.notNull(backoff, "backoff");
            return this;
        }

        /**
         * How to copy a request for a later attempt; returns empty for requests that cannot be sent
         * twice (default: the request itself, for immutable requests).
         */
        public Builder<Req, Res> copy(Function<? super Req, Optional<Req>> copy) {
            Checks.notSetTwice(this.copy, "copy");
            this.copy = Checks.notNull(copy, "copy");
            return this;
        }

        /** The policy. */
        public RetryPolicy<Req, Res> build() {
            Predicate<? super Throwable> failures = retryOn;
            if (failures == null) {
                failures = attemptTimeout == null
                        ? StandardRetryPolicy::isUnprocessed
                        : StandardRetryPolicy::isUnprocessedOrElapsed;
            }
            return new StandardRetryPolicy<>(
                    maxAttempts != null ? maxAttempts : 3,
                    failures,
                    idempotent != null ? idempotent : request -> false,
                    retryOnResponse != null ? retryOnResponse : response -> false,
                    Optional.ofNullable(attemptTimeout),
                    backoff != null ? backoff : StandardRetryPolicy.DEFAULT_BACKOFF,
                    copy);
        }
    }
}
