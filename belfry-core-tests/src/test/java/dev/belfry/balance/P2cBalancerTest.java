package dev.belfry.balance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.Service;
import dev.belfry.discover.Discover;
import dev.belfry.load.Load;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class P2cBalancerTest extends BalancerContract {
    @Override
    <K, V> Balancer.Builder<K, V, String, String> strategy(Balancer.Builder<K, V, String, String> builder) {
        return builder.p2c();
    }

    @Test
    void ofTwoEndpointsTheLessLoadedGetsTheRequest() {
        Balancer<String, String> balancer = Balancer.builder(Discover.of(endpoints("a", a, "b", b)))
                .p2c(Load.pending())
                .clock(clock)
                .random(new SplittableRandom(SEED))
                .build();
        List<CompletableFuture<String>> calls = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            calls.add(balancer.call("x" + i));
        }
        assertThat(a.handle().admitted()).isEqualTo(5);
        assertThat(b.handle().admitted()).isEqualTo(5);
        for (int i = 0; i < 5; i++) {
            a.handle().respondNext("done");
        }
        calls.add(balancer.call("next"));
        assertThat(a.handle().admitted()).isEqualTo(6);
        a.handle().respondNext("done");
        for (int i = 0; i < 5; i++) {
            b.handle().respondNext("done");
        }
        assertThat(calls).allMatch(CompletableFuture::isDone);
        balancer.close();
    }

    @Test
    void spreadsEvenlyOverIdleEqualEndpoints() {
        Map<String, Service<String, String>> endpoints =
                endpoints("a", named("a"), "b", named("b"), "c", named("c"), "d", named("d"));
        Balancer<String, String> balancer = balancer(Discover.of(endpoints));
        Map<String, Integer> counts = spread(balancer, 4000);
        assertThat(counts.values()).allMatch(count -> count > 900 && count < 1100);
        balancer.close();
    }
}
