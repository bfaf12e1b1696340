package dev.belfry.test;

import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.Futures;
import dev.belfry.Readiness;
import dev.belfry.Service;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The service contract, checked for one layer: extend it, implement {@link #wrap}, and every rule
 * becomes a test of that layer.
 *
 * <ul>
 *   <li>responses pass through unchanged;
 *   <li>inner failures pass through unchanged (the same exception instance, unwrapped);
 *   <li>{@code call} never throws, even when the inner service breaks the contract by throwing;
 *   <li>cancelling the caller's future cancels the inner call;
 *   <li>{@code tryCall} is exact: with a busy inner it returns {@code null} and nothing reaches
 *       the inner service, then or later;
 *   <li>{@code close} reaches the inner service.
 * </ul>
 *
 * <p>The layer is given a {@link MockService} of strings with unlimited admission and a {@link
 * ManualClock}; both are verified after each test. Layers whose rules differ on purpose override
 * the hooks below and say why.
 */
@ExtendWith(VerifyAfterEach.class)
public abstract class LayerContractTest {
    /** The inner service the layer under test wraps. */
    protected final MockService<String, String> inner = MockService.create();

    /** The clock the layer under test must use. */
    protected final ManualClock clock = new ManualClock();

    /** Returns the layer under test around {@code inner}, using {@code clock} for time. */
    protected abstract Service<String, String> wrap(Service<String, String> inner, ManualClock clock);

    /**
     * Whether the layer admits a request while its inner service is busy (a buffer does: it
     * queues). Such layers skip the "tryCall returns null" rule.
     */
    protected boolean admitsWhileInnerIsBusy() {
        return false;
    }

    /** Whether closing the layer closes the inner service (true for every layer that owns it). */
    protected boolean closesInner() {
        return true;
    }

    /** Lets the layer finish work it scheduled with no delay before the inner service sees it. */
    protected void settle() {
        clock.runDue();
    }

    @Test
    void contractPassesResponsesThrough() throws Exception {
        Service<String, String> service = wrap(inner, clock);
        CompletableFuture<String> result = service.call("ping");
        settle();
        assertThat(inner.handle().respondNext("pong")).isEqualTo("ping");
        settle();
        assertThat(result).isCompletedWithValue("pong");
    }

    @Test
    void contractPassesInnerFailuresThroughUnchanged() {
        Service<String, String> service = wrap(inner, clock);
        CompletableFuture<String> result = service.call("ping");
        settle();
        IllegalStateException failure = new IllegalStateException("inner broke");
        inner.handle().next().fail(failure);
        settle();
        assertThat(result).isCompletedExceptionally();
        assertThat(failureOf(result)).isSameAs(failure);
    }

    @Test
    void contractCallNeverThrowsWhenTheInnerServiceThrows() {
        IllegalStateException failure = new IllegalStateException("contract broken below");
        Service<String, String> throwing = new Service<>() {
            @Override
            public CompletableFuture<String> call(String request) {
                throw failure;
            }
        };
        Service<String, String> service = wrap(throwing, clock);
        CompletableFuture<String> result = service.call("ping");
        settle();
        assertThat(result).isCompletedExceptionally();
        assertThat(failureOf(result)).isSameAs(failure);
        service.close();
        clock.cancelAll();
    }

    @Test
    void contractCancellationReachesTheInnerCall() {
        Service<String, String> service = wrap(inner, clock);
        CompletableFuture<String> result = service.call("ping");
        settle();
        MockService.Pending<String, String> pending = inner.handle().next();
        assertThat(pending.isCancelled()).isFalse();
        result.cancel(false);
        settle();
        assertThat(pending.isCancelled()).as("inner call cancelled").isTrue();
    }

    @Test
    void contractTryCallIsExactWhenTheInnerServiceIsBusy() {
        Service<String, String> service = wrap(inner, clock);
        inner.handle().allow(0);
        if (admitsWhileInnerIsBusy()) {
            return;
        }
        assertThat(service.readiness()).isEqualTo(Readiness.BUSY);
        assertThat(service.tryCall("ping")).isNull();
        inner.handle().allow(1);
        settle();
        inner.handle().assertNoMoreRequests();
        assertThat(inner.handle().admitted()).isZero();
    }

    @Test
    void contractTryCallAdmitsWhenReady() {
        Service<String, String> service = wrap(inner, clock);
        assertThat(service.readiness()).isEqualTo(Readiness.READY);
        CompletableFuture<String> result = service.tryCall("ping");
        assertThat(result).isNotNull();
        settle();
        inner.handle().respondNext("pong");
        settle();
        assertThat(result).isCompletedWithValue("pong");
    }

    @Test
    void contractCloseReachesTheInnerService() {
        Service<String, String> service = wrap(inner, clock);
        service.close();
        service.close();
        settle();
        if (closesInner()) {
            assertThat(inner.handle().closeCount()).isPositive();
            assertThat(inner.readiness()).isEqualTo(Readiness.CLOSED);
        }
    }

    /** The unwrapped failure of a completed future. */
    protected static Throwable failureOf(CompletableFuture<?> future) {
        if (!future.isDone()) {
            // Never block: a future wrongly left pending must fail the test, not hang it.
            throw new AssertionError("expected a failure, but the future is still pending: " + future);
        }
        try {
            future.get();
        } catch (ExecutionException e) {
            return Futures.unwrap(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        } catch (java.util.concurrent.CancellationException e) {
            return e;
        }
        throw new AssertionError("expected a failure, but completed with a value: " + future);
    }
}
