package dev.belfry.coalesce;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.belfry.Service;
import dev.belfry.builder.ServiceBuilder;
import dev.belfry.test.LayerContractTest;
import dev.belfry.test.ManualClock;
import dev.belfry.test.MockService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class CoalesceTest extends LayerContractTest {
    private static final Duration TTL = Duration.ofSeconds(1);

    private final RecordingCoalesceListener listener = new RecordingCoalesceListener();

    @Override
    protected Service<String, String> wrap(Service<String, String> inner, ManualClock clock) {
        return CoalesceLayer.<String, String>of(request -> request).wrap(inner);
    }

    private Coalesce<String, String> coalescing() {
        return CoalesceLayer.<String, String>builder(CoalesceTest::keyOf)
                .listener(listener)
                .clock(clock)
                .build()
                .wrap(inner);
    }

    private Coalesce<String, String> caching(int maxCached) {
        return CoalesceLayer.<String, String>builder(CoalesceTest::keyOf)
                .cacheFor(TTL)
                .maxCached(maxCached)
                .listener(listener)
                .clock(clock)
                .build()
                .wrap(inner);
    }

    /** GETs are shared by path; anything else never is. */
    private static String keyOf(String request) {
        return request.startsWith("GET ") ? request : null;
    }

    private static Throwable failed(CompletableFuture<?> future) {
        assertThat(future).as("completed").isDone();
        return failureOf(future);
    }

    @Test
    void aHungCallTakesNoWaitersPastTheShareAgeFromItsFirstJoinerAndIsCancelledWhenItsLastWaiterLeaves() {
        Coalesce<String, String> service = CoalesceLayer.<String, String>builder(CoalesceTest::keyOf)
                .maxShareAge(Duration.ofSeconds(5))
                .clock(clock)
                .build()
                .wrap(inner);
        // Callers keep coming and giving up (their own timeouts), one overlapping the next.
        CompletableFuture<String> first = service.call("GET /a");
        MockService.Pending<String, String> hung = inner.handle().next();
        clock.advanceMillis(3000);
        CompletableFuture<String> second = service.call("GET /a"); // the first to join: the age starts
        first.cancel(false);
        clock.advance(Duration.ofSeconds(5).minusNanos(1));
        CompletableFuture<String> third = service.call("GET /a");
        inner.handle().assertNoMoreRequests();
        assertThat(hung.isCancelled())
                .as("still shared by the second and third")
                .isFalse();

        clock.advance(Duration.ofNanos(1));
        CompletableFuture<String> fourth = service.call("GET /a");
        MockService.Pending<String, String> fresh = inner.handle().next();
        assertThat(fresh.request()).isEqualTo("GET /a");
        second.cancel(false);
        third.cancel(false);
        assertThat(hung.isCancelled()).as("its last waiter left").isTrue();

        CompletableFuture<String> fifth = service.call("GET /a");
        inner.handle().assertNoMoreRequests();
        fresh.respond("A");
        assertThat(fourth).isCompletedWithValue("A");
        assertThat(fifth).isCompletedWithValue("A");
        assertThat(service.trackedKeys()).isZero();
    }

    @Test
    void invalidateForgetsACachedResponseSoTheNextRequestCallsTheInnerService() {
        Coalesce<String, String> service = caching(10);
        CompletableFuture<String> before = service.call("GET /a");
        inner.handle().next().respond("old");
        assertThat(before).isCompletedWithValue("old");
        assertThat(service.call("GET /a")).as("cached").isCompletedWithValue("old");
        inner.handle().assertNoMoreRequests();

        service.invalidate("GET /b"); // another key: nothing changes
        assertThat(service.call("GET /a")).isCompletedWithValue("old");
        service.invalidate("GET /a");
        assertThat(service.trackedKeys()).isZero();

        CompletableFuture<String> after = service.call("GET /a");
        inner.handle().next().respond("new");
        assertThat(after).isCompletedWithValue("new");
        assertThat(service.call("GET /a")).as("the new value is cached").isCompletedWithValue("new");
    }

    @Test
    void invalidateDuringACallKeepsItsWaitersButTakesNoNewOnesAndDoesNotCacheIt() {
        Coalesce<String, String> service = caching(10);
        CompletableFuture<String> reader = service.call("GET /a");
        MockService.Pending<String, String> stale = inner.handle().next();

        service.invalidate("GET /a"); // a write happened while the read was in flight
        CompletableFuture<String> later = service.call("GET /a");
        MockService.Pending<String, String> fresh = inner.handle().next();

        stale.respond("old");
        assertThat(reader).as("the caller that started before the write").isCompletedWithValue("old");
        assertThat(later).as("not joined to the call made before the write").isNotDone();
        fresh.respond("new");
        assertThat(later).isCompletedWithValue("new");
        assertThat(service.call("GET /a")).as("only the fresh call is cached").isCompletedWithValue("new");
        inner.handle().assertNoMoreRequests();
    }

    @Test
    void concurrentIdenticalRequestsShareOneCallAndAllGetItsResponse() {
        Coalesce<String, String> service = coalescing();
        CompletableFuture<String> a1 = service.call("GET /a");
        CompletableFuture<String> a2 = service.call("GET /a");
        CompletableFuture<String> b = service.call("GET /b");
        CompletableFuture<String> a3 = service.call("GET /a");
        MockService.Pending<String, String> callA = inner.handle().next();
        MockService.Pending<String, String> callB = inner.handle().next();
        inner.handle().assertNoMoreRequests();
        assertThat(callA.request()).isEqualTo("GET /a");

        callA.respond("A");
        assertThat(a1).isCompletedWithValue("A");
        assertThat(a2).isCompletedWithValue("A");
        assertThat(a3).isCompletedWithValue("A");
        assertThat(b).isNotDone();
        callB.respond("B");
        assertThat(b).isCompletedWithValue("B");
        assertThat(service.trackedKeys()).isZero();
        assertThat(listener.events()).containsExactly("joined", "joined");
    }

    @Test
    void theSharedFailureReachesEveryWaiterUnchanged() {
        Coalesce<String, String> service = coalescing();
        CompletableFuture<String> first = service.call("GET /a");
        CompletableFuture<String> second = service.call("GET /a");
        IllegalStateException failure = new IllegalStateException("backend down");
        inner.handle().next().fail(failure);
        assertThat(failed(first)).isSameAs(failure);
        assertThat(failed(second)).isSameAs(failure);
        assertThat(service.trackedKeys()).isZero();
    }

    @Test
    void aWaiterThatCancelsLeavesTheOthersAndTheSharedCallAlone() {
        Coalesce<String, String> service = coalescing();
        CompletableFuture<String> first = service.call("GET /a");
        CompletableFuture<String> second = service.call("GET /a");
        MockService.Pending<String, String> call = inner.handle().next();
        first.cancel(true);
        assertThat(call.isCancelled()).isFalse();
        call.respond("A");
        assertThat(second).isCompletedWithValue("A");
        assertThat(first).isCancelled();
    }

    @Test
    void theSharedCallIsCancelledOnlyWhenEveryWaiterHasCancelled() {
        Coalesce<String, String> service = coalescing();
        CompletableFuture<String> first = service.call("GET /a");
        CompletableFuture<String> second = service.call("GET /a");
        MockService.Pending<String, String> call = inner.handle().next();
        second.cancel(false);
        assertThat(call.isCancelled()).isFalse();
        first.cancel(false);
        assertThat(call.isCancelled()).isTrue();
        assertThat(service.trackedKeys()).isZero();

        // The next identical request starts afresh rather than joining the cancelled call.
        CompletableFuture<String> third = service.call("GET /a");
        inner.handle().respondNext("A again");
        assertThat(third).isCompletedWithValue("A again");
    }

    @Test
    void aCallerArrivingAsTheSharedCallCompletesGetsItsOutcome() {
        Coalesce<String, String> service = coalescing();
        CompletableFuture<String> first = service.call("GET /a");
        List<CompletableFuture<String>> arrivals = new ArrayList<>();
        // Runs while the call is complete but still in the table: the moment a lost wake-up hides in.
        first.whenComplete((response, failure) -> arrivals.add(service.call("GET /a")));
        inner.handle().respondNext("A");
        assertThat(arrivals).singleElement().satisfies(late -> assertThat(late).isCompletedWithValue("A"));
        inner.handle().assertNoMoreRequests();
        assertThat(service.trackedKeys()).isZero();
    }

    @Test
    void requestsWithoutAKeyAreNeverShared() {
        Coalesce<String, String> service = coalescing();
        CompletableFuture<String> first = service.call("POST /a");
        CompletableFuture<String> second = service.call("POST /a");
        inner.handle().respondNext("1");
        inner.handle().respondNext("2");
        assertThat(first).isCompletedWithValue("1");
        assertThat(second).isCompletedWithValue("2");
        assertThat(service.trackedKeys()).isZero();
    }

    @Test
    void aKeyFunctionThatThrowsFailsTheCall() {
        IllegalStateException bug = new IllegalStateException("bad key");
        Service<String, String> service = CoalesceLayer.<String, String>of(request -> {
                    throw bug;
                })
                .wrap(inner);
        assertThat(failed(service.call("x"))).isSameAs(bug);
        assertThat(failed(service.tryCall("x"))).isSameAs(bug);
    }

    @Test
    void cachedResponsesAreServedUntilTheTimeToLiveEndsAndNotAfter() {
        Coalesce<String, String> service = caching(100);
        CompletableFuture<String> first = service.call("GET /a");
        inner.handle().respondNext("A");
        assertThat(first).isCompletedWithValue("A");

        clock.advance(TTL.minusNanos(1));
        assertThat(service.call("GET /a")).isCompletedWithValue("A");
        inner.handle().assertNoMoreRequests();

        clock.advance(Duration.ofNanos(1));
        CompletableFuture<String> fresh = service.call("GET /a");
        assertThat(fresh).isNotDone();
        inner.handle().respondNext("A2");
        assertThat(fresh).isCompletedWithValue("A2");
        assertThat(listener.events()).containsExactly("cache hit");
        assertThat(clock.pendingTasks())
                .as("no timers: expiry is checked lazily")
                .isZero();
    }

    @Test
    void failuresAreNeverCached() {
        Coalesce<String, String> service = caching(100);
        CompletableFuture<String> first = service.call("GET /a");
        inner.handle().next().fail(new IllegalStateException("down"));
        assertThat(first).isCompletedExceptionally();
        CompletableFuture<String> second = service.call("GET /a");
        inner.handle().respondNext("up");
        assertThat(second).isCompletedWithValue("up");
    }

    @Test
    void expiredEntriesAreForgottenByLaterCallsSoTheTableDoesNotGrow() {
        Coalesce<String, String> service = caching(100);
        for (int i = 0; i < 50; i++) {
            service.call("GET /" + i);
            inner.handle().respondNext("r" + i);
        }
        inner.handle().forgetAnswered();
        assertThat(service.trackedKeys()).isEqualTo(50);
        clock.advance(TTL);
        service.call("GET /other");
        assertThat(service.trackedKeys()).as("only the new call").isEqualTo(1);
        inner.handle().respondNext("other");
    }

    @Test
    void theCacheKeepsAtMostMaxCachedResponsesEvictingTheOldest() {
        Coalesce<String, String> service = caching(2);
        for (String path : new String[] {"GET /a", "GET /b", "GET /c"}) {
            service.call(path);
            inner.handle().respondNext(path.substring(5).toUpperCase(java.util.Locale.ROOT));
        }
        assertThat(service.trackedKeys()).isEqualTo(2);
        assertThat(service.call("GET /c")).isCompletedWithValue("C");
        assertThat(service.call("GET /b")).isCompletedWithValue("B");
        CompletableFuture<String> a = service.call("GET /a");
        assertThat(a).as("evicted").isNotDone();
        inner.handle().respondNext("A2");
        assertThat(a).isCompletedWithValue("A2");
    }

    @Test
    void tryCallJoinsACallInFlightEvenWhenTheInnerServiceIsBusy() {
        Coalesce<String, String> service = coalescing();
        inner.handle().allow(1);
        CompletableFuture<String> first = service.call("GET /a");
        CompletableFuture<String> joined = service.tryCall("GET /a");
        assertThat(joined).as("joining needs no capacity below").isNotNull();
        assertThat(service.tryCall("GET /b")).isNull();
        assertThat(service.trackedKeys())
                .as("a refused tryCall leaves no trace")
                .isEqualTo(1);
        inner.handle().respondNext("A");
        assertThat(first).isCompletedWithValue("A");
        assertThat(joined).isCompletedWithValue("A");
        inner.handle().assertNoMoreRequests();
    }

    @Test
    void closeForgetsCachedResponsesAndClosesInner() {
        Coalesce<String, String> service = caching(10);
        service.call("GET /a");
        inner.handle().respondNext("A");
        service.close();
        assertThat(service.trackedKeys()).isZero();
        assertThat(inner.handle().closeCount()).isEqualTo(1);
    }

    @Test
    void rejectsBadSettingsNamingThem() {
        assertThatThrownBy(() -> CoalesceLayer.of(null)).hasMessage("key must not be null");
        assertThatThrownBy(() -> CoalesceLayer.builder(r -> r).cacheFor(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("cacheFor must be positive, was PT0S");
        assertThatThrownBy(() -> CoalesceLayer.builder(r -> r).maxCached(0))
                .hasMessage("maxCached must be at least 1, was 0");
        assertThatThrownBy(() ->
                        CoalesceLayer.builder(r -> r).maxCached(5).clock(clock).build())
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("maxCached is set to 5 but cacheFor is not");
        assertThatThrownBy(() -> CoalesceLayer.builder(r -> r).cacheFor(TTL).cacheFor(TTL))
                .hasMessage("cacheFor was already set to PT1S");
    }

    @Test
    void composesThroughTheBuilder() {
        Service<String, String> service = ServiceBuilder.<String, String>builder()
                .layer(CoalesceLayer.of(CoalesceTest::keyOf))
                .service(inner);
        CompletableFuture<String> first = service.call("GET /a");
        CompletableFuture<String> second = service.call("GET /a");
        inner.handle().respondNext("A");
        assertThat(first).isCompletedWithValue("A");
        assertThat(second).isCompletedWithValue("A");
    }

    @Test
    void aCallerArrivingWhileASynchronousCallIsMadeJoinsIt() {
        List<CompletableFuture<String>> arrivals = new ArrayList<>();
        List<String> made = new ArrayList<>();
        Service<String, String>[] self = newServiceArray();
        self[0] = CoalesceLayer.<String, String>builder(CoalesceTest::keyOf)
                .listener(listener)
                .clock(clock)
                .build()
                .wrap(request -> {
                    made.add(request);
                    // Another identical request arrives while this call is being made.
                    arrivals.add(self[0].call(request));
                    return CompletableFuture.completedFuture("A");
                });
        CompletableFuture<String> first = self[0].call("GET /a");
        assertThat(first).isCompletedWithValue("A");
        assertThat(arrivals)
                .singleElement()
                .satisfies(joined -> assertThat(joined).isCompletedWithValue("A"));
        assertThat(made).containsExactly("GET /a");
        assertThat(listener.events()).containsExactly("joined");
        assertThat(((Coalesce<String, String>) self[0]).trackedKeys()).isZero();
    }

    @SuppressWarnings("unchecked") // an array of one generic service, for a service that calls itself
    private static Service<String, String>[] newServiceArray() {
        return (Service<String, String>[]) new Service<?, ?>[1];
    }
}
