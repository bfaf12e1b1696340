package dev.belfry.balance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.Service;
import dev.belfry.discover.Discover;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class WeightedRoundRobinBalancerTest extends BalancerContract {
    @Override
    <K, V> Balancer.Builder<K, V, String, String> strategy(Balancer.Builder<K, V, String, String> builder) {
        return builder.weightedRoundRobin();
    }

    private Balancer<String, String> weighted(Map<String, Integer> weights) {
        Map<String, Weighted> endpoints = new java.util.LinkedHashMap<>();
        weights.forEach((name, weight) -> endpoints.put(name, new Weighted(named(name), weight)));
        return Balancer.builder(Discover.of(endpoints), (String key, Weighted w) -> w.service())
                .weightedRoundRobin()
                .weight(Weighted::weight)
                .clock(clock)
                .random(new SplittableRandom(SEED))
                .build();
    }

    record Weighted(Service<String, String> service, int weight) {}

    @Test
    void sharesExactlyInProportionToWeight() {
        Map<String, Integer> weights = new java.util.LinkedHashMap<>();
        weights.put("a", 1);
        weights.put("b", 2);
        weights.put("c", 3);
        Balancer<String, String> balancer = weighted(weights);
        assertThat(spread(balancer, 600)).isEqualTo(Map.of("a", 100, "b", 200, "c", 300));
        balancer.close();
    }

    @Test
    void interleavesRatherThanSendingBursts() {
        Map<String, Integer> weights = new java.util.LinkedHashMap<>();
        weights.put("a", 5);
        weights.put("b", 1);
        weights.put("c", 1);
        Balancer<String, String> balancer = weighted(weights);
        StringBuilder order = new StringBuilder();
        for (int i = 0; i < 7; i++) {
            order.append(balancer.call("x").join());
        }
        // Nginx's documented sequence for weights 5, 1, 1.
        assertThat(order).hasToString("aabacaa");
        balancer.close();
    }
}
