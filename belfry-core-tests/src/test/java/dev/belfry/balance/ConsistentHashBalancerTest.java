package dev.belfry.balance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.belfry.Service;
import dev.belfry.discover.Discover;
import dev.belfry.discover.DiscoverSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class ConsistentHashBalancerTest extends BalancerContract {
    private static final int KEYS = 10_000;

    @Override
    <K, V> Balancer.Builder<K, V, String, String> strategy(Balancer.Builder<K, V, String, String> builder) {
        return builder.consistentHash(Function.identity());
    }

    private static Map<String, String> owners(Service<String, String> balancer) {
        Map<String, String> owners = new HashMap<>();
        for (int i = 0; i < KEYS; i++) {
            owners.put("key-" + i, balancer.call("key-" + i).join());
        }
        return owners;
    }

    private DiscoverSource<String, Service<String, String>> tenEndpoints() {
        DiscoverSource<String, Service<String, String>> source = DiscoverSource.create();
        for (int i = 0; i < 10; i++) {
            source.put("e" + i, named("e" + i));
        }
        return source;
    }

    @Test
    void theRingStaysBoundedWhateverTheWeightsAndKeepsTheirProportions() {
        List<Endpoint<String, String>> heavy = new ArrayList<>();
        for (int i = 0; i < 3000; i++) {
            heavy.add(new Endpoint<>("e" + i, named("e" + i), null, i == 0 ? 10_000 : 1000, 0));
        }
        int[] points = Strategy.ConsistentHash.points(heavy);
        long total = 0;
        for (int count : points) {
            total += count;
        }
        assertThat(total).isBetween((long) Strategy.ConsistentHash.MAX_RING_POINTS - 3000, (long)
                Strategy.ConsistentHash.MAX_RING_POINTS);
        assertThat((double) points[0] / points[1]).isCloseTo(10.0, within(0.5));
        assertThat(points[2999]).isPositive();

        List<Endpoint<String, String>> light =
                List.of(new Endpoint<>("a", named("a"), null, 3, 0), new Endpoint<>("b", named("b"), null, 1, 0));
        assertThat(Strategy.ConsistentHash.points(light)).containsExactly(300, 100);
    }

    @Test
    void anErrorFromTheConnectFunctionLeavesTheEndpointsAsTheyWereAndLaterChangesApply() {
        DiscoverSource<String, String> source = DiscoverSource.create();
        source.put("a", "a");
        Balancer<String, String> balancer = strategy(Balancer.builder(source, (String key, String value) -> {
                    if (key.equals("bad")) {
                        throw new AssertionError("connect failed for " + key);
                    }
                    return named(value);
                }))
                .clock(clock)
                .random(new SplittableRandom(SEED))
                .maxWait(MAX_WAIT)
                .build();
        source.put("bad", "bad");
        assertThat(balancer.endpoints()).extracting(EndpointStats::key).containsExactly("a");
        source.put("b", "b");
        assertThat(balancer.endpoints()).extracting(EndpointStats::key).containsExactly("a", "b");
        assertThat(spread(balancer, 200)).containsOnlyKeys("a", "b");
        balancer.close();
    }

    @Test
    void equalKeysGoToTheSameEndpointAndKeysSpreadWithinTwentyPercentOfEven() {
        Balancer<String, String> balancer = balancer(tenEndpoints());
        Map<String, String> first = owners(balancer);
        assertThat(owners(balancer)).isEqualTo(first);
        Map<String, Integer> perEndpoint = new HashMap<>();
        first.values().forEach(owner -> perEndpoint.merge(owner, 1, Integer::sum));
        assertThat(perEndpoint).hasSize(10);
        assertThat(perEndpoint.values()).allMatch(count -> count > 800 && count < 1200);
        balancer.close();
    }

    @Test
    void removingAnEndpointMovesOnlyItsKeys() {
        DiscoverSource<String, Service<String, String>> source = tenEndpoints();
        Balancer<String, String> balancer = balancer(source);
        Map<String, String> before = owners(balancer);
        source.remove("e3");
        Map<String, String> after = owners(balancer);
        int moved = 0;
        for (String key : before.keySet()) {
            if (!before.get(key).equals(after.get(key))) {
                moved++;
                assertThat(before.get(key))
                        .as("only keys of the removed endpoint move")
                        .isEqualTo("e3");
            }
        }
        // About 1/10 of the keys, within the ring's unevenness.
        assertThat(moved).isBetween(KEYS / 10 * 8 / 10, KEYS / 10 * 12 / 10);
        balancer.close();
    }

    @Test
    void addingAnEndpointMovesOnlyKeysToIt() {
        DiscoverSource<String, Service<String, String>> source = tenEndpoints();
        Balancer<String, String> balancer = balancer(source);
        Map<String, String> before = owners(balancer);
        source.put("e10", named("e10"));
        Map<String, String> after = owners(balancer);
        int moved = 0;
        for (String key : before.keySet()) {
            if (!before.get(key).equals(after.get(key))) {
                moved++;
                assertThat(after.get(key))
                        .as("keys move only to the new endpoint")
                        .isEqualTo("e10");
            }
        }
        assertThat(moved).isBetween(KEYS / 11 * 7 / 10, KEYS / 11 * 13 / 10);
        balancer.close();
    }

    @Test
    void aHotKeySpillsToTheNextEndpointPastTheLoadBound() {
        Balancer<String, String> balancer = Balancer.builder(Discover.of(endpoints("a", a, "b", b, "c", c)))
                .consistentHash(Function.identity(), 1.0)
                .clock(clock)
                .random(new SplittableRandom(SEED))
                .build();
        List<CompletableFuture<String>> calls = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            calls.add(balancer.call("hot"));
        }
        // With a bound of 1.0 x average, six held requests for one key end up two per endpoint.
        assertThat(a.handle().admitted()).isEqualTo(2);
        assertThat(b.handle().admitted()).isEqualTo(2);
        assertThat(c.handle().admitted()).isEqualTo(2);
        for (var mock : List.of(a, b, c)) {
            mock.handle().respondNext("done");
            mock.handle().respondNext("done");
        }
        assertThat(calls).allMatch(CompletableFuture::isDone);
        balancer.close();
    }

    @Test
    void rejectsALoadFactorBelowOne() {
        assertThatThrownBy(
                        () -> Balancer.builder(Discover.of(endpoints("a", a))).consistentHash(Function.identity(), 0.5))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("loadFactor must be between 1.0 and 100.0, was 0.5");
    }
}
