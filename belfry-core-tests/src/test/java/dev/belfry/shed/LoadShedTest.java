package dev.belfry.shed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.belfry.OverloadedException;
import dev.belfry.Readiness;
import dev.belfry.Service;
import dev.belfry.builder.ServiceBuilder;
import dev.belfry.limit.ConcurrencyLimitLayer;
import dev.belfry.limit.Permits;
import dev.belfry.test.LayerContractTest;
import dev.belfry.test.ManualClock;
import dev.belfry.test.Verifiable;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class LoadShedTest extends LayerContractTest {
    private final Permits permits = Permits.of(1);

    // Not private: only VerifyAfterEach reads it, by reflection.
    final Verifiable permitsReturned = () -> {
        if (permits.available() != permits.max() || permits.queued() != 0) {
            throw new AssertionError("permits leaked: " + permits);
        }
    };

    @Override
    protected Service<String, String> wrap(Service<String, String> inner, ManualClock clock) {
        return LoadShedLayer.<String, String>of().wrap(inner);
    }

    /**
     * The contract expects BUSY readiness while the inner service is busy, but a shedding service
     * answers every call at once (by rejecting it), so it stays READY on purpose. Its tryCall
     * exactness is checked by {@link #tryCallDelegatesAndLeavesABusyInnerServiceUntouched}.
     */
    @Override
    protected boolean admitsWhileInnerIsBusy() {
        return true;
    }

    @Test
    void shedsAtOnceWhenTheInnerServiceIsBusy() {
        Service<String, String> service = wrap(inner, clock);
        inner.handle().allow(0);
        CompletableFuture<String> result = service.call("a");
        assertThat(failureOf(result))
                .isInstanceOf(OverloadedException.class)
                .hasMessage("service overloaded: load shed");
        assertThat(inner.handle().waitingCalls())
                .as("never waits in the inner service")
                .isZero();
        inner.handle().allow(1);
        inner.handle().assertNoMoreRequests();
        assertThat(inner.handle().admitted()).isZero();
    }

    @Test
    void tryCallDelegatesAndLeavesABusyInnerServiceUntouched() {
        Service<String, String> service = wrap(inner, clock);
        inner.handle().allow(0);
        assertThat(service.readiness()).as("always ready: it answers at once").isEqualTo(Readiness.READY);
        assertThat(service.tryCall("a")).isNull();
        assertThat(service.whenReady().toCompletableFuture()).isCompleted();
        inner.handle().allow(1);
        inner.handle().assertNoMoreRequests();
        assertThat(inner.handle().admitted()).isZero();
    }

    @Test
    void overAConcurrencyLimitOfOneTheSecondConcurrentCallIsShedAndNeverReachesInner() {
        Service<String, String> service = ServiceBuilder.<String, String>builder()
                .layer(LoadShedLayer.of())
                .layer(ConcurrencyLimitLayer.shared(permits))
                .service(inner);
        CompletableFuture<String> first = service.call("a");
        CompletableFuture<String> second = service.call("b");
        assertThat(failureOf(second)).isInstanceOf(OverloadedException.class);
        assertThat(permits.queued()).as("shedding never queues").isZero();
        assertThat(service.readiness()).isEqualTo(Readiness.READY);

        assertThat(inner.handle().respondNext("A")).isEqualTo("a");
        inner.handle().assertNoMoreRequests();
        assertThat(first).isCompletedWithValue("A");
        CompletableFuture<String> third = service.call("c");
        assertThat(inner.handle().respondNext("C"))
                .as("admitted once the permit is back")
                .isEqualTo("c");
        assertThat(third).isCompletedWithValue("C");
    }

    @Test
    void readinessIsClosedOnlyWhenTheInnerServiceIs() {
        Service<String, String> service = wrap(inner, clock);
        assertThat(service.readiness()).isEqualTo(Readiness.READY);
        inner.close();
        assertThat(service.readiness()).isEqualTo(Readiness.CLOSED);
    }

    @Test
    void aThrowingInnerTryCallBecomesAFailedFuture() {
        IllegalStateException failure = new IllegalStateException("broken tryCall");
        Service<String, String> throwing = new Service<>() {
            @Override
            public CompletableFuture<String> call(String request) {
                throw failure;
            }

            @Override
            public CompletableFuture<String> tryCall(String request) {
                throw failure;
            }
        };
        assertThat(failureOf(LoadShedLayer.<String, String>of().wrap(throwing).call("a")))
                .isSameAs(failure);
    }

    @Test
    void rejectsANullInnerService() {
        assertThatThrownBy(() -> new LoadShed<String, String>(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("inner must not be null");
    }
}
