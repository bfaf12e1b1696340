package dev.belfry.map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.belfry.Service;
import dev.belfry.builder.ServiceBuilder;
import dev.belfry.test.LayerContractTest;
import dev.belfry.test.ManualClock;
import dev.belfry.test.MockService;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

class AndThenTest extends LayerContractTest {
    /** The responses a controlled step has received, in order. */
    private final List<String> received = new ArrayList<>();

    /** The steps a controlled function has started; the test completes them. */
    private final List<CompletableFuture<Integer>> steps = new ArrayList<>();

    @Override
    protected Service<String, String> wrap(Service<String, String> inner, ManualClock clock) {
        return AndThenLayer.<String, String, String>of(CompletableFuture::completedFuture)
                .wrap(inner);
    }

    /** A service whose step stays pending until the test completes it. */
    private Service<String, Integer> controlled() {
        return AndThenLayer.<String, String, Integer>of(response -> {
                    received.add(response);
                    CompletableFuture<Integer> step = new CompletableFuture<>();
                    steps.add(step);
                    return step;
                })
                .wrap(inner);
    }

    @Test
    void completesWithTheStepsResultAfterTheResponse() {
        Service<String, Integer> service = controlled();
        CompletableFuture<Integer> result = service.call("ping");
        assertThat(received).isEmpty();
        inner.handle().respondNext("pong");
        assertThat(received).containsExactly("pong");
        assertThat(result).isNotDone();
        steps.get(0).complete(4);
        assertThat(result).isCompletedWithValue(4);
    }

    @Test
    void cancellingWhileTheStepRunsCancelsTheStep() {
        Service<String, Integer> service = controlled();
        CompletableFuture<Integer> result = service.call("ping");
        inner.handle().respondNext("pong");
        result.cancel(false);
        assertThat(steps.get(0).isCancelled()).as("step cancelled").isTrue();
    }

    @Test
    void cancellingBeforeTheResponseCancelsInnerAndNeverStartsTheStep() {
        Service<String, Integer> service = controlled();
        CompletableFuture<Integer> result = service.call("ping");
        MockService.Pending<String, String> pending = inner.handle().next();
        result.cancel(false);
        assertThat(pending.isCancelled()).isTrue();
        assertThat(received).isEmpty();
    }

    @Test
    void aResponseArrivingAfterTheCallerCancelledNeverStartsTheStep() {
        // An inner call that ignores cancellation (as a call already on the wire may) and answers
        // after the caller has gone: the step must not start.
        CompletableFuture<String> uncancellable = new CompletableFuture<>() {
            @Override
            public boolean cancel(boolean mayInterruptIfRunning) {
                return false;
            }
        };
        Service<String, Integer> service = AndThenLayer.<String, String, Integer>of(response -> {
                    received.add(response);
                    return CompletableFuture.completedFuture(response.length());
                })
                .wrap(request -> uncancellable);
        CompletableFuture<Integer> result = service.call("ping");
        result.cancel(false);
        uncancellable.complete("pong");
        assertThat(result.isCancelled()).isTrue();
        assertThat(received).isEmpty();
    }

    @Test
    void failuresSkipTheStep() {
        Service<String, Integer> service = controlled();
        CompletableFuture<Integer> result = service.call("ping");
        IllegalStateException failure = new IllegalStateException("inner broke");
        inner.handle().next().fail(failure);
        assertThat(failureOf(result)).isSameAs(failure);
        assertThat(received).isEmpty();
    }

    @Test
    void aFailedStepIsTheFailureUnwrapped() {
        Service<String, Integer> service = controlled();
        CompletableFuture<Integer> result = service.call("ping");
        inner.handle().respondNext("pong");
        IllegalStateException failure = new IllegalStateException("decode failed");
        steps.get(0).completeExceptionally(new CompletionException(failure));
        assertThat(failureOf(result)).isSameAs(failure);
    }

    @Test
    void aFunctionThatThrowsFailsTheCallWithThatException() {
        IllegalArgumentException broken = new IllegalArgumentException("step bug");
        Service<String, Integer> service = AndThenLayer.<String, String, Integer>of(response -> {
                    throw broken;
                })
                .wrap(inner);
        CompletableFuture<Integer> result = service.call("ping");
        inner.handle().respondNext("pong");
        assertThat(failureOf(result)).isSameAs(broken);
    }

    @Test
    void aFunctionThatReturnsNullFailsTheCall() {
        Service<String, Integer> service =
                AndThenLayer.<String, String, Integer>of(response -> null).wrap(inner);
        CompletableFuture<Integer> result = service.call("ping");
        inner.handle().respondNext("pong");
        assertThat(failureOf(result))
                .isInstanceOf(NullPointerException.class)
                .hasMessageEndingWith("returned a null stage");
    }

    @Test
    void tryCallChainsTheStepAfterTheAdmittedCall() {
        Service<String, Integer> service = controlled();
        inner.handle().allow(0);
        assertThat(service.tryCall("busy")).isNull();
        inner.handle().allow(1);
        CompletableFuture<Integer> result = service.tryCall("free");
        assertThat(inner.handle().respondNext("pong")).isEqualTo("free");
        steps.get(0).complete(7);
        assertThat(result).isCompletedWithValue(7);
        assertThat(received).containsExactly("pong");
    }

    @Test
    void composesThroughTheBuilder() {
        Service<String, Integer> service = ServiceBuilder.<String, Integer>builder()
                .layer(AndThenLayer.<String, String, Integer>of(
                        response -> CompletableFuture.completedFuture(response.length())))
                .service(inner);
        CompletableFuture<Integer> result = service.call("ping");
        inner.handle().respondNext("three");
        assertThat(result).isCompletedWithValue(5);
    }

    @Test
    void rejectsNullArgumentsNamingThem() {
        assertThatThrownBy(() -> AndThenLayer.of(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("function must not be null");
        assertThatThrownBy(() -> new AndThen<String, String, String>(null, CompletableFuture::completedFuture))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("inner must not be null");
        assertThatThrownBy(() -> new AndThen<String, String, String>(inner, null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("function must not be null");
    }
}
