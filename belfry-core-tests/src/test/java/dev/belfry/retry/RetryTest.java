package dev.belfry.retry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.belfry.Service;
import dev.belfry.UnprocessedException;
import dev.belfry.backoff.Backoff;
import dev.belfry.builder.ServiceBuilder;
import dev.belfry.test.LayerContractTest;
import dev.belfry.test.ManualClock;
import dev.belfry.test.MockService;
import dev.belfry.timeout.ElapsedException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

class RetryTest extends LayerContractTest {
    private static final Duration BACKOFF = Duration.ofMillis(50);

    private final RecordingRetryListener listener = new RecordingRetryListener();

    @Override
    protected Service<String, String> wrap(Service<String, String> inner, ManualClock clock) {
        return RetryLayer.of(RetryPolicy.<String, String>standard().build(), clock)
                .wrap(inner);
    }

    private Service<String, String> retrying(RetryPolicy<String, String> policy) {
        return retrying(policy, RetryBudget.of(clock));
    }

    private Service<String, String> retrying(RetryPolicy<String, String> policy, RetryBudget budget) {
        return RetryLayer.builder(policy)
                .budget(budget)
                .listener(listener)
                .clock(clock)
                .build()
                .wrap(inner);
    }

    private static RetryPolicy.Builder<String, String> policy() {
        return RetryPolicy.<String, String>standard().backoff(Backoff.constant(BACKOFF));
    }

    /** The failure of a future that must already be done: never blocks, so a bug fails the test. */
    private static Throwable failed(CompletableFuture<?> future) {
        assertThat(future).as("completed").isDone();
        return failureOf(future);
    }

    private static UnprocessedException unsent(String message) {
        return new UnprocessedException(message);
    }

    @Test
    void retriesAnUnsentRequestAfterTheBackoffAndNotBefore() {
        Service<String, String> service = retrying(policy().build());
        CompletableFuture<String> result = service.call("post");
        inner.handle().next().fail(unsent("connect refused"));

        clock.advance(BACKOFF.minusNanos(1));
        inner.handle().assertNoMoreRequests();
        assertThat(result).isNotDone();

        clock.advance(Duration.ofNanos(1));
        assertThat(inner.handle().respondNext("created")).isEqualTo("post");
        assertThat(result).isCompletedWithValue("created");
        assertThat(listener.events()).containsExactly("retry 2 after UnprocessedException");
    }

    @Test
    void closingStopsACallWaitingOutItsBackoffWithTheFailureThatMadeItWait() {
        Service<String, String> service = retrying(policy().build());
        CompletableFuture<String> result = service.call("post");
        UnprocessedException refused = unsent("connect refused");
        inner.handle().next().fail(refused);
        assertThat(clock.pendingTasks()).as("the backoff timer").isEqualTo(1);
        service.close();
        assertThat(clock.pendingTasks()).as("no timer outlives close").isZero();
        assertThat(failureOf(result)).isSameAs(refused);
        clock.advance(BACKOFF);
        inner.handle().assertNoMoreRequests();
    }

    @Test
    void waitsTheSeededBackoffsDelayExactly() {
        Backoff backoff = Backoff.exponential(Duration.ofMillis(10), Duration.ofSeconds(1), new SplittableRandom(42));
        Backoff twin = Backoff.exponential(Duration.ofMillis(10), Duration.ofSeconds(1), new SplittableRandom(42));
        Duration first = twin.delay(1);
        Duration second = twin.delay(2);
        Service<String, String> service =
                retrying(RetryPolicy.<String, String>standard().backoff(backoff).build());
        CompletableFuture<String> result = service.call("x");

        inner.handle().next().fail(unsent("1"));
        clock.advance(first.minusNanos(1));
        inner.handle().assertNoMoreRequests();
        clock.advance(Duration.ofNanos(1));
        inner.handle().next().fail(unsent("2"));
        clock.advance(second.minusNanos(1));
        inner.handle().assertNoMoreRequests();
        clock.advance(Duration.ofNanos(1));
        inner.handle().respondNext("third time");
        assertThat(result).isCompletedWithValue("third time");
    }

    @Test
    void neverRepeatsANonIdempotentRequestAfterAFailureThatMayHaveReachedTheServer() {
        // The predicate says "retry everything"; the request is not idempotent, so it must not.
        Service<String, String> service = retrying(policy().retryOn(failure -> true)
                .retryOnResponse(response -> true)
                .build());
        CompletableFuture<String> failed = service.call("charge card");
        IllegalStateException reset = new IllegalStateException("connection reset after write");
        inner.handle().next().fail(reset);
        assertThat(failed(failed)).isSameAs(reset);

        CompletableFuture<String> answered = service.call("charge card");
        inner.handle().respondNext("503");
        assertThat(answered).isCompletedWithValue("503");

        inner.handle().assertNoMoreRequests();
        assertThat(clock.pendingTasks()).isZero();
        assertThat(listener.events()).isEmpty();
    }

    @Test
    void aCustomPolicyCannotRepeatANonIdempotentRequestAfterAProcessedFailureEither() {
        AtomicInteger asked = new AtomicInteger();
        RetryPolicy<String, String> reckless = new RetryPolicy<>() {
            @Override
            public boolean shouldRetry(
                    String request, int attempt, @Nullable String response, @Nullable Throwable failure) {
                asked.incrementAndGet();
                return attempt < 5;
            }

            @Override
            public boolean isIdempotent(String request) {
                return false;
            }

            @Override
            public Duration backoff(int attempt) {
                return BACKOFF;
            }
        };
        Service<String, String> service = retrying(reckless);
        CompletableFuture<String> result = service.call("post");
        inner.handle().next().fail(unsent("never sent"));
        clock.advance(BACKOFF);
        IllegalStateException processed = new IllegalStateException("server crashed mid-request");
        inner.handle().next().fail(processed);
        assertThat(failed(result)).isSameAs(processed);
        inner.handle().assertNoMoreRequests();
        assertThat(asked)
                .as("the policy is not even asked about the processed failure")
                .hasValue(1);
    }

    @Test
    void repeatsAnIdempotentRequestAfterAFailureThePolicyAccepts() {
        Service<String, String> service = retrying(policy().idempotent(request -> request.startsWith("GET"))
                .retryOn(failure -> failure instanceof IllegalStateException)
                .build());
        CompletableFuture<String> result = service.call("GET /");
        inner.handle().next().fail(new IllegalStateException("reset"));
        clock.advance(BACKOFF);
        inner.handle().respondNext("200");
        assertThat(result).isCompletedWithValue("200");
    }

    @Test
    void doesNotRetryFailuresOutsideThePredicateEvenForIdempotentRequests() {
        Service<String, String> service =
                retrying(policy().idempotent(request -> true).build());
        CompletableFuture<String> result = service.call("GET /");
        IllegalArgumentException bad = new IllegalArgumentException("bad request");
        inner.handle().next().fail(bad);
        assertThat(failed(result)).isSameAs(bad);
        inner.handle().assertNoMoreRequests();
    }

    @Test
    void retriesRejectedResponsesOfIdempotentRequestsAndReturnsTheLastOne() {
        Service<String, String> service = retrying(policy().idempotent(request -> true)
                .retryOnResponse("503"::equals)
                .maxAttempts(2)
                .build());
        CompletableFuture<String> result = service.call("GET /");
        inner.handle().respondNext("503");
        clock.advance(BACKOFF);
        inner.handle().respondNext("503");
        assertThat(result).isCompletedWithValue("503");
        inner.handle().assertNoMoreRequests();
        assertThat(listener.events()).containsExactly("retry 2");
    }

    @Test
    void stopsAtMaxAttemptsWithTheLastFailure() {
        Service<String, String> service = retrying(policy().maxAttempts(3).build());
        CompletableFuture<String> result = service.call("x");
        inner.handle().next().fail(unsent("first"));
        clock.advance(BACKOFF);
        inner.handle().next().fail(unsent("second"));
        clock.advance(BACKOFF);
        UnprocessedException last = unsent("third");
        inner.handle().next().fail(last);
        assertThat(failed(result)).isSameAs(last);
        inner.handle().assertNoMoreRequests();
        assertThat(clock.pendingTasks()).isZero();
    }

    @Test
    void anExhaustedBudgetEndsTheCallAtOnceWithTheLastRealFailure() {
        RetryBudget empty = RetryBudget.builder()
                .minRetriesPerSecond(0)
                .retryRatio(0)
                .clock(clock)
                .build();
        Service<String, String> service = retrying(policy().build(), empty);
        CompletableFuture<String> result = service.call("x");
        UnprocessedException real = unsent("connect refused");
        inner.handle().next().fail(real);
        assertThat(failed(result)).isSameAs(real);
        assertThat(clock.pendingTasks()).isZero();
        assertThat(listener.events()).containsExactly("budget exhausted");
    }

    @Test
    void anExhaustedBudgetReturnsTheLastRealResponse() {
        RetryBudget empty = RetryBudget.builder()
                .minRetriesPerSecond(0)
                .retryRatio(0)
                .clock(clock)
                .build();
        Service<String, String> service = retrying(
                policy().idempotent(request -> true)
                        .retryOnResponse("503"::equals)
                        .build(),
                empty);
        CompletableFuture<String> result = service.call("GET /");
        inner.handle().respondNext("503");
        assertThat(result).isCompletedWithValue("503");
    }

    @Test
    void requestsPayForRetriesThroughTheSharedBudget() {
        // No reserve, 50 %: each call deposits half a retry, so two calls pay for one retry.
        RetryBudget budget = RetryBudget.builder()
                .minRetriesPerSecond(0)
                .retryRatio(0.5)
                .clock(clock)
                .build();
        Service<String, String> service = retrying(policy().build(), budget);
        CompletableFuture<String> first = service.call("a");
        UnprocessedException refusedA = unsent("a refused");
        inner.handle().next().fail(refusedA);
        assertThat(failed(first)).as("half a token is not enough").isSameAs(refusedA);

        CompletableFuture<String> second = service.call("b");
        inner.handle().next().fail(unsent("b refused"));
        clock.advance(BACKOFF);
        inner.handle().respondNext("b ok");
        assertThat(second).isCompletedWithValue("b ok");
        assertThat(budget.remaining()).isZero();
    }

    @Test
    void cancellingDuringTheBackoffCancelsTheTimerAndSendsNothingMore() {
        Service<String, String> service = retrying(policy().build());
        CompletableFuture<String> result = service.call("x");
        inner.handle().next().fail(unsent("refused"));
        assertThat(clock.pendingTasks()).isEqualTo(1);
        result.cancel(false);
        assertThat(clock.pendingTasks()).isZero();
        clock.advance(BACKOFF);
        inner.handle().assertNoMoreRequests();
    }

    @Test
    void cancellingDuringARetryCancelsThatAttempt() {
        Service<String, String> service = retrying(policy().build());
        CompletableFuture<String> result = service.call("x");
        inner.handle().next().fail(unsent("refused"));
        clock.advance(BACKOFF);
        MockService.Pending<String, String> second = inner.handle().next();
        result.cancel(true);
        assertThat(second.isCancelled()).isTrue();
    }

    @Test
    void eachAttemptGetsItsOwnTimeoutAndTimedOutIdempotentRequestsAreRetried() {
        Duration limit = Duration.ofMillis(100);
        Service<String, String> service = retrying(
                policy().idempotent(request -> true).attemptTimeout(limit).build());
        CompletableFuture<String> result = service.call("GET /");
        MockService.Pending<String, String> first = inner.handle().next();

        clock.advance(limit.minusNanos(1));
        assertThat(first.isCancelled()).isFalse();
        clock.advance(Duration.ofNanos(1));
        assertThat(first.isCancelled()).as("timed-out attempt abandoned").isTrue();

        clock.advance(BACKOFF);
        MockService.Pending<String, String> second = inner.handle().next();
        clock.advance(limit.minusNanos(1));
        second.respond("in time");
        assertThat(result).isCompletedWithValue("in time");
        assertThat(listener.events()).containsExactly("retry 2 after ElapsedException");
    }

    @Test
    void aTimedOutNonIdempotentRequestIsNotRetried() {
        Duration limit = Duration.ofMillis(100);
        Service<String, String> service =
                retrying(policy().attemptTimeout(limit).build());
        CompletableFuture<String> result = service.call("POST /");
        MockService.Pending<String, String> first = inner.handle().next();
        clock.advance(limit);
        assertThat(first.isCancelled()).isTrue();
        assertThat(failed(result)).isInstanceOf(ElapsedException.class);
        inner.handle().assertNoMoreRequests();
    }

    @Test
    void sendsTheCopyOnTheNextAttemptAndDoesNotRetryRequestsThatCannotBeCopied() {
        Service<String, String> service = retrying(
                policy().copy(request -> request.startsWith("stream") ? Optional.empty() : Optional.of(request + "'"))
                        .build());
        CompletableFuture<String> copied = service.call("bytes");
        inner.handle().next().fail(unsent("refused"));
        clock.advance(BACKOFF);
        assertThat(inner.handle().respondNext("ok")).isEqualTo("bytes'");
        assertThat(copied).isCompletedWithValue("ok");

        CompletableFuture<String> streamed = service.call("stream");
        UnprocessedException refused = unsent("refused");
        inner.handle().next().fail(refused);
        assertThat(failed(streamed)).isSameAs(refused);
        inner.handle().assertNoMoreRequests();
    }

    @Test
    void aPolicyThatThrowsFailsTheCallInsteadOfHangingIt() {
        IllegalStateException bug = new IllegalStateException("policy bug");
        Service<String, String> service = retrying(policy().retryOn(failure -> {
                    throw bug;
                })
                .build());
        CompletableFuture<String> result = service.call("x");
        inner.handle().next().fail(unsent("refused"));
        assertThat(failed(result)).isSameAs(bug);
    }

    @Test
    void tryCallReturnsNullWithoutDepositingWhenTheInnerServiceIsBusy() {
        RetryBudget budget = RetryBudget.builder()
                .minRetriesPerSecond(0)
                .retryRatio(1.0)
                .clock(clock)
                .build();
        Service<String, String> service = retrying(policy().build(), budget);
        inner.handle().allow(0);
        assertThat(service.tryCall("x")).isNull();
        assertThat(budget.remaining()).isZero();
        inner.handle().allowUnlimited();
        CompletableFuture<String> admitted = service.tryCall("x");
        assertThat(budget.remaining()).isEqualTo(1);
        inner.handle().next().fail(unsent("refused"));
        clock.advance(BACKOFF);
        inner.handle().respondNext("ok");
        assertThat(admitted).isCompletedWithValue("ok");
    }

    @Test
    void rejectsBadSettingsNamingThem() {
        assertThatThrownBy(() -> RetryPolicy.standard().maxAttempts(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("maxAttempts must be at least 1, was 0");
        assertThatThrownBy(() -> RetryPolicy.standard().maxAttempts(2).maxAttempts(3))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("maxAttempts was already set to 2");
        assertThatThrownBy(() -> RetryPolicy.standard().attemptTimeout(Duration.ZERO))
                .hasMessage("attemptTimeout must be positive, was PT0S");
        assertThatThrownBy(() -> RetryPolicy.standard().retryOn(null)).hasMessage("retryOn must not be null");
        assertThatThrownBy(() -> RetryLayer.of(null, clock)).hasMessage("policy must not be null");
        assertThatThrownBy(() -> RetryLayer.builder(policy().build())
                        .budget(RetryBudget.unlimited())
                        .budget(RetryBudget.unlimited()))
                .hasMessage("budget was already set to RetryBudget.unlimited()");
    }

    @Test
    void composesThroughTheBuilder() {
        Service<String, String> service = ServiceBuilder.<String, String>builder()
                .layer(RetryLayer.of(policy().build(), clock))
                .service(inner);
        CompletableFuture<String> result = service.call("x");
        inner.handle().next().fail(unsent("refused"));
        clock.advance(BACKOFF);
        inner.handle().respondNext("ok");
        assertThat(result).isCompletedWithValue("ok");
    }

    @Test
    void aSynchronousResponseThePolicyRejectsIsRetriedAndAFinalOneReturned() {
        Deque<String> responses = new ArrayDeque<>(List.of("503", "200"));
        AtomicInteger calls = new AtomicInteger();
        Service<String, String> synchronous = request -> {
            calls.incrementAndGet();
            return CompletableFuture.completedFuture(responses.poll());
        };
        Service<String, String> service = RetryLayer.builder(policy().idempotent(request -> true)
                        .retryOnResponse("503"::equals)
                        .build())
                .listener(listener)
                .clock(clock)
                .build()
                .wrap(synchronous);

        CompletableFuture<String> result = service.call("GET /");
        assertThat(result).isNotDone();
        clock.advance(BACKOFF.minusNanos(1));
        assertThat(calls).hasValue(1);
        clock.advance(Duration.ofNanos(1));
        assertThat(result).isCompletedWithValue("200");
        assertThat(calls).hasValue(2);
        assertThat(listener.events()).containsExactly("retry 2");
    }

    @Test
    void aSynchronousResponseThatNeedsNoRetryIsReturnedAtOnce() {
        RetryBudget budget =
                RetryBudget.builder().minRetriesPerSecond(0).clock(clock).build();
        Service<String, String> synchronous = RetryLayer.builder(policy().build())
                .budget(budget)
                .clock(clock)
                .build()
                .wrap(request -> CompletableFuture.completedFuture("ok"));
        for (int i = 0; i < 5; i++) {
            assertThat(synchronous.call("GET /")).isCompletedWithValue("ok");
        }
        assertThat(budget.remaining()).as("five requests paid for one retry").isEqualTo(1);
        assertThat(clock.pendingTasks()).isZero();
    }
}
