package dev.belfry.limit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.Readiness;
import dev.belfry.Service;
import dev.belfry.test.LayerContractTest;
import dev.belfry.test.ManualClock;
import dev.belfry.test.MockService;
import dev.belfry.test.Verifiable;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** A concurrency limit whose permits live as long as the responses, not the calls. */
class HeldConcurrencyLimitTest extends LayerContractTest {
    /** Each response's "released" signal, completed by the test when the response is done with. */
    private final Map<String, CompletableFuture<Void>> releases = new ConcurrentHashMap<>();

    private final List<Permits> created = new CopyOnWriteArrayList<>();

    // Not private: only VerifyAfterEach reads it, by reflection.
    final Verifiable permitsReturned = () -> {
        for (Permits permits : created) {
            if (permits.available() != permits.max() || permits.queued() != 0) {
                throw new AssertionError("permits leaked: " + permits);
            }
        }
    };

    @Override
    protected Service<String, String> wrap(Service<String, String> inner, ManualClock clock) {
        // For the shared contract, every response is released as soon as it is delivered.
        ConcurrencyLimit<String, String> limit = ConcurrencyLimitLayer.<String, String>of(2)
                .heldUntil(response -> CompletableFuture.completedFuture(null))
                .wrap(inner);
        created.add(limit.permits());
        return limit;
    }

    private ConcurrencyLimit<String, String> heldUntilReleased(int max) {
        Permits permits = Permits.of(max);
        created.add(permits);
        return new ConcurrencyLimit<>(
                inner, permits, response -> releases.computeIfAbsent(response, r -> new CompletableFuture<>()));
    }

    @Test
    void holdsThePermitUntilTheResponseIsReleased() {
        ConcurrencyLimit<String, String> limit = heldUntilReleased(1);
        CompletableFuture<String> first = limit.call("a");
        inner.handle().respondNext("A");
        assertThat(first).isCompletedWithValue("A");
        assertThat(limit.permits().available()).as("the response is still live").isZero();
        assertThat(limit.readiness()).isEqualTo(Readiness.BUSY);

        CompletableFuture<String> second = limit.call("b");
        assertThat(inner.handle().admitted())
                .as("b waits for A's release, not for A's call")
                .isEqualTo(1);
        assertThat(second).isNotDone();

        releases.get("A").complete(null);
        assertThat(inner.handle().respondNext("B")).isEqualTo("b");
        assertThat(second).isCompletedWithValue("B");
        releases.get("B").complete(null);
        assertThat(limit.permits().available()).isEqualTo(1);
    }

    @Test
    void tryCallIsExactWhileResponsesHoldEveryPermit() {
        ConcurrencyLimit<String, String> limit = heldUntilReleased(2);
        assertThat(limit.tryCall("a")).isNotNull();
        assertThat(limit.tryCall("b")).isNotNull();
        inner.handle().respondNext("A");
        inner.handle().respondNext("B");
        assertThat(limit.tryCall("c"))
                .as("two live responses hold both permits")
                .isNull();
        inner.handle().assertNoMoreRequests();

        releases.get("B").completeExceptionally(new IllegalStateException("body reset"));
        CompletableFuture<String> third = limit.tryCall("c");
        assertThat(third).as("a release that fails still gives the permit back").isNotNull();
        assertThat(limit.tryCall("d")).isNull();
        inner.handle().respondNext("C");
        assertThat(third).isCompletedWithValue("C");
        releases.get("A").complete(null);
        releases.get("C").complete(null);
    }

    @Test
    void aFailedCallGivesItsPermitBackAtOnce() {
        ConcurrencyLimit<String, String> limit = heldUntilReleased(1);
        CompletableFuture<String> failing = limit.call("a");
        CompletableFuture<String> queued = limit.call("b");
        IllegalStateException boom = new IllegalStateException("refused");
        inner.handle().next().fail(boom);
        assertThat(failureOf(failing)).isSameAs(boom);
        assertThat(inner.handle().respondNext("B")).isEqualTo("b");
        assertThat(queued).isCompletedWithValue("B");
        assertThat(releases).containsOnlyKeys("B");
        releases.get("B").complete(null);
    }

    @Test
    void cancellingAnInFlightCallGivesItsPermitBackAtOnce() {
        ConcurrencyLimit<String, String> limit = heldUntilReleased(1);
        CompletableFuture<String> call = limit.call("a");
        MockService.Pending<String, String> pending = inner.handle().next();
        call.cancel(false);
        assertThat(pending.isCancelled()).isTrue();
        assertThat(limit.permits().available()).isEqualTo(1);
        assertThat(releases).isEmpty();
    }

    @Test
    void aReleasedFunctionThatThrowsOrReturnsNullGivesThePermitBack() {
        Permits permits = Permits.of(1);
        created.add(permits);
        AtomicInteger asked = new AtomicInteger();
        ConcurrencyLimit<String, String> limit = new ConcurrencyLimit<>(inner, permits, response -> {
            if (asked.incrementAndGet() == 1) {
                throw new IllegalStateException("no release signal");
            }
            return null;
        });
        CompletableFuture<String> first = limit.call("a");
        inner.handle().respondNext("A");
        assertThat(first).isCompletedWithValue("A");
        assertThat(permits.available()).isEqualTo(1);
        CompletableFuture<String> second = limit.call("b");
        inner.handle().respondNext("B");
        assertThat(second).isCompletedWithValue("B");
        assertThat(permits.available()).isEqualTo(1);
        assertThat(asked).hasValue(2);
    }

    @Test
    void aResponseThatArrivesAfterTheCallerLeftIsClosedAndItsPermitReturned() {
        Permits permits = Permits.of(1);
        created.add(permits);
        CompletableFuture<Conn> stubborn = new CompletableFuture<>() {
            @Override
            public boolean cancel(boolean mayInterruptIfRunning) {
                return false; // a call that cannot be stopped once started
            }
        };
        Service<String, Conn> connector = request -> stubborn;
        CompletableFuture<Void> closed = new CompletableFuture<>();
        ConcurrencyLimit<String, Conn> limit = new ConcurrencyLimit<>(connector, permits, conn -> closed);
        CompletableFuture<Conn> call = limit.call("a");
        call.cancel(false);
        Conn conn = new Conn();
        stubborn.complete(conn);
        assertThat(conn.closes).as("nobody owns it, so the limit closes it").hasValue(1);
        assertThat(permits.available()).isEqualTo(1);
        closed.complete(null);
        assertThat(permits.available()).as("given back once only").isEqualTo(1);
    }

    @Test
    void theLayerRejectsHeldUntilSetTwice() {
        ConcurrencyLimitLayer<String, String> layer =
                ConcurrencyLimitLayer.<String, String>of(1).heldUntil(r -> null);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> layer.heldUntil(r -> null))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("heldUntil was already set");
    }

    /** A response that must be closed by whoever owns it. */
    private static final class Conn implements AutoCloseable {
        final AtomicInteger closes = new AtomicInteger();

        @Override
        public void close() {
            closes.incrementAndGet();
        }
    }
}
