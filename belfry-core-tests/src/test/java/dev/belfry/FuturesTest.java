package dev.belfry;

import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.timeout.ElapsedException;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

class FuturesTest {

    @Test
    void unwrapStripsNestedCompletionAndExecutionExceptions() {
        IOException cause = new IOException("root");
        Throwable wrapped = new CompletionException(new ExecutionException(new CompletionException(cause)));
        assertThat(Futures.unwrap(wrapped)).isSameAs(cause);
    }

    @Test
    void unwrapLeavesOtherExceptionsAndCauselessWrappersAlone() {
        IllegalStateException plain = new IllegalStateException("plain", new IOException("its cause"));
        assertThat(Futures.unwrap(plain)).isSameAs(plain);
        CompletionException causeless = new CompletionException("no cause", null);
        assertThat(Futures.unwrap(causeless)).isSameAs(causeless);
        // A wrapper inside another exception is that exception's business, not ours.
        RuntimeException outer = new RuntimeException(new CompletionException(plain));
        assertThat(Futures.unwrap(outer)).isSameAs(outer);
    }

    @Test
    void completeFromCompletesWithTheValueOrTheUnwrappedFailure() {
        CompletableFuture<String> value = new CompletableFuture<>();
        assertThat(Futures.completeFrom(value, "v", null)).isTrue();
        assertThat(value).isCompletedWithValue("v");

        IOException cause = new IOException("root");
        CompletableFuture<String> failed = new CompletableFuture<>();
        assertThat(Futures.completeFrom(failed, null, new CompletionException(cause)))
                .isTrue();
        assertThat(failed.isCancelled()).isFalse();
        assertThat(failed.exceptionNow()).isSameAs(cause);
    }

    @Test
    void completeFromTurnsAWrappedCancellationIntoCancellation() {
        CompletableFuture<String> target = new CompletableFuture<>();
        assertThat(Futures.completeFrom(target, null, new CompletionException(new CancellationException())))
                .isTrue();
        assertThat(target.isCancelled()).isTrue();
    }

    @Test
    void completeFromReportsWhetherItCompletedTheTarget() {
        CompletableFuture<String> target = CompletableFuture.completedFuture("first");
        assertThat(Futures.completeFrom(target, "second", null)).isFalse();
        assertThat(Futures.completeFrom(target, null, new IOException("late"))).isFalse();
        assertThat(target).isCompletedWithValue("first");
    }

    @Test
    void propagateCancellationCancelsInnerOnlyWhenOuterIsCancelled() {
        CompletableFuture<String> cancelledOuter = new CompletableFuture<>();
        CompletableFuture<String> cancelledInner = new CompletableFuture<>();
        Futures.propagateCancellation(cancelledOuter, cancelledInner);
        cancelledOuter.cancel(false);
        assertThat(cancelledInner.isCancelled()).isTrue();

        CompletableFuture<String> answeredOuter = new CompletableFuture<>();
        CompletableFuture<String> answeredInner = new CompletableFuture<>();
        Futures.propagateCancellation(answeredOuter, answeredInner);
        answeredOuter.complete("done");
        assertThat(answeredInner).isNotDone();

        CompletableFuture<String> failedOuter = new CompletableFuture<>();
        CompletableFuture<String> failedInner = new CompletableFuture<>();
        Futures.propagateCancellation(failedOuter, failedInner);
        failedOuter.completeExceptionally(new IOException("failed"));
        assertThat(failedInner).isNotDone();
    }

    @Test
    void propagateCancellationOnAnAlreadyCancelledOuterCancelsAtOnce() {
        CompletableFuture<String> outer = new CompletableFuture<>();
        outer.cancel(false);
        CompletableFuture<String> inner = new CompletableFuture<>();
        Futures.propagateCancellation(outer, inner);
        assertThat(inner.isCancelled()).isTrue();
    }

    @Test
    void forwardMirrorsTheInnerFutureAndCarriesCancellationDown() {
        CompletableFuture<String> inner = new CompletableFuture<>();
        CompletableFuture<String> outer = Futures.forward(inner);
        assertThat(outer).isNotSameAs(inner).isNotDone();
        inner.complete("v");
        assertThat(outer).isCompletedWithValue("v");

        CompletableFuture<String> cancelledInner = new CompletableFuture<>();
        Futures.forward(cancelledInner).cancel(false);
        assertThat(cancelledInner.isCancelled()).isTrue();
    }

    @Test
    void guardTurnsAThrowOrANullStageIntoAFailedFuture() {
        IllegalStateException broken = new IllegalStateException("broken");
        CompletableFuture<String> thrown = Futures.guard(() -> {
            throw broken;
        });
        assertThat(thrown.exceptionNow()).isSameAs(broken);
        CompletableFuture<String> nulled = Futures.guard(() -> null);
        assertThat(nulled.exceptionNow()).isInstanceOf(NullPointerException.class);
    }

    @Test
    void callReturnsTheServicesOwnFutureOnTheNormalPath() {
        CompletableFuture<String> own = new CompletableFuture<>();
        Service<String, String> service = request -> own;
        assertThat(Futures.call(service, "ping")).isSameAs(own);
    }

    @Test
    void callTurnsAThrowIntoAFailedFuture() {
        IllegalStateException broken = new IllegalStateException("contract broken");
        Service<String, String> service = request -> {
            throw broken;
        };
        CompletableFuture<String> result = Futures.call(service, "ping");
        assertThat(result.exceptionNow()).isSameAs(broken);
    }

    @Test
    void callTurnsANullFutureIntoAFailedFutureNamingTheService() {
        Service<String, String> service = new Service<>() {
            @Override
            public CompletableFuture<String> call(String request) {
                return null;
            }

            @Override
            public String toString() {
                return "NullService";
            }
        };
        CompletableFuture<String> result = Futures.call(service, "ping");
        assertThat(result.exceptionNow())
                .isInstanceOf(NullPointerException.class)
                .hasMessage("NullService returned a null future");
    }

    @Test
    void failedIsAFutureFailedWithExactlyThatFailure() {
        IOException failure = new IOException("x");
        assertThat(Futures.<String>failed(failure).exceptionNow()).isSameAs(failure);
    }

    @Test
    void isUnprocessedLooksThroughWrappersForRetrySafeFailures() {
        assertThat(Futures.isUnprocessed(new CompletionException(new OverloadedException("full"))))
                .isTrue();
        assertThat(Futures.isUnprocessed(new ExecutionException(new ServiceClosedException("closed"))))
                .isTrue();
        assertThat(Futures.isUnprocessed(new UnprocessedException("not sent"))).isTrue();
        assertThat(Futures.isUnprocessed(new ElapsedException(Duration.ofMillis(1))))
                .as("a timed-out request may have been processed")
                .isFalse();
        assertThat(Futures.isUnprocessed(new IOException("reset"))).isFalse();
        assertThat(Futures.isUnprocessed(new IllegalStateException(new OverloadedException("cause"))))
                .as("only wrappers are looked through")
                .isFalse();
    }
}
