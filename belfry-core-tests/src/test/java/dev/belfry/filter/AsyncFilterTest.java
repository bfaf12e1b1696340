package dev.belfry.filter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.belfry.Service;
import dev.belfry.test.LayerContractTest;
import dev.belfry.test.ManualClock;
import dev.belfry.test.MockService;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class AsyncFilterTest extends LayerContractTest {
    /** The checks a controlled filter has started, in order; the test completes them. */
    private final List<CompletableFuture<String>> checks = new ArrayList<>();

    /** The requests a controlled filter has seen. */
    private final List<String> checked = new ArrayList<>();

    @Override
    protected Service<String, String> wrap(Service<String, String> inner, ManualClock clock) {
        return AsyncFilterLayer.<String, String, String>of(CompletableFuture::completedFuture)
                .wrap(inner);
    }

    /** A filter whose checks stay pending until the test completes them. */
    private Service<String, String> controlled() {
        return AsyncFilterLayer.<String, String, String>of(request -> {
                    checked.add(request);
                    CompletableFuture<String> check = new CompletableFuture<>();
                    checks.add(check);
                    return check;
                })
                .wrap(inner);
    }

    @Test
    void callsInnerOnlyWhenTheCheckPassesAndWithItsRequest() {
        Service<String, String> service = controlled();
        CompletableFuture<String> result = service.call("ping");
        assertThat(checked).containsExactly("ping");
        inner.handle().assertNoMoreRequests();

        checks.get(0).complete("ping, checked");
        assertThat(inner.handle().respondNext("pong")).isEqualTo("ping, checked");
        assertThat(result).isCompletedWithValue("pong");
    }

    @Test
    void aFailedCheckNeverReachesInnerAndIsTheFailureUnchanged() {
        Service<String, String> service = controlled();
        CompletableFuture<String> result = service.call("ping");
        RejectedException rejection = new RejectedException("denied");
        checks.get(0).completeExceptionally(rejection);
        assertThat(failureOf(result)).isSameAs(rejection);
        assertThat(inner.handle().admitted()).isZero();
    }

    @Test
    void aCheckThatFailedAtOnceIsTheFailureUnwrapped() {
        RejectedException rejection = new RejectedException("denied");
        Service<String, String> service = AsyncFilterLayer.<String, String, String>of(
                        request -> CompletableFuture.failedFuture(new CompletionException(rejection)))
                .wrap(inner);
        assertThat(failureOf(service.call("ping"))).isSameAs(rejection);
        assertThat(inner.handle().admitted()).isZero();
    }

    @Test
    void aFilterThatThrowsFailsTheCall() {
        IllegalStateException broken = new IllegalStateException("filter bug");
        Service<String, String> service = AsyncFilterLayer.<String, String, String>of(request -> {
                    throw broken;
                })
                .wrap(inner);
        assertThat(failureOf(service.call("ping"))).isSameAs(broken);
        assertThat(inner.handle().admitted()).isZero();
    }

    @Test
    void aFilterThatReturnsNullFailsTheCall() {
        Service<String, String> service =
                AsyncFilterLayer.<String, String, String>of(request -> null).wrap(inner);
        assertThat(failureOf(service.call("ping")))
                .isInstanceOf(NullPointerException.class)
                .hasMessageEndingWith("returned a null stage");
        assertThat(inner.handle().admitted()).isZero();
    }

    @Test
    void cancellingWhileTheCheckIsPendingCancelsTheCheckAndNothingReachesInner() {
        Service<String, String> service = controlled();
        CompletableFuture<String> result = service.call("ping");
        result.cancel(false);
        assertThat(checks.get(0).isCancelled()).as("check cancelled").isTrue();
        assertThat(inner.handle().admitted()).isZero();
    }

    @Test
    void aCheckThatPassesAfterTheCallerCancelledDoesNotReachInner() {
        // A check whose future ignores cancellation (as a check running elsewhere may): it passes
        // after the caller has gone, and the request must still not be sent.
        CompletableFuture<String> uncancellable = new CompletableFuture<>() {
            @Override
            public boolean cancel(boolean mayInterruptIfRunning) {
                return false;
            }
        };
        Service<String, String> service = AsyncFilterLayer.<String, String, String>of(request -> uncancellable)
                .wrap(inner);
        CompletableFuture<String> result = service.call("ping");
        result.cancel(false);
        uncancellable.complete("ping");
        assertThat(result.isCancelled()).isTrue();
        assertThat(inner.handle().admitted()).isZero();
    }

    @Test
    void cancellingAfterTheCheckPassedCancelsTheInnerCall() {
        Service<String, String> service = controlled();
        CompletableFuture<String> result = service.call("ping");
        checks.get(0).complete("ping");
        MockService.Pending<String, String> pending = inner.handle().next();
        result.cancel(false);
        assertThat(pending.isCancelled()).isTrue();
        assertThat(checks.get(0).isCancelled()).isFalse();
    }

    @Test
    void innerFailuresAfterASlowCheckPassThroughUnchanged() {
        Service<String, String> service = controlled();
        CompletableFuture<String> result = service.call("ping");
        checks.get(0).complete("ping");
        IllegalStateException failure = new IllegalStateException("inner broke");
        inner.handle().next().fail(failure);
        assertThat(failureOf(result)).isSameAs(failure);
    }

    @Test
    void tryCallReturnsNullWithoutRunningTheCheckWhenInnerIsBusy() {
        Service<String, String> service = controlled();
        inner.handle().allow(0);
        assertThat(service.tryCall("ping")).isNull();
        assertThat(checked).isEmpty();
        inner.handle().allow(1);
        inner.handle().assertNoMoreRequests();
    }

    @Test
    void tryCallWithACheckThatCompletesAtOnceUsesTheExactInnerTryCall() {
        // The check itself makes the inner service busy: a later admission must not queue.
        Service<String, String> service = AsyncFilterLayer.<String, String, String>of(request -> {
                    inner.handle().allow(0);
                    return CompletableFuture.completedFuture(request);
                })
                .wrap(inner);
        assertThat(service.tryCall("ping")).isNull();
        assertThat(inner.handle().waitingCalls()).isZero();
        assertThat(inner.handle().admitted()).isZero();
    }

    @Test
    void tryCallWithASlowCheckCallsInnerWhenTheCheckPassesAndMayWaitThere() {
        Service<String, String> service = controlled();
        CompletableFuture<String> result = service.tryCall("ping");
        assertThat(result).isNotNull();

        // The inner service filled up while the check was pending: the request waits for it.
        inner.handle().allow(0);
        checks.get(0).complete("ping");
        assertThat(inner.handle().waitingCalls()).isEqualTo(1);
        assertThat(result).isNotDone();

        inner.handle().allow(1);
        assertThat(inner.handle().respondNext("pong")).isEqualTo("ping");
        assertThat(result).isCompletedWithValue("pong");
    }

    @Test
    void aCancelledCheckCancelsTheCall() {
        Service<String, String> service = controlled();
        CompletableFuture<String> result = service.call("ping");
        checks.get(0).cancel(false);
        assertThat(result.isCancelled()).isTrue();
        assertThat(failureOf(result)).isInstanceOf(CancellationException.class);
        assertThat(inner.handle().admitted()).isZero();
    }

    @Test
    void rejectsNullArgumentsNamingThem() {
        assertThatThrownBy(() -> AsyncFilterLayer.of(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("filter must not be null");
        assertThatThrownBy(() -> new AsyncFilter<String, String, String>(null, CompletableFuture::completedFuture))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("inner must not be null");
        assertThatThrownBy(() -> new AsyncFilter<String, String, String>(inner, null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("filter must not be null");
    }

    @Test
    void runsTheCheckOncePerCallAndPerTryCall() {
        AtomicInteger runs = new AtomicInteger();
        Service<String, String> service = AsyncFilterLayer.<String, String, String>of(request -> {
                    runs.incrementAndGet();
                    return CompletableFuture.completedFuture(request);
                })
                .wrap(inner);
        CompletableFuture<String> first = service.call("a");
        CompletableFuture<String> second = service.tryCall("b");
        assertThat(runs).hasValue(2);
        inner.handle().respondNext("1");
        inner.handle().respondNext("2");
        assertThat(first).isCompletedWithValue("1");
        assertThat(second).isCompletedWithValue("2");
    }
}
