package dev.belfry.balance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.discover.Discover;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RoundRobinBalancerTest extends BalancerContract {
    @Override
    <K, V> Balancer.Builder<K, V, String, String> strategy(Balancer.Builder<K, V, String, String> builder) {
        return builder.roundRobin();
    }

    @Test
    void takesEachEndpointInTurn() {
        Balancer<String, String> balancer =
                balancer(Discover.of(endpoints("a", named("a"), "b", named("b"), "c", named("c"))));
        StringBuilder order = new StringBuilder();
        for (int i = 0; i < 6; i++) {
            order.append(balancer.call("x").join());
        }
        assertThat(order).hasToString("abcabc");
        assertThat(spread(balancer, 300)).isEqualTo(Map.of("a", 100, "b", 100, "c", 100));
        balancer.close();
    }
}
