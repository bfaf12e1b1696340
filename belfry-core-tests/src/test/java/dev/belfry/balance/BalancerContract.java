package dev.belfry.balance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.Readiness;
import dev.belfry.Service;
import dev.belfry.ServiceClosedException;
import dev.belfry.Services;
import dev.belfry.discover.Discover;
import dev.belfry.discover.DiscoverSource;
import dev.belfry.test.LayerContractTest;
import dev.belfry.test.ManualClock;
import dev.belfry.test.MockService;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;

/**
 * The balancer contract, run for each strategy: the service contract over a single endpoint (from
 * {@link LayerContractTest}), plus what every balancer promises over several.
 */
abstract class BalancerContract extends LayerContractTest {
    static final Duration MAX_WAIT = Duration.ofMillis(500);
    static final long SEED = 42;

    final MockService<String, String> a = MockService.create();
    final MockService<String, String> b = MockService.create();
    final MockService<String, String> c = MockService.create();

    /** Chooses the strategy under test. */
    abstract <K, V> Balancer.Builder<K, V, String, String> strategy(Balancer.Builder<K, V, String, String> builder);

    @Override
    protected Service<String, String> wrap(Service<String, String> inner, ManualClock clock) {
        return balancer(Discover.of(Map.of("only", inner)));
    }

    Balancer<String, String> balancer(Discover<String, Service<String, String>> discover) {
        return strategy(Balancer.builder(discover))
                .clock(clock)
                .random(new SplittableRandom(SEED))
                .maxWait(MAX_WAIT)
                .build();
    }

    static Map<String, Service<String, String>> endpoints(Object... keysAndServices) {
        Map<String, Service<String, String>> map = new LinkedHashMap<>();
        for (int i = 0; i < keysAndServices.length; i += 2) {
            @SuppressWarnings("unchecked")
            Service<String, String> service = (Service<String, String>) keysAndServices[i + 1];
            map.put((String) keysAndServices[i], service);
        }
        return map;
    }

    /** A service that answers at once with its own name. */
    static Service<String, String> named(String name) {
        return Services.fromFunction(request -> name);
    }

    /** Sends {@code calls} requests ("k0", "k1", ...) and counts the answers by value. */
    static Map<String, Integer> spread(Service<String, String> service, int calls) {
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < calls; i++) {
            CompletableFuture<String> result = service.call("k" + i);
            assertThat(result).isDone();
            counts.merge(result.join(), 1, Integer::sum);
        }
        return counts;
    }

    @Test
    void onlyReadyEndpointsGetTraffic() {
        b.handle().allow(0);
        Balancer<String, String> balancer = balancer(Discover.of(endpoints("a", named("a"), "b", b, "c", named("c"))));
        Map<String, Integer> counts = spread(balancer, 300);
        assertThat(counts).doesNotContainKey("b");
        assertThat(counts.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(300);
        assertThat(b.handle().admitted()).isZero();
        assertThat(b.handle().waitingCalls()).isZero();
        balancer.close();
    }

    @Test
    void removalIsHonouredAtOnceAndTheIdleEndpointIsClosed() {
        DiscoverSource<String, Service<String, String>> source = DiscoverSource.create();
        source.replaceAll(endpoints("a", named("a"), "b", b, "c", named("c")));
        Balancer<String, String> balancer = balancer(source);
        source.remove("b");
        assertThat(b.handle().closeCount()).as("closed once idle").isEqualTo(1);
        Map<String, Integer> counts = spread(balancer, 100);
        assertThat(counts).doesNotContainKey("b");
        assertThat(balancer.endpoints()).extracting(EndpointStats::key).containsExactly("a", "c");
        balancer.close();
    }

    @Test
    void anUpdateReplacesTheEndpointInPlaceWithoutDroppingInFlightWork() {
        DiscoverSource<String, Service<String, String>> source = DiscoverSource.create();
        source.put("x", a);
        Balancer<String, String> balancer = balancer(source);
        CompletableFuture<String> first = balancer.call("first");
        MockService.Pending<String, String> onOld = a.handle().next();

        source.put("x", b);
        assertThat(onOld.isCancelled()).isFalse();
        assertThat(a.handle().closeCount()).as("old endpoint still busy").isZero();
        CompletableFuture<String> second = balancer.call("second");
        assertThat(b.handle().respondNext("from b")).isEqualTo("second");
        assertThat(second).isCompletedWithValue("from b");

        onOld.respond("from a");
        assertThat(first).isCompletedWithValue("from a");
        assertThat(a.handle().closeCount())
                .as("old endpoint closed once drained")
                .isEqualTo(1);
        assertThat(b.handle().closeCount()).isZero();
        balancer.close();
        assertThat(b.handle().closeCount()).isEqualTo(1);
    }

    @Test
    void waitsForAnEndpointUntilMaxWaitThenFailsUnprocessed() {
        a.handle().allow(0);
        b.handle().allow(0);
        Balancer<String, String> balancer = balancer(Discover.of(endpoints("a", a, "b", b)));
        assertThat(balancer.readiness()).isEqualTo(Readiness.BUSY);
        assertThat(balancer.tryCall("x")).isNull();
        CompletableFuture<String> result = balancer.call("x");
        clock.advance(MAX_WAIT.minusNanos(1));
        assertThat(result).isNotDone();
        clock.advance(Duration.ofNanos(1));
        assertThat(failureOf(result))
                .isInstanceOf(NoEndpointsException.class)
                .hasMessage("no endpoint admitted the request within 500 ms (2 endpoints, 0 ready)");
        assertThat(((NoEndpointsException) failureOf(result)).endpoints()).isEqualTo(2);
        assertThat(a.handle().admitted() + b.handle().admitted()).isZero();
        balancer.close();
    }

    @Test
    void aWaitingRequestIsAdmittedWhenAnEndpointFreesUp() {
        a.handle().allow(0);
        Balancer<String, String> balancer = balancer(Discover.of(endpoints("a", a)));
        CompletionStage<Void> ready = balancer.whenReady();
        CompletableFuture<String> result = balancer.call("x");
        clock.advanceMillis(100);
        assertThat(ready.toCompletableFuture()).isNotDone();
        a.handle().allow(1);
        assertThat(ready.toCompletableFuture()).isDone();
        assertThat(a.handle().respondNext("done")).isEqualTo("x");
        assertThat(result).isCompletedWithValue("done");
        assertThat(clock.pendingTasks()).as("wait timer cancelled").isZero();
        balancer.close();
    }

    @Test
    void aWaitingRequestOnceDispatchedNoLongerTimesOutInTheBalancer() {
        a.handle().allow(1);
        Balancer<String, String> balancer = balancer(Discover.of(endpoints("a", a)));
        CompletableFuture<String> first = balancer.call("post-1");
        CompletableFuture<String> second = balancer.call("post-2");
        MockService.Pending<String, String> one = a.handle().next();
        a.handle().allow(1);
        one.respond("one");
        assertThat(first).isCompletedWithValue("one");
        MockService.Pending<String, String> two = a.handle().next();
        assertThat(two.request()).isEqualTo("post-2");
        assertThat(clock.pendingTasks()).as("the wait timer stops at dispatch").isZero();
        clock.advance(MAX_WAIT.multipliedBy(3));
        assertThat(second).as("sent, so never failed as unprocessed").isNotDone();
        assertThat(two.isCancelled()).isFalse();
        two.respond("two");
        assertThat(second).isCompletedWithValue("two");
        balancer.close();
    }

    @Test
    void aNewEndpointIsUsedWithNoTrafficNeededToNoticeIt() {
        DiscoverSource<String, Service<String, String>> source = DiscoverSource.create();
        Balancer<String, String> balancer = balancer(source);
        assertThat(balancer.readiness()).isEqualTo(Readiness.BUSY);
        CompletableFuture<String> result = balancer.call("x");
        clock.advanceMillis(10);
        source.put("a", named("a"));
        assertThat(result).isCompletedWithValue("a");
        assertThat(balancer.readiness()).isEqualTo(Readiness.READY);
        balancer.close();
    }

    @Test
    void cancellingAWaitingRequestWithdrawsItAndItsTimer() {
        a.handle().allow(0);
        Balancer<String, String> balancer = balancer(Discover.of(endpoints("a", a)));
        CompletableFuture<String> result = balancer.call("x");
        result.cancel(false);
        a.handle().allow(1);
        assertThat(a.handle().admitted()).isZero();
        assertThat(clock.pendingTasks()).isZero();
        balancer.close();
    }

    @Test
    void failFastFailsAtOnceWhenNoEndpointCanAdmit() {
        a.handle().allow(0);
        Balancer<String, String> balancer = strategy(Balancer.builder(Discover.of(endpoints("a", a))))
                .clock(clock)
                .random(new SplittableRandom(SEED))
                .failFast()
                .build();
        assertThat(failureOf(balancer.call("x")))
                .isInstanceOf(NoEndpointsException.class)
                .hasMessage("no endpoint admitted the request at once (1 endpoints, 0 ready)");
        balancer.close();
    }

    @Test
    void closeFailsWaitingRequestsAndClosesEveryEndpoint() {
        a.handle().allow(0);
        Balancer<String, String> balancer = balancer(Discover.of(endpoints("a", a, "b", b)));
        b.handle().allow(0);
        CompletableFuture<String> waiting = balancer.call("x");
        balancer.close();
        assertThat(failureOf(waiting)).isInstanceOf(ServiceClosedException.class);
        assertThat(a.handle().closeCount()).isEqualTo(1);
        assertThat(b.handle().closeCount()).isEqualTo(1);
        assertThat(balancer.readiness()).isEqualTo(Readiness.CLOSED);
        assertThat(failureOf(balancer.call("y"))).isInstanceOf(ServiceClosedException.class);
        assertThat(balancer.tryCall("y")).isNull();
    }

    @Test
    void rejectsAWeightBelowOneNamingTheEndpoint() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> strategy(Balancer.builder(
                                Discover.of(endpoints("a", a, "b", b)), (String key, Service<String, String> s) -> s))
                        .weight(s -> s == b ? 0 : 1)
                        .clock(clock)
                        .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("weight of endpoint b must be at least 1, was 0");
        assertThat(a.handle().closeCount())
                .as("endpoints made before the failure are closed")
                .isEqualTo(1);
    }
}
